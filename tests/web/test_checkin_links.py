"""Private check-in links: random, stored only as a hash, expiring, single use, throttled."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.checkins.services import create_checkin, find_open, hash_token
from commonfactors_web.clients.models import Client

from .helpers import GAD7_MODERATE, PHQ9_MILD, answer, browser_for, new_link

pytestmark = pytest.mark.django_db


class TestToken:
    def test_it_stores_only_the_sha256_hash(self, client_record: Client, owner: User) -> None:
        link = new_link(client_record, owner)
        stored = CheckIn.objects.get()
        assert stored.token_hash == hashlib.sha256(link.token.encode()).hexdigest()
        for field in CheckIn._meta.concrete_fields:
            assert link.token not in str(getattr(stored, field.attname))

    def test_it_never_writes_the_token_to_the_audit_log(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner)
        browser_for(None).get(f"/c/{link.token}/")
        for event in AuditEvent.objects.all():
            assert link.token not in str(event.detail)

    def test_each_link_has_its_own_random_token(self, client_record: Client, owner: User) -> None:
        tokens = {new_link(client_record, owner).token for _ in range(20)}
        assert len(tokens) == 20
        assert all(len(t) >= 43 for t in tokens)  # 32 random bytes

    def test_it_uses_the_measurement_plan_when_nothing_is_chosen(
        self, client_record: Client, owner: User
    ) -> None:
        assert new_link(client_record, owner).checkin.instruments == ["phq9", "gad7"]

    def test_it_refuses_instruments_without_text(self, client_record: Client, owner: User) -> None:
        from commonfactors_web.checkins.services import CheckInError

        with pytest.raises(CheckInError, match="wai_sr"):
            new_link(client_record, owner, ["wai_sr"])


class TestExpiry:
    def test_it_expires_after_72_hours_by_default(self, client_record: Client, owner: User) -> None:
        before = timezone.now()
        checkin = new_link(client_record, owner).checkin
        assert timedelta(hours=72) <= checkin.expires_at - before < timedelta(hours=72, minutes=1)

    def test_it_follows_the_setting(
        self, client_record: Client, owner: User, settings: Settings
    ) -> None:
        settings.CF_CHECKIN_TTL_HOURS = 2
        now = timezone.now()
        checkin = create_checkin(client_record.episodes.get(), owner, ["phq9"], now=now).checkin
        assert checkin.expires_at == now + timedelta(hours=2)

    def test_an_expired_link_shows_the_plain_page(self, client_record: Client, owner: User) -> None:
        link = new_link(client_record, owner)
        CheckIn.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        r = browser_for(None).get(f"/c/{link.token}/")
        assert r.status_code == 404
        assert b"This link is not available" in r.content
        assert b"C-0001" not in r.content

    def test_an_expired_link_stores_nothing(self, client_record: Client, owner: User) -> None:
        link = new_link(client_record, owner, ["phq9"])
        CheckIn.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        r = answer(browser_for(None), link.token, "phq9", PHQ9_MILD)
        assert r.status_code == 404
        assert CheckIn.objects.get().used_at is None
        assert client_record.episodes.get().sessions.count() == 0


class TestSingleUse:
    def test_it_marks_the_link_used(self, client_record: Client, owner: User) -> None:
        link = new_link(client_record, owner, ["phq9"])
        answer(browser_for(None), link.token, "phq9", PHQ9_MILD)
        assert CheckIn.objects.get().used_at is not None

    def test_a_used_link_shows_the_same_plain_page_as_an_unknown_one(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        answer(browser_for(None), link.token, "phq9", PHQ9_MILD)
        used = browser_for(None).get(f"/c/{link.token}/")
        unknown = browser_for(None).get("/c/this-is-not-a-token-at-all-and-never-was-1234/")
        assert used.status_code == unknown.status_code == 404
        assert used.content == unknown.content

    def test_find_open_ignores_used_and_expired_links(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner)
        assert find_open(link.token) is not None
        assert find_open(link.token, now=timezone.now() + timedelta(hours=73)) is None
        assert find_open("x" * 500) is None
        assert find_open(hash_token(link.token)) is None  # the hash is not a token


class TestThrottling:
    def test_it_throttles_repeated_bad_links_from_one_address(
        self, client_record: Client, owner: User, settings: Settings
    ) -> None:
        settings.CF_BAD_TOKEN_ATTEMPTS = 3
        browser = browser_for(None)
        codes = [browser.get(f"/c/guess-{i}/").status_code for i in range(4)]
        assert codes == [404, 404, 404, 429]
        good = new_link(client_record, owner).token
        assert browser.get(f"/c/{good}/").status_code == 429  # even a good link, for a while

    def test_other_addresses_are_not_throttled(
        self, client_record: Client, owner: User, settings: Settings
    ) -> None:
        settings.CF_BAD_TOKEN_ATTEMPTS = 2
        browser = browser_for(None)
        for i in range(3):
            browser.get(f"/c/guess-{i}/")
        good = new_link(client_record, owner).token
        assert browser.get(f"/c/{good}/", REMOTE_ADDR="10.0.0.9").status_code == 200

    def test_good_links_do_not_count(
        self, client_record: Client, owner: User, settings: Settings
    ) -> None:
        settings.CF_BAD_TOKEN_ATTEMPTS = 2
        link = new_link(client_record, owner, ["phq9", "gad7"])
        browser = browser_for(None)
        for _ in range(4):
            assert browser.get(f"/c/{link.token}/").status_code == 200
        assert answer(browser, link.token, "phq9", PHQ9_MILD).status_code == 302
        assert answer(browser, link.token, "gad7", GAD7_MODERATE).status_code == 302


class TestLoginThrottling:
    def test_it_logs_in_with_the_right_password(self, owner: User) -> None:
        r = browser_for(None).post(
            "/accounts/login/", {"username": "olivia", "password": "a-long-test-password"}
        )
        assert r.status_code == 302

    def test_it_refuses_after_too_many_failures_even_with_the_right_password(
        self, owner: User, settings: Settings
    ) -> None:
        settings.CF_LOGIN_ATTEMPTS = 3
        browser = browser_for(None)
        for _ in range(3):
            r = browser.post("/accounts/login/", {"username": "olivia", "password": "wrong"})
            assert r.status_code == 200
        r = browser.post(
            "/accounts/login/", {"username": "olivia", "password": "a-long-test-password"}
        )
        assert r.status_code == 200
        assert b"Too many failed logins" in r.content
        assert "_auth_user_id" not in browser.session

    def test_it_uses_csrf_protection(self, owner: User) -> None:
        browser = browser_for(None)
        browser.handler.enforce_csrf_checks = True
        r = browser.post(
            "/accounts/login/", {"username": "olivia", "password": "a-long-test-password"}
        )
        assert r.status_code == 403
