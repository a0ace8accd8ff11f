"""The audit log: every read or write of client data is recorded; nothing is changed."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AppendOnlyError, AuditEvent
from commonfactors_web.audit.services import record
from commonfactors_web.clients.models import Client

from .helpers import browser_for, new_link

pytestmark = pytest.mark.django_db


class TestAppendOnly:
    def test_an_event_cannot_be_changed(self, client_record: Client) -> None:
        event = AuditEvent.objects.first()
        assert event is not None
        event.action = "something.else"
        with pytest.raises(AppendOnlyError):
            event.save()

    def test_an_event_cannot_be_deleted(self, client_record: Client) -> None:
        event = AuditEvent.objects.first()
        assert event is not None
        with pytest.raises(AppendOnlyError):
            event.delete()

    def test_events_cannot_be_updated_or_deleted_in_bulk(self, client_record: Client) -> None:
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().update(action="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(client=client_record).delete()
        assert AuditEvent.objects.filter(action="client.create").count() == 1

    def test_the_database_refuses_an_update_that_bypasses_the_app(
        self, client_record: Client
    ) -> None:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE audit_auditevent SET action = 'tampered'")
        assert not AuditEvent.objects.filter(action="tampered").exists()

    def test_on_postgresql_a_delete_needs_the_deliberate_purge_switch(
        self, client_record: Client
    ) -> None:
        if connection.vendor != "postgresql":
            # SQLite: deletes are refused by the app alone (see the migration's docstring)
            assert connection.vendor == "sqlite"
            return
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM audit_auditevent")
        assert AuditEvent.objects.exists()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL commonfactors.audit_purge = 'on'")
            cursor.execute("DELETE FROM audit_auditevent WHERE client_id = %s", [client_record.pk])
        assert not AuditEvent.objects.filter(client=client_record).exists()

    def test_the_admin_is_read_only(self, admin_user: User, client_record: Client) -> None:
        model_admin = site._registry[AuditEvent]
        request = RequestFactory().get("/")
        request.user = admin_user
        event = AuditEvent.objects.first()
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, event)
        assert not model_admin.has_delete_permission(request, event)
        assert model_admin.has_view_permission(request, event)


class TestRecording:
    def test_it_records_who_what_which_client_and_when(
        self, owner: User, client_record: Client
    ) -> None:
        event = record(owner, "client.view", client=client_record, obj=client_record, note=1)
        assert event.actor == owner
        assert event.actor_label == "olivia (therapist)"
        assert (event.client, event.object_type, event.object_id) == (
            client_record,
            "Client",
            str(client_record.pk),
        )
        assert event.created_at is not None and event.detail == {"note": 1}

    def test_viewing_a_client_is_recorded(self, colleague: User, client_record: Client) -> None:
        browser_for(colleague).get(f"/clients/{client_record.pk}/")
        assert AuditEvent.objects.filter(
            actor=colleague, action="client.view", client=client_record
        ).exists()

    def test_viewing_the_caseload_is_recorded_with_the_clients_shown(
        self, owner: User, client_record: Client
    ) -> None:
        browser_for(owner).get("/clients/")
        event = AuditEvent.objects.get(action="caseload.view")
        assert event.detail == {"clients": [client_record.pk]}

    def test_creating_and_opening_a_link_are_recorded(
        self, owner: User, client_record: Client
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        browser_for(None).get(f"/c/{link.token}/")
        opened = AuditEvent.objects.get(action="checkin.open")
        assert opened.actor is None and opened.actor_label == "client via check-in link"
        assert AuditEvent.objects.filter(action="checkin.create", actor=owner).exists()

    def test_a_refused_view_records_nothing_about_the_client(
        self, outsider: User, client_record: Client
    ) -> None:
        browser_for(outsider).get(f"/clients/{client_record.pk}/")
        assert not AuditEvent.objects.filter(actor=outsider).exists()
