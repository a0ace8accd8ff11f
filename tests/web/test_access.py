"""Every URL, with the named people: the owner may, the colleague with access may look
(read-only), the outsider and the teammate are refused, anonymous is sent to log in."""

from __future__ import annotations

import pytest

from commonfactors_web.accounts import access
from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert
from commonfactors_web.alerts.services import raise_risk_alert
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.clients.models import Client

from .helpers import PHQ9_RISK, browser_for, new_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkin(client_record: Client, owner: User) -> CheckIn:
    return new_link(client_record, owner, ["phq9"]).checkin


@pytest.fixture
def alert(client_record: Client, checkin: CheckIn) -> Alert:
    return raise_risk_alert(
        client_record.episodes.get(),
        checkin=checkin,
        instrument="phq9",
        risk_items=["phq9_9"],
        answers=PHQ9_RISK,
        session_number=None,
        notify=False,
    )


class TestCaseload:
    def test_it_lists_the_owners_clients(self, owner: User, client_record: Client) -> None:
        r = browser_for(owner).get("/clients/")
        assert r.status_code == 200
        assert b"C-0001" in r.content

    def test_it_lists_the_team_for_the_colleague(
        self, colleague: User, client_record: Client
    ) -> None:
        r = browser_for(colleague).get("/clients/")
        assert b"C-0001" in r.content
        assert b"Add a client" not in r.content

    def test_it_hides_other_clients_from_the_outsider(
        self, outsider: User, client_record: Client
    ) -> None:
        r = browser_for(outsider).get("/clients/")
        assert r.status_code == 200
        assert b"C-0001" not in r.content

    def test_it_hides_other_clients_from_the_teammate(
        self, teammate: User, client_record: Client
    ) -> None:
        assert b"C-0001" not in browser_for(teammate).get("/clients/").content

    def test_it_sends_anonymous_to_login(self, db: None) -> None:
        r = browser_for(None).get("/clients/")
        assert r.status_code == 302
        assert r["Location"].startswith("/accounts/login/")


class TestClientPage:
    def test_it_shows_the_owner_the_client(self, owner: User, client_record: Client) -> None:
        r = browser_for(owner).get(f"/clients/{client_record.pk}/")
        assert r.status_code == 200
        assert b"Create check-in link" in r.content

    def test_it_shows_the_colleague_read_only(self, colleague: User, client_record: Client) -> None:
        r = browser_for(colleague).get(f"/clients/{client_record.pk}/")
        assert r.status_code == 200
        assert b"read-only" in r.content
        assert b"Create check-in link" not in r.content

    def test_it_validates_ownership(self, outsider: User, client_record: Client) -> None:
        assert browser_for(outsider).get(f"/clients/{client_record.pk}/").status_code == 404

    def test_it_refuses_the_teammate(self, teammate: User, client_record: Client) -> None:
        assert browser_for(teammate).get(f"/clients/{client_record.pk}/").status_code == 404

    def test_it_refuses_the_admin(self, admin_user: User, client_record: Client) -> None:
        assert browser_for(admin_user).get(f"/clients/{client_record.pk}/").status_code == 404

    def test_it_sends_anonymous_to_login(self, client_record: Client) -> None:
        assert browser_for(None).get(f"/clients/{client_record.pk}/").status_code == 302


class TestAddClient:
    def test_it_adds_a_client_for_the_owner(self, owner: User, plan: object) -> None:
        r = browser_for(owner).post("/clients/new/", {"code": "C-0002", "preferred_language": "en"})
        assert r.status_code == 302
        client = Client.objects.get(code="C-0002")
        assert client.therapist == owner
        assert client.episodes.count() == 1

    def test_it_refuses_a_repeated_code(self, owner: User, client_record: Client) -> None:
        r = browser_for(owner).post("/clients/new/", {"code": "C-0001", "preferred_language": "en"})
        assert r.status_code == 200
        assert b"exists already" in r.content

    def test_it_refuses_the_colleague(self, colleague: User) -> None:
        assert browser_for(colleague).get("/clients/new/").status_code == 403

    def test_it_refuses_the_admin(self, admin_user: User) -> None:
        assert browser_for(admin_user).get("/clients/new/").status_code == 403

    def test_it_sends_anonymous_to_login(self, db: None) -> None:
        assert browser_for(None).get("/clients/new/").status_code == 302


class TestCreateCheckIn:
    def url(self, client: Client) -> str:
        return f"/clients/{client.pk}/checkins/"

    def test_it_creates_a_link_for_the_owner(self, owner: User, client_record: Client) -> None:
        r = browser_for(owner).post(self.url(client_record), {"instruments": ["phq9"]})
        assert r.status_code == 200
        assert b"/c/" in r.content
        assert CheckIn.objects.filter(episode__client=client_record).count() == 1

    def test_it_refuses_the_colleague(self, colleague: User, client_record: Client) -> None:
        r = browser_for(colleague).post(self.url(client_record), {"instruments": ["phq9"]})
        assert r.status_code == 403
        assert not CheckIn.objects.exists()

    def test_it_validates_ownership(self, outsider: User, client_record: Client) -> None:
        r = browser_for(outsider).post(self.url(client_record), {"instruments": ["phq9"]})
        assert r.status_code == 404
        assert not CheckIn.objects.exists()

    def test_it_refuses_get(self, owner: User, client_record: Client) -> None:
        assert browser_for(owner).get(self.url(client_record)).status_code == 405

    def test_it_sends_anonymous_to_login(self, client_record: Client) -> None:
        assert browser_for(None).post(self.url(client_record)).status_code == 302


class TestCheckInPage:
    def test_it_shows_the_owner_the_check_in(self, owner: User, checkin: CheckIn) -> None:
        r = browser_for(owner).get(f"/checkins/{checkin.pk}/")
        assert r.status_code == 200
        assert b"cannot be shown again" in r.content

    def test_it_shows_the_colleague(self, colleague: User, checkin: CheckIn) -> None:
        assert browser_for(colleague).get(f"/checkins/{checkin.pk}/").status_code == 200

    def test_it_validates_ownership(self, outsider: User, checkin: CheckIn) -> None:
        assert browser_for(outsider).get(f"/checkins/{checkin.pk}/").status_code == 404

    def test_it_sends_anonymous_to_login(self, checkin: CheckIn) -> None:
        assert browser_for(None).get(f"/checkins/{checkin.pk}/").status_code == 302


class TestResolveAlert:
    def url(self, alert: Alert) -> str:
        return f"/alerts/{alert.pk}/resolve/"

    def test_it_resolves_for_the_owner(self, owner: User, alert: Alert) -> None:
        r = browser_for(owner).post(self.url(alert), {"resolution": "Called; safety plan agreed."})
        assert r.status_code == 302
        alert.refresh_from_db()
        assert alert.resolved_by == owner
        assert alert.resolution == "Called; safety plan agreed."

    def test_it_needs_a_reason(self, owner: User, alert: Alert) -> None:
        browser_for(owner).post(self.url(alert), {"resolution": "  "})
        alert.refresh_from_db()
        assert alert.is_open

    def test_it_refuses_the_colleague(self, colleague: User, alert: Alert) -> None:
        r = browser_for(colleague).post(self.url(alert), {"resolution": "x"})
        assert r.status_code == 403
        alert.refresh_from_db()
        assert alert.is_open

    def test_it_validates_ownership(self, outsider: User, alert: Alert) -> None:
        assert browser_for(outsider).post(self.url(alert), {"resolution": "x"}).status_code == 404

    def test_it_sends_anonymous_to_login(self, alert: Alert) -> None:
        assert browser_for(None).post(self.url(alert), {"resolution": "x"}).status_code == 302


class TestAcknowledgeAlert:
    def url(self, alert: Alert) -> str:
        return f"/alerts/{alert.pk}/acknowledge/"

    def test_it_marks_the_alert_seen_and_keeps_it_open(self, owner: User, alert: Alert) -> None:
        assert browser_for(owner).post(self.url(alert)).status_code == 302
        alert.refresh_from_db()
        assert alert.acknowledged_by == owner
        assert alert.is_open

    def test_it_refuses_the_colleague(self, colleague: User, alert: Alert) -> None:
        assert browser_for(colleague).post(self.url(alert)).status_code == 403

    def test_it_validates_ownership(self, outsider: User, alert: Alert) -> None:
        assert browser_for(outsider).post(self.url(alert)).status_code == 404

    def test_it_sends_anonymous_to_login(self, alert: Alert) -> None:
        assert browser_for(None).post(self.url(alert)).status_code == 302


class TestAuditLogPage:
    def test_it_shows_the_admin_the_log(self, admin_user: User, client_record: Client) -> None:
        r = browser_for(admin_user).get("/audit/")
        assert r.status_code == 200
        assert b"client.create" in r.content

    def test_it_refuses_the_therapist(self, owner: User) -> None:
        assert browser_for(owner).get("/audit/").status_code == 403

    def test_it_refuses_the_colleague(self, colleague: User) -> None:
        assert browser_for(colleague).get("/audit/").status_code == 403

    def test_it_refuses_the_outsider(self, outsider: User) -> None:
        assert browser_for(outsider).get("/audit/").status_code == 403

    def test_it_sends_anonymous_to_login(self, db: None) -> None:
        assert browser_for(None).get("/audit/").status_code == 302


class TestHome:
    def test_it_sends_the_therapist_to_the_caseload(self, owner: User) -> None:
        assert browser_for(owner).get("/")["Location"] == "/clients/"

    def test_it_sends_the_admin_to_the_audit_log(self, admin_user: User) -> None:
        assert browser_for(admin_user).get("/")["Location"] == "/audit/"

    def test_it_sends_anonymous_to_login(self, db: None) -> None:
        assert browser_for(None).get("/")["Location"].startswith("/accounts/login/")


class TestAccessRules:
    def test_the_therapist_sees_only_their_own_clients(
        self, owner: User, teammate: User, client_record: Client
    ) -> None:
        assert list(access.visible_clients(owner)) == [client_record]
        assert list(access.visible_clients(teammate)) == []

    def test_the_supervisor_sees_the_team_but_changes_nothing(
        self, colleague: User, client_record: Client
    ) -> None:
        assert access.can_view_client(colleague, client_record)
        assert not access.can_change_client(colleague, client_record)

    def test_an_inactive_owner_sees_nothing(self, owner: User, client_record: Client) -> None:
        owner.is_active = False
        assert list(access.visible_clients(owner)) == []
