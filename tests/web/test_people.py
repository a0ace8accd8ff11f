"""Admins manage people in the Django admin; therapists e-mail links to their clients."""

from __future__ import annotations

import pytest
from django.core import mail

from commonfactors_web.accounts.models import Role, User
from commonfactors_web.accounts.services import create_user
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.clients.models import Client

from .helpers import browser_for

pytestmark = pytest.mark.django_db


class TestAdmin:
    def test_the_admin_manages_users(self, admin_user: User, owner: User) -> None:
        browser = browser_for(admin_user)
        page = browser.get("/admin/accounts/user/")
        assert page.status_code == 200
        assert b"olivia" in page.content
        assert browser.get(f"/admin/accounts/user/{owner.pk}/change/").status_code == 200

    def test_the_admin_sees_no_client_records_there(
        self, admin_user: User, client_record: Client
    ) -> None:
        browser = browser_for(admin_user)
        assert browser.get("/admin/clients/client/").status_code == 403
        assert browser.get("/admin/checkins/administration/").status_code == 403

    def test_therapists_and_supervisors_have_no_admin(self, owner: User, colleague: User) -> None:
        for person in (owner, colleague):
            assert browser_for(person).get("/admin/accounts/user/").status_code == 302

    def test_a_role_must_be_known(self, practice: object) -> None:
        with pytest.raises(ValueError, match="role must be one of"):
            create_user("x", "pw-long-enough", role="owner", practice=practice)  # type: ignore[arg-type]

    def test_the_admin_role_is_staff_and_others_are_not(
        self, admin_user: User, owner: User
    ) -> None:
        assert admin_user.is_staff and admin_user.role == Role.ADMIN
        assert not owner.is_staff


class TestEmailLink:
    def test_it_emails_the_link_to_the_client(self, owner: User, client_record: Client) -> None:
        r = browser_for(owner).post(
            f"/clients/{client_record.pk}/checkins/", {"instruments": ["phq9"], "email": "1"}
        )
        assert b"was e-mailed to the client" in r.content
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["client@example.org"]
        link = r.content.decode().split(
            'id="checkin-url" class="link-box" type="text" readonly value="'
        )[1]
        assert link.split('"')[0] in message.body
        assert CheckIn.objects.get().emailed_at is not None

    def test_it_says_so_when_there_is_no_address(self, owner: User, plan: object) -> None:
        from commonfactors_web.clients.services import create_client

        client = create_client(owner, "C-0009")
        r = browser_for(owner).post(
            f"/clients/{client.pk}/checkins/", {"instruments": ["phq9"], "email": "1"}
        )
        assert b"could not be e-mailed" in r.content
        assert mail.outbox == []
