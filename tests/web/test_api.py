"""The REST API (/api/v1/) with the named people, each through a token of their own: the owner
may, the colleague (supervisor) may look but not change (403), the teammate, the outsider
and the admin get 404 for what they may not see, and a request without a good token gets
401. Every read of client data is audited; tokens and links are never sent back twice."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client as Browser
from django.utils import timezone
from pytest_django.fixtures import Settings

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.alerts.services import raise_risk_alert
from commonfactors_web.api.models import ApiToken
from commonfactors_web.api.services import TokenError, create_token, revoke_token
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins import services as checkins
from commonfactors_web.checkins.models import CheckIn, MeasurementPlan, Score
from commonfactors_web.clients.models import Attendance, Client, Episode
from commonfactors_web.clients.services import create_client

from .browser import DESKTOP, Person, log_in
from .helpers import GAD7_MODERATE, PHQ9_MILD, PHQ9_RISK, browser_for, new_link

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


def api_for(user: User | None) -> Browser:
    """A program calling the API with a new token of ``user`` (None: no token at all)."""
    if user is None:
        return Browser()
    return Browser(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'tests').secret}")


def post(api: Browser, url: str, body: Any = None) -> Any:
    return api.post(url, json.dumps(body or {}), content_type="application/json")


def problems(response: Any) -> dict[str, str]:
    """The problems of a 422 response, by location."""
    return {".".join(map(str, p["location"])): p["message"] for p in response.json()["problems"]}


def phq9(total: int) -> dict[str, Any]:
    answers = {f"phq9_{i}": 0 for i in range(1, 10)}
    for i in range(total):
        answers[f"phq9_{i % 8 + 1}"] += 1
    return {"answers": answers}


@pytest.fixture
def episode(client_record: Client) -> Episode:
    return client_record.episodes.get()


@pytest.fixture
def history(episode: Episode) -> Episode:
    """Three sessions of C-0001, getting worse (PHQ-9 10, 16, 22): scores and signals."""
    today = timezone.localdate()
    for n, total in enumerate((10, 16, 22), start=1):
        checkins.record_past_session(
            episode,
            n,
            today - timedelta(days=28 - 7 * n),
            Attendance.ATTENDED,
            {"phq9": phq9(total)},
        )
    return episode


@pytest.fixture
def checkin(client_record: Client, owner: User) -> CheckIn:
    return new_link(client_record, owner, ["phq9"]).checkin


@pytest.fixture
def risk_alert(episode: Episode, checkin: CheckIn) -> Alert:
    return raise_risk_alert(
        episode,
        checkin=checkin,
        instrument="phq9",
        risk_items=["phq9_9"],
        answers=PHQ9_RISK,
        session_number=None,
        notify=False,
    )


@pytest.fixture
def red_alert(episode: Episode) -> Alert:
    return Alert.objects.create(
        episode=episode, kind=AlertKind.NOT_ON_TRACK, instrument="phq9", summary="red"
    )


def audited(action: str, user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, actor=user))


# ------------------------------------------------------------------ tokens


class TestTokens:
    def test_it_stores_only_the_hash_and_a_prefix(self, owner: User) -> None:
        new = create_token(owner, "export script")
        stored = ApiToken.objects.get()
        assert new.secret.startswith("cf_") and len(new.secret) > 40
        assert stored.token_hash == hashlib.sha256(new.secret.encode()).hexdigest()
        assert stored.prefix == new.secret[:10]
        values = [str(v) for v in ApiToken.objects.values().get().values()]
        assert new.secret not in values

    def test_it_names_every_problem_at_once(self, owner: User) -> None:
        with pytest.raises(TokenError) as caught:
            create_token(owner, "  ", days=7)
        assert len(caught.value.problems) == 2
        assert not ApiToken.objects.exists()

    def test_making_and_revoking_are_audited(self, owner: User) -> None:
        new = create_token(owner, "export script")
        revoke_token(new.token, owner)
        revoke_token(new.token, owner)  # a second time changes nothing
        assert len(audited("api_token.create", owner)) == 1
        assert len(audited("api_token.revoke", owner)) == 1
        assert new.secret not in json.dumps(list(AuditEvent.objects.values("detail")))

    def test_only_the_owner_revokes(self, owner: User, outsider: User) -> None:
        new = create_token(owner, "x")
        with pytest.raises(PermissionError):
            revoke_token(new.token, outsider)

    def test_a_good_token_works_and_its_use_is_recorded(self, owner: User) -> None:
        new = create_token(owner, "x")
        r = Browser(HTTP_AUTHORIZATION=f"Bearer {new.secret}").get(f"{V1}/me")
        assert r.status_code == 200
        assert r.json()["username"] == "olivia" and r.json()["token_name"] == "x"
        new.token.refresh_from_db()
        assert new.token.last_used_at is not None

    def test_a_revoked_token_is_refused(self, owner: User) -> None:
        new = create_token(owner, "x")
        revoke_token(new.token, owner)
        r = Browser(HTTP_AUTHORIZATION=f"Bearer {new.secret}").get(f"{V1}/me")
        assert r.status_code == 401

    def test_an_expired_token_is_refused(self, owner: User) -> None:
        new = create_token(owner, "x", days=30, now=timezone.now() - timedelta(days=31))
        assert Browser(HTTP_AUTHORIZATION=f"Bearer {new.secret}").get(f"{V1}/me").status_code == 401

    def test_the_token_of_a_deactivated_account_is_refused(self, owner: User) -> None:
        new = create_token(owner, "x")
        User.objects.filter(pk=owner.pk).update(is_active=False)
        assert Browser(HTTP_AUTHORIZATION=f"Bearer {new.secret}").get(f"{V1}/me").status_code == 401

    @pytest.mark.parametrize(
        "header", [None, "Bearer", "Bearer cf_unknown", "Token cf_x", "Basic b2xpdmlhOng="]
    )
    def test_no_good_token_is_401_saying_how(self, db: None, header: str | None) -> None:
        browser = Browser(HTTP_AUTHORIZATION=header) if header else Browser()
        r = browser.get(f"{V1}/clients")
        assert r.status_code == 401
        assert r["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in r.json()["detail"]

    def test_a_logged_in_browser_is_not_enough(self, owner: User, client_record: Client) -> None:
        r = browser_for(owner).get(f"{V1}/clients")
        assert r.status_code == 401

    def test_too_many_bad_tokens_from_one_address_are_throttled(
        self, settings: Settings, owner: User
    ) -> None:
        settings.CF_BAD_TOKEN_ATTEMPTS = 3
        for _ in range(3):
            assert (
                api_for(None).get(f"{V1}/me", HTTP_AUTHORIZATION="Bearer cf_guess").status_code
                == 401
            )
        r = api_for(owner).get(f"{V1}/me")  # even a good token, from that address
        assert r.status_code == 429
        assert r["Retry-After"]
        other = api_for(owner).get(f"{V1}/me", REMOTE_ADDR="10.0.0.9")
        assert other.status_code == 200

    def test_a_post_with_a_token_needs_no_csrf_token(
        self, owner: User, client_record: Client
    ) -> None:
        secret = create_token(owner, "x").secret
        api = Browser(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
        r = post(api, f"{V1}/clients/{client_record.pk}/checkins", {"instruments": ["phq9"]})
        assert r.status_code == 201


class TestTokenPage:
    url = "/api/tokens/"

    def test_it_sends_anonymous_to_login(self, db: None) -> None:
        r = browser_for(None).get(self.url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")

    @pytest.mark.parametrize("person", ["owner", "colleague", "teammate", "outsider", "admin_user"])
    def test_everyone_makes_their_own_token_and_sees_it_once(
        self, request: pytest.FixtureRequest, person: str
    ) -> None:
        user = request.getfixturevalue(person)
        browser = browser_for(user)
        assert browser.get(self.url).status_code == 200
        r = browser.post(self.url, {"name": "my script", "days": "90"})
        assert r.status_code == 200
        token = ApiToken.objects.get(user=user)
        secret = r.context["secret"]
        assert hashlib.sha256(secret.encode()).hexdigest() == token.token_hash
        assert secret.encode() in r.content
        listing = browser.get(self.url)
        assert secret.encode() not in listing.content
        assert token.prefix.encode() in listing.content
        assert token.token_hash.encode() not in listing.content
        assert Browser(HTTP_AUTHORIZATION=f"Bearer {secret}").get(f"{V1}/me").status_code == 200

    def test_it_names_every_problem(self, owner: User) -> None:
        r = browser_for(owner).post(self.url, {"name": "", "days": "7"})
        assert r.status_code == 422
        assert set(r.context["form"].errors) == {"name", "days"}
        assert not ApiToken.objects.exists()

    def test_it_lists_only_the_persons_own_tokens(self, owner: User, outsider: User) -> None:
        create_token(outsider, "otto's script")
        create_token(owner, "olivia's script")
        page = browser_for(owner).get(self.url).content
        assert b"olivia&#x27;s script" in page and b"otto" not in page

    def test_the_owner_revokes_a_token(self, owner: User) -> None:
        new = create_token(owner, "x")
        r = browser_for(owner).post(f"/api/tokens/{new.token.pk}/revoke/")
        assert r.status_code == 302
        new.token.refresh_from_db()
        assert new.token.state == "revoked"
        assert Browser(HTTP_AUTHORIZATION=f"Bearer {new.secret}").get(f"{V1}/me").status_code == 401

    @pytest.mark.parametrize("person", ["colleague", "teammate", "outsider", "admin_user"])
    def test_no_one_else_revokes_it(self, request: pytest.FixtureRequest, person: str) -> None:
        owner = request.getfixturevalue("owner")
        new = create_token(owner, "x")
        browser = browser_for(request.getfixturevalue(person))
        assert browser.post(f"/api/tokens/{new.token.pk}/revoke/").status_code == 404
        new.token.refresh_from_db()
        assert new.token.state == "active"

    def test_revoking_needs_a_post_and_a_login(self, owner: User) -> None:
        new = create_token(owner, "x")
        assert browser_for(owner).get(f"/api/tokens/{new.token.pk}/revoke/").status_code == 405
        assert browser_for(None).post(f"/api/tokens/{new.token.pk}/revoke/").status_code == 302
        new.token.refresh_from_db()
        assert new.token.state == "active"


# ------------------------------------------------------------------ people and instruments


class TestMe:
    @pytest.mark.parametrize(
        ("person", "role", "adds"),
        [
            ("owner", "therapist", True),
            ("colleague", "supervisor", False),
            ("teammate", "therapist", True),
            ("outsider", "therapist", True),
            ("admin_user", "admin", False),
        ],
    )
    def test_it_says_who_the_token_acts_as(
        self, request: pytest.FixtureRequest, person: str, role: str, adds: bool
    ) -> None:
        user = request.getfixturevalue(person)
        me = api_for(user).get(f"{V1}/me").json()
        assert (me["id"], me["role"], me["can_add_clients"]) == (user.pk, role, adds)

    @pytest.mark.parametrize("person", ["owner", "colleague", "teammate", "outsider", "admin_user"])
    def test_it_lists_the_instruments_a_check_in_may_ask(
        self, request: pytest.FixtureRequest, person: str
    ) -> None:
        ids = [
            i["id"]
            for i in api_for(request.getfixturevalue(person)).get(f"{V1}/instruments").json()
        ]
        assert {"phq9", "gad7"} <= set(ids)

    def test_anonymous_is_refused(self, db: None) -> None:
        assert api_for(None).get(f"{V1}/me").status_code == 401
        assert api_for(None).get(f"{V1}/instruments").status_code == 401


# ------------------------------------------------------------------ clients


class TestClients:
    def test_the_owner_sees_her_client(self, owner: User, client_record: Client) -> None:
        body = api_for(owner).get(f"{V1}/clients").json()
        assert body["count"] == 1
        (item,) = body["items"]
        assert item["code"] == "C-0001" and item["can_change"] is True
        assert item["current_episode_id"] == client_record.episodes.get().pk
        assert item["therapist"] == {"id": owner.pk, "display_name": "Olivia"}

    def test_the_colleague_sees_it_read_only(self, colleague: User, client_record: Client) -> None:
        (item,) = api_for(colleague).get(f"{V1}/clients").json()["items"]
        assert item["code"] == "C-0001" and item["can_change"] is False

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_others_see_none_of_her_clients(
        self, request: pytest.FixtureRequest, person: str, client_record: Client
    ) -> None:
        body = api_for(request.getfixturevalue(person)).get(f"{V1}/clients").json()
        assert body == {"count": 0, "limit": 20, "offset": 0, "items": []}

    def test_anonymous_is_refused(self, client_record: Client) -> None:
        assert api_for(None).get(f"{V1}/clients").status_code == 401

    def test_it_pages_with_a_total_count(self, owner: User, plan: MeasurementPlan) -> None:
        for n in range(1, 6):
            create_client(owner, f"C-{n:04d}", measurement_plan=plan)
        body = api_for(owner).get(f"{V1}/clients", {"limit": 2, "offset": 2}).json()
        assert body["count"] == 5
        assert [c["code"] for c in body["items"]] == ["C-0003", "C-0004"]

    def test_it_names_every_paging_problem_at_once(self, owner: User) -> None:
        r = api_for(owner).get(f"{V1}/clients", {"limit": 101, "offset": -1, "limt": 5})
        assert r.status_code == 422
        assert set(problems(r)) == {"query.limit", "query.offset", "query.limt"}
        assert problems(r)["query.limt"] == "unknown query parameter"

    def test_an_unknown_query_parameter_alone_is_refused(self, owner: User) -> None:
        r = api_for(owner).get(f"{V1}/me", {"verbose": 1})
        assert r.status_code == 422 and set(problems(r)) == {"query.verbose"}

    def test_it_finds_by_code_or_name(self, owner: User, plan: MeasurementPlan) -> None:
        create_client(owner, "C-0101", name="Ruth", measurement_plan=plan)
        create_client(owner, "C-0102", measurement_plan=plan)
        api = api_for(owner)
        assert [c["code"] for c in api.get(f"{V1}/clients", {"q": "ruth"}).json()["items"]] == [
            "C-0101"
        ]
        assert api.get(f"{V1}/clients", {"q": "0102"}).json()["count"] == 1

    def test_the_list_is_audited(self, owner: User, client_record: Client) -> None:
        api_for(owner).get(f"{V1}/clients")
        (event,) = audited("client.list", owner)
        assert event.detail["clients"] == [client_record.pk] and event.detail["via"] == "api"


class TestClient:
    def url(self, client: Client) -> str:
        return f"{V1}/clients/{client.pk}"

    def test_it_shows_the_owner_the_client_and_audits_it(
        self, owner: User, client_record: Client
    ) -> None:
        r = api_for(owner).get(self.url(client_record))
        assert r.status_code == 200 and r.json()["email"] == "client@example.org"
        (event,) = audited("client.view", owner)
        assert event.client == client_record and event.detail["via"] == "api"

    def test_it_shows_the_colleague_read_only(self, colleague: User, client_record: Client) -> None:
        r = api_for(colleague).get(self.url(client_record))
        assert r.status_code == 200 and r.json()["can_change"] is False

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_it_is_not_found_for_others(
        self, request: pytest.FixtureRequest, person: str, client_record: Client
    ) -> None:
        r = api_for(request.getfixturevalue(person)).get(self.url(client_record))
        assert r.status_code == 404
        assert r.json()["detail"].startswith("Not found")
        assert b"C-0001" not in r.content

    def test_a_missing_client_looks_the_same(self, owner: User) -> None:
        assert api_for(owner).get(f"{V1}/clients/999999").status_code == 404

    def test_anonymous_is_refused(self, client_record: Client) -> None:
        assert api_for(None).get(self.url(client_record)).status_code == 401

    def test_a_bad_id_is_422(self, owner: User) -> None:
        r = api_for(owner).get(f"{V1}/clients/0")
        assert r.status_code == 422 and set(problems(r)) == {"path.client_id"}


class TestAddClient:
    url = f"{V1}/clients"

    def test_the_owner_adds_a_client_with_a_first_episode(
        self, owner: User, plan: MeasurementPlan
    ) -> None:
        r = post(api_for(owner), self.url, {"code": " C-0009 ", "name": "Ruth", "birth_year": 1990})
        assert r.status_code == 201
        client = Client.objects.get(code="C-0009")
        assert client.therapist == owner and client.name == "Ruth"
        assert r.json()["current_episode_id"] == client.episodes.get().pk
        assert len(audited("client.create", owner)) == 1

    def test_it_names_every_problem_of_the_form_at_once(
        self, owner: User, client_record: Client
    ) -> None:
        r = post(api_for(owner), self.url, {"code": "C-0001", "email": "not an address"})
        assert r.status_code == 422
        assert set(problems(r)) == {"body.code", "body.email"}
        assert "exists already" in problems(r)["body.code"]
        assert Client.objects.count() == 1

    def test_it_names_every_problem_of_the_schema_at_once(self, owner: User) -> None:
        r = post(api_for(owner), self.url, {"code": "   ", "birth_year": 1800, "colour": "red"})
        assert r.status_code == 422
        assert set(problems(r)) == {"body.code", "body.birth_year", "body.colour"}
        assert problems(r)["body.colour"] == "unknown field"
        assert not Client.objects.exists()

    def test_a_body_that_is_not_json_is_400(self, owner: User) -> None:
        r = api_for(owner).post(self.url, "{code", content_type="application/json")
        assert r.status_code == 400 and "detail" in r.json()

    @pytest.mark.parametrize("person", ["colleague", "admin_user"])
    def test_those_who_add_no_clients_are_refused(
        self, request: pytest.FixtureRequest, person: str
    ) -> None:
        r = post(api_for(request.getfixturevalue(person)), self.url, {"code": "C-0009"})
        assert r.status_code == 403 and "Only a therapist" in r.json()["detail"]
        assert not Client.objects.filter(code="C-0009").exists()

    def test_the_outsider_adds_to_his_own_practice_only(
        self, owner: User, outsider: User, client_record: Client
    ) -> None:
        r = post(api_for(outsider), self.url, {"code": "C-0001"})
        assert r.status_code == 201  # the code is new in his practice
        added = Client.objects.get(pk=r.json()["id"])
        assert added.practice_id == outsider.practice_id
        assert api_for(owner).get(f"{V1}/clients/{added.pk}").status_code == 404

    def test_anonymous_is_refused(self, db: None) -> None:
        assert post(api_for(None), self.url, {"code": "C-0009"}).status_code == 401
        assert not Client.objects.exists()


# ------------------------------------------------------------------ episodes, scores, signals


class TestEpisodes:
    def test_the_owner_lists_and_reads_episodes(self, owner: User, history: Episode) -> None:
        api = api_for(owner)
        body = api.get(f"{V1}/clients/{history.client_id}/episodes").json()
        assert body["count"] == 1 and body["items"][0]["sessions"] == 3
        one = api.get(f"{V1}/episodes/{history.pk}").json()
        assert one["status"] == "active" and one["measurement_plan"]["name"].startswith("PHQ-9")
        assert len(audited("episode.list", owner)) == 1
        assert audited("episode.view", owner)[0].client_id == history.client_id

    def test_the_colleague_reads_them(self, colleague: User, history: Episode) -> None:
        api = api_for(colleague)
        assert api.get(f"{V1}/clients/{history.client_id}/episodes").json()["count"] == 1
        assert api.get(f"{V1}/episodes/{history.pk}").status_code == 200

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_others_get_404(
        self, request: pytest.FixtureRequest, person: str, history: Episode
    ) -> None:
        api = api_for(request.getfixturevalue(person))
        for url in (
            f"{V1}/clients/{history.client_id}/episodes",
            f"{V1}/episodes/{history.pk}",
            f"{V1}/episodes/{history.pk}/scores",
            f"{V1}/episodes/{history.pk}/signals",
        ):
            assert api.get(url).status_code == 404, url

    def test_anonymous_is_refused(self, history: Episode) -> None:
        for url in (
            f"{V1}/clients/{history.client_id}/episodes",
            f"{V1}/episodes/{history.pk}",
            f"{V1}/episodes/{history.pk}/scores",
            f"{V1}/episodes/{history.pk}/signals",
        ):
            assert api_for(None).get(url).status_code == 401, url


class TestScoresAndSignals:
    def test_the_owner_reads_the_scores_with_their_raw_answers(
        self, owner: User, history: Episode
    ) -> None:
        body = api_for(owner).get(f"{V1}/episodes/{history.pk}/scores").json()
        assert body["count"] == 3
        assert [(s["session_number"], s["total"]) for s in body["items"]] == [
            (1, 10.0),
            (2, 16.0),
            (3, 22.0),
        ]
        first = body["items"][0]
        assert first["answers"] == phq9(10)["answers"]
        assert first["definition_version"] and first["rules"]
        (event,) = audited("score.list", owner)
        assert sorted(event.detail["scores"]) == sorted(Score.objects.values_list("pk", flat=True))

    def test_scores_page_and_filter_by_instrument(self, owner: User, history: Episode) -> None:
        api = api_for(owner)
        page = api.get(f"{V1}/episodes/{history.pk}/scores", {"limit": 1, "offset": 2}).json()
        assert page["count"] == 3 and page["items"][0]["session_number"] == 3
        assert (
            api.get(f"{V1}/episodes/{history.pk}/scores", {"instrument": "gad7"}).json()["count"]
            == 0
        )

    def test_the_owner_reads_the_signals_as_the_library_judged(
        self, owner: User, history: Episode
    ) -> None:
        body = api_for(owner).get(f"{V1}/episodes/{history.pk}/signals").json()
        stored = Signal.objects.filter(episode=history).order_by("session_number")
        assert body["count"] == stored.count() > 0
        last, stored_last = body["items"][-1], stored.last()
        assert stored_last is not None
        assert (last["status"], last["rule"], last["score"]) == (
            stored_last.status,
            stored_last.rule,
            stored_last.score,
        )
        assert len(audited("signal.list", owner)) == 1

    def test_the_colleague_reads_them(self, colleague: User, history: Episode) -> None:
        api = api_for(colleague)
        assert api.get(f"{V1}/episodes/{history.pk}/scores").json()["count"] == 3
        assert api.get(f"{V1}/episodes/{history.pk}/signals").status_code == 200


# ------------------------------------------------------------------ check-ins


class TestCreateCheckIn:
    def url(self, client: Client) -> str:
        return f"{V1}/clients/{client.pk}/checkins"

    def test_the_owner_gets_the_link_once(self, owner: User, client_record: Client) -> None:
        api = api_for(owner)
        r = post(api, self.url(client_record), {"instruments": ["gad7", "phq9"]})
        assert r.status_code == 201
        body = r.json()
        checkin = CheckIn.objects.get(pk=body["id"])
        assert body["url"] == f"http://testserver/c/{body['token']}/"
        assert checkin.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
        assert body["state"] == "open" and body["emailed"] is False
        assert checkin.token_hash not in r.content.decode()
        # the link works for the client ...
        assert Browser().get(f"/c/{body['token']}/").status_code == 200
        # ... and is never shown again
        again = api.get(f"{V1}/checkins/{checkin.pk}").content.decode()
        assert body["token"] not in again and checkin.token_hash not in again
        listed = api.get(self.url(client_record)).content.decode()
        assert body["token"] not in listed
        assert len(audited("checkin.create", owner)) == 1

    def test_without_instruments_it_asks_what_the_plan_says_is_due(
        self, owner: User, client_record: Client
    ) -> None:
        r = post(api_for(owner), self.url(client_record))
        assert r.status_code == 201 and r.json()["instruments"] == ["phq9", "gad7"]

    def test_it_can_email_the_link(self, owner: User, client_record: Client) -> None:
        r = post(api_for(owner), self.url(client_record), {"instruments": ["phq9"], "email": True})
        assert r.json()["emailed"] is True
        (message,) = mail.outbox
        assert message.to == ["client@example.org"] and r.json()["token"] in message.body

    def test_it_names_every_bad_instrument(self, owner: User, client_record: Client) -> None:
        r = post(api_for(owner), self.url(client_record), {"instruments": ["phq9", "nope", "x"]})
        assert r.status_code == 422
        assert set(problems(r)) == {"body.instruments.1", "body.instruments.2"}
        assert not CheckIn.objects.exists()

    def test_an_empty_choice_is_refused(self, owner: User, client_record: Client) -> None:
        r = post(api_for(owner), self.url(client_record), {"instruments": []})
        assert r.status_code == 422 and set(problems(r)) == {"body.instruments"}

    def test_a_plan_with_nothing_due_asks_for_a_choice(self, owner: User) -> None:
        client = create_client(owner, "C-0050")  # no measurement plan in this practice
        r = post(api_for(owner), self.url(client))
        assert r.status_code == 422
        assert "choose at least one instrument" in problems(r)["body.instruments"]

    def test_the_colleague_is_refused(self, colleague: User, client_record: Client) -> None:
        r = post(api_for(colleague), self.url(client_record), {"instruments": ["phq9"]})
        assert r.status_code == 403 and "Read-only" in r.json()["detail"]
        assert not CheckIn.objects.exists()

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_others_get_404(
        self, request: pytest.FixtureRequest, person: str, client_record: Client
    ) -> None:
        r = post(
            api_for(request.getfixturevalue(person)),
            self.url(client_record),
            {"instruments": ["phq9"]},
        )
        assert r.status_code == 404
        assert not CheckIn.objects.exists()

    def test_anonymous_is_refused(self, client_record: Client) -> None:
        assert post(api_for(None), self.url(client_record)).status_code == 401
        assert not CheckIn.objects.exists()


class TestCheckIns:
    def test_the_owner_sees_the_scores_a_check_in_brought(
        self, owner: User, checkin: CheckIn
    ) -> None:
        api = api_for(owner)
        assert api.get(f"{V1}/checkins/{checkin.pk}").json()["scores"] == []
        assert checkins.answer(checkin.pk, "phq9", PHQ9_MILD).status == "submitted"
        body = api.get(f"{V1}/checkins/{checkin.pk}").json()
        assert body["state"] == "used" and body["session_number"] == 1
        assert [(s["instrument"], s["total"]) for s in body["scores"]] == [("phq9", 8.0)]
        assert len(audited("checkin.view", owner)) == 2

    def test_the_list_pages_newest_first(self, owner: User, client_record: Client) -> None:
        first = new_link(client_record, owner, ["phq9"]).checkin
        second = new_link(client_record, owner, ["gad7"]).checkin
        checkins.answer(second.pk, "gad7", GAD7_MODERATE)
        body = api_for(owner).get(f"{V1}/clients/{client_record.pk}/checkins").json()
        assert [c["id"] for c in body["items"]] == [second.pk, first.pk]
        assert [c["state"] for c in body["items"]] == ["used", "open"]
        (event,) = audited("checkin.list", owner)
        assert event.client == client_record

    def test_the_colleague_reads_them(self, colleague: User, checkin: CheckIn) -> None:
        api = api_for(colleague)
        assert api.get(f"{V1}/checkins/{checkin.pk}").status_code == 200
        client_id = checkin.episode.client_id
        assert api.get(f"{V1}/clients/{client_id}/checkins").json()["count"] == 1

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_others_get_404(
        self, request: pytest.FixtureRequest, person: str, checkin: CheckIn
    ) -> None:
        api = api_for(request.getfixturevalue(person))
        assert api.get(f"{V1}/checkins/{checkin.pk}").status_code == 404
        assert api.get(f"{V1}/clients/{checkin.episode.client_id}/checkins").status_code == 404

    def test_anonymous_is_refused(self, checkin: CheckIn) -> None:
        assert api_for(None).get(f"{V1}/checkins/{checkin.pk}").status_code == 401
        url = f"{V1}/clients/{checkin.episode.client_id}/checkins"
        assert api_for(None).get(url).status_code == 401


# ------------------------------------------------------------------ alerts


class TestAlerts:
    def test_the_owner_lists_open_alerts_most_urgent_first(
        self, owner: User, red_alert: Alert, risk_alert: Alert
    ) -> None:
        body = api_for(owner).get(f"{V1}/alerts").json()
        assert [a["id"] for a in body["items"]] == [risk_alert.pk, red_alert.pk]
        risk = body["items"][0]
        assert risk["kind"] == "risk" and risk["can_change"] is True
        assert risk["resolved_by_support_review"] is False
        assert body["items"][1]["resolved_by_support_review"] is True
        (event,) = audited("alert.list", owner)
        assert event.detail["clients"] == [risk_alert.episode.client_id]

    def test_it_filters_by_state_and_client(
        self, owner: User, risk_alert: Alert, red_alert: Alert
    ) -> None:
        from commonfactors_web.alerts.services import resolve

        resolve(risk_alert, owner, "Called; safety plan agreed.")
        api = api_for(owner)
        resolved = api.get(f"{V1}/alerts", {"state": "resolved"}).json()
        assert [a["id"] for a in resolved["items"]] == [risk_alert.pk]
        assert api.get(f"{V1}/alerts", {"state": "all"}).json()["count"] == 2
        mine = api.get(f"{V1}/alerts", {"client_id": red_alert.episode.client_id}).json()
        assert [a["id"] for a in mine["items"]] == [red_alert.pk]
        bad = api.get(f"{V1}/alerts", {"state": "closed"})
        assert bad.status_code == 422 and set(problems(bad)) == {"query.state"}

    def test_the_colleague_sees_them_read_only(self, colleague: User, risk_alert: Alert) -> None:
        api = api_for(colleague)
        (item,) = api.get(f"{V1}/alerts").json()["items"]
        assert item["id"] == risk_alert.pk and item["can_change"] is False
        assert api.get(f"{V1}/alerts/{risk_alert.pk}").status_code == 200

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_others_see_none(
        self, request: pytest.FixtureRequest, person: str, risk_alert: Alert
    ) -> None:
        api = api_for(request.getfixturevalue(person))
        assert api.get(f"{V1}/alerts").json()["count"] == 0
        assert api.get(f"{V1}/alerts/{risk_alert.pk}").status_code == 404
        client_id = risk_alert.episode.client_id
        assert api.get(f"{V1}/alerts", {"client_id": client_id}).status_code == 404

    def test_one_alert_with_its_evidence_is_audited(self, owner: User, risk_alert: Alert) -> None:
        body = api_for(owner).get(f"{V1}/alerts/{risk_alert.pk}").json()
        assert body["evidence"]["risk_items"] == ["phq9_9"]
        (event,) = audited("alert.view", owner)
        assert event.object_id == str(risk_alert.pk)

    def test_anonymous_is_refused(self, risk_alert: Alert) -> None:
        assert api_for(None).get(f"{V1}/alerts").status_code == 401
        assert api_for(None).get(f"{V1}/alerts/{risk_alert.pk}").status_code == 401


class TestAcknowledgeAlert:
    def url(self, alert: Alert) -> str:
        return f"{V1}/alerts/{alert.pk}/acknowledge"

    def test_the_owner_marks_it_seen_and_it_stays_open(
        self, owner: User, risk_alert: Alert
    ) -> None:
        r = post(api_for(owner), self.url(risk_alert))
        assert r.status_code == 200
        assert r.json()["acknowledged_by"]["id"] == owner.pk and r.json()["is_open"] is True
        assert len(audited("alert.acknowledge", owner)) == 1

    def test_the_colleague_is_refused(self, colleague: User, risk_alert: Alert) -> None:
        assert post(api_for(colleague), self.url(risk_alert)).status_code == 403
        risk_alert.refresh_from_db()
        assert risk_alert.acknowledged_at is None

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_others_get_404(
        self, request: pytest.FixtureRequest, person: str, risk_alert: Alert
    ) -> None:
        assert (
            post(api_for(request.getfixturevalue(person)), self.url(risk_alert)).status_code == 404
        )
        risk_alert.refresh_from_db()
        assert risk_alert.acknowledged_at is None

    def test_anonymous_is_refused(self, risk_alert: Alert) -> None:
        assert post(api_for(None), self.url(risk_alert)).status_code == 401


class TestResolveAlert:
    def url(self, alert: Alert) -> str:
        return f"{V1}/alerts/{alert.pk}/resolve"

    def test_the_owner_resolves_a_risk_alert_saying_why(
        self, owner: User, risk_alert: Alert
    ) -> None:
        api = api_for(owner)
        r = post(api, self.url(risk_alert), {"resolution": "Called; safety plan agreed."})
        assert r.status_code == 200
        assert r.json()["is_open"] is False and r.json()["resolved_by"]["id"] == owner.pk
        again = post(api, self.url(risk_alert), {"resolution": "something else"})
        assert again.json()["resolution"] == "Called; safety plan agreed."
        assert len(audited("alert.resolve", owner)) == 1

    @pytest.mark.parametrize("body", [{}, {"resolution": "   "}, {"resolution": ""}])
    def test_it_needs_a_reason(self, owner: User, risk_alert: Alert, body: dict[str, str]) -> None:
        r = post(api_for(owner), self.url(risk_alert), body)
        assert r.status_code == 422 and set(problems(r)) == {"body.resolution"}
        risk_alert.refresh_from_db()
        assert risk_alert.is_open

    def test_a_support_review_resolves_red_alerts(self, owner: User, red_alert: Alert) -> None:
        r = post(api_for(owner), self.url(red_alert), {"resolution": "done"})
        assert r.status_code == 409 and "support review" in r.json()["detail"]
        red_alert.refresh_from_db()
        assert red_alert.is_open

    def test_the_colleague_is_refused(self, colleague: User, risk_alert: Alert) -> None:
        assert (
            post(api_for(colleague), self.url(risk_alert), {"resolution": "x"}).status_code == 403
        )
        risk_alert.refresh_from_db()
        assert risk_alert.is_open

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_others_get_404(
        self, request: pytest.FixtureRequest, person: str, risk_alert: Alert
    ) -> None:
        api = api_for(request.getfixturevalue(person))
        assert post(api, self.url(risk_alert), {"resolution": "x"}).status_code == 404
        risk_alert.refresh_from_db()
        assert risk_alert.is_open

    def test_anonymous_is_refused(self, risk_alert: Alert) -> None:
        assert post(api_for(None), self.url(risk_alert), {"resolution": "x"}).status_code == 401


# ------------------------------------------------------------------ the API as a whole


class TestWholeApi:
    def test_the_root_says_where_the_schema_and_tokens_are(self, db: None) -> None:
        body = Browser().get(f"{V1}/").json()
        assert body["schema"] == "http://testserver/api/v1/openapi.json"
        assert body["tokens"] == "http://testserver/api/tokens/"

    def test_an_unknown_path_is_a_json_404(self, owner: User) -> None:
        r = api_for(owner).get(f"{V1}/nothing/here")
        assert r.status_code == 404 and r["Content-Type"].startswith("application/json")

    def test_no_response_holds_a_hash_or_another_clients_data(
        self, owner: User, outsider: User, history: Episode, risk_alert: Alert
    ) -> None:
        theirs = create_client(outsider, "O-SECRET", name="Otto's client")
        new_link(theirs, outsider, ["phq9"])
        api = api_for(owner)
        urls = [
            f"{V1}/me",
            f"{V1}/clients",
            f"{V1}/clients/{history.client_id}",
            f"{V1}/clients/{history.client_id}/episodes",
            f"{V1}/clients/{history.client_id}/checkins",
            f"{V1}/episodes/{history.pk}",
            f"{V1}/episodes/{history.pk}/scores",
            f"{V1}/episodes/{history.pk}/signals",
            f"{V1}/checkins/{risk_alert.checkin_id}",
            f"{V1}/alerts?state=all",
            f"{V1}/alerts/{risk_alert.pk}",
        ]
        hashes = list(ApiToken.objects.values_list("token_hash", flat=True))
        hashes += list(CheckIn.objects.values_list("token_hash", flat=True))
        for url in urls:
            r = api.get(url)
            assert r.status_code == 200, url
            text = r.content.decode()
            assert not any(h in text for h in hashes), url
            assert "O-SECRET" not in text and "Otto" not in text, url

    def test_every_operation_is_documented(self, db: None) -> None:
        from pathlib import Path

        docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
        schema = Browser().get(f"{V1}/openapi.json").json()
        missing = [
            f"{method.upper()} {path}"
            for path, operations in schema["paths"].items()
            for method in operations
            if f"`{method.upper()} {path.removeprefix(V1)}`" not in docs
        ]
        assert not missing, f"docs/api.md lacks {missing}"


# ------------------------------------------------------------------ the token page in a browser


@pytest.mark.django_db(transaction=True)
def test_a_therapist_makes_uses_and_revokes_a_token_in_the_browser(
    chromium: Any, live_server: Any, owner: User, client_record: Client
) -> None:
    test = "api-tokens"
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page
    page.get_by_role("link", name="API tokens").click()
    page.get_by_role("heading", name="API tokens").wait_for()
    assert page.get_by_text("You have no tokens.").is_visible()
    page.get_by_label("Name").fill("practice export script")
    page.get_by_label("Works for").select_option("30")
    therapist.shot(test, "1-form")
    page.get_by_role("button", name="Make token").click()
    page.get_by_role("heading", name="New API token “practice export script”").wait_for()
    secret = page.get_by_label("Token").input_value()
    assert secret.startswith("cf_")
    therapist.shot(test, "2-shown-once")
    program = Browser(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert [c["code"] for c in program.get(f"{V1}/clients").json()["items"]] == ["C-0001"]

    page.get_by_role("link", name="Back to your tokens").click()
    row = page.get_by_role("row", name=re.compile("practice export script"))
    assert secret[:10] in row.inner_text() and secret not in page.content()
    assert "active" in row.inner_text()
    therapist.shot(test, "3-listed")
    row.get_by_role("button", name="Revoke the token practice export script").click()
    page.get_by_text("was revoked").wait_for()
    assert (
        "revoked" in page.get_by_role("row", name=re.compile("practice export script")).inner_text()
    )
    therapist.shot(test, "4-revoked")
    assert program.get(f"{V1}/clients").status_code == 401
    assert therapist.csp_violations() == []
    therapist.close()
