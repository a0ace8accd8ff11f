"""Homework and the client's journal: services, the client's private link, who may do what,
and the audit log.

Named people (conftest): owner Olivia (the client's therapist), colleague Sam (her
supervisor, read-only), teammate Tom and outsider Otto (may not see the client), admin Ada
(sees no client records), anonymous.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db.models import QuerySet
from django.test import Client as Browser
from django.utils import timezone
from pytest_django.fixtures import Settings

from commonfactors import homework as library
from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.audit.services import CLIENT_VIA_LINK
from commonfactors_web.clients.models import Client, EpisodeStatus
from commonfactors_web.clients.services import create_client, end_episode
from commonfactors_web.homework import demo, services
from commonfactors_web.homework.models import (
    Assignment,
    AssignmentStatus,
    ClientLink,
    HomeworkEntry,
    ImmutableEntryError,
    JournalEntry,
)

from .helpers import browser_for

pytestmark = pytest.mark.django_db

#: A thought record as the client's phone posts it (two feelings, one row left empty).
THOUGHT_RECORD_POST = {
    "f-situation": "Colleague did not answer my message.",
    "rows-feelings": "3",
    "f-feelings-1-feeling": "anxious",
    "f-feelings-1-intensity": "70",
    "f-feelings-2-feeling": "sad",
    "f-feelings-2-intensity": "40",
    "f-feelings-3-feeling": "",
    "f-feelings-3-intensity": "",
    "f-automatic_thought": "She is annoyed with me.",
    "f-belief": "80",
    "f-evidence_for": "",
    "f-evidence_against": "She is busy on Mondays.",
    "f-balanced_thought": "She may just be busy.",
    "f-balanced_belief": "60",
    "rows-feelings_after": "1",
    "f-feelings_after-1-feeling": "anxious",
    "f-feelings_after-1-intensity": "30",
}


def _episode(client: Client) -> Any:
    return client.episodes.get()


@pytest.fixture
def assignment(client_record: Client, owner: User) -> Assignment:
    return services.assign(
        _episode(client_record),
        owner,
        "thought_record",
        instructions="When your mood drops at work.",
        due_on=timezone.localdate() + timedelta(days=7),
    )


@pytest.fixture
def link(client_record: Client, owner: User) -> services.NewClientLink:
    return services.create_link(_episode(client_record), owner)


def _actions(**filters: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(**filters).order_by("pk").values_list("action", flat=True)
    )


# ------------------------------------------------------------------ services


class TestAssign:
    def test_it_sets_homework_and_audits_it(self, client_record: Client, owner: User) -> None:
        due = timezone.localdate() + timedelta(days=3)
        a = services.assign(_episode(client_record), owner, "dream_log", due_on=due)
        assert (a.form_id, a.status, a.due_on, a.assigned_by) == (
            "dream_log",
            "assigned",
            due,
            owner,
        )
        event = AuditEvent.objects.get(action="homework.assign")
        assert event.actor == owner and event.client == client_record
        assert event.detail == {"form": "dream_log", "due_on": due.isoformat()}

    def test_it_names_every_problem_at_once(self, client_record: Client, owner: User) -> None:
        with pytest.raises(services.HomeworkServiceError) as caught:
            services.assign(
                _episode(client_record),
                owner,
                "cbt_diary",
                instructions="x" * 2001,
                due_on=timezone.localdate() - timedelta(days=1),
            )
        assert len(caught.value.problems) == 3
        assert "unknown homework form “cbt_diary”" in caught.value.problems
        assert Assignment.objects.count() == 0

    def test_an_ended_episode_gets_no_homework(self, client_record: Client, owner: User) -> None:
        end_episode(_episode(client_record), owner, EpisodeStatus.FINISHED)
        with pytest.raises(services.HomeworkServiceError, match="episode has ended"):
            services.assign(_episode(client_record), owner, "dream_log")

    def test_withdrawn_homework_leaves_the_client_page(
        self, assignment: Assignment, owner: User, link: services.NewClientLink
    ) -> None:
        assert services.withdraw(assignment, owner) is True
        assert services.withdraw(assignment, owner) is False
        assert services.open_assignments(assignment.episode) == []
        r = browser_for(None).get(f"/h/{link.token}/")
        assert b"When your mood drops" not in r.content
        assert "homework.withdraw" in _actions(actor=owner)


class TestSubmit:
    def test_a_valid_entry_completes_the_assignment_once(
        self, assignment: Assignment, link: services.NewClientLink
    ) -> None:
        given = {
            "situation": "s",
            "feelings": [{"feeling": "sad", "intensity": "50"}],
            "automatic_thought": "t",
            "belief": "50",
            "balanced_thought": "b",
            "feelings_after": [{"feeling": "sad", "intensity": "20"}],
        }
        result = services.submit(link.link, assignment.pk, given)
        assert result.status == "completed"
        stored = HomeworkEntry.objects.get()
        assert stored.data["feelings"] == [{"feeling": "sad", "intensity": 50}]
        assert stored.form_version == "1.0.0"
        assignment.refresh_from_db()
        assert assignment.status == AssignmentStatus.COMPLETED and assignment.completed_at
        assert services.submit(link.link, assignment.pk, given).status == "gone"
        assert HomeworkEntry.objects.count() == 1
        event = AuditEvent.objects.get(action="homework.complete")
        assert event.actor is None and event.actor_label == CLIENT_VIA_LINK

    def test_an_invalid_entry_stores_nothing_and_says_where(
        self, assignment: Assignment, link: services.NewClientLink
    ) -> None:
        result = services.submit(link.link, assignment.pk, {"belief": "200"})
        assert result.status == "invalid"
        assert {"situation", "belief", "feelings", "feelings_after"} <= set(result.by_field)
        assert HomeworkEntry.objects.count() == 0
        assert Assignment.objects.get().status == AssignmentStatus.ASSIGNED

    def test_an_entry_is_never_edited(
        self, assignment: Assignment, link: services.NewClientLink
    ) -> None:
        services.submit(
            link.link,
            assignment.pk,
            {
                "situation": "s",
                "feelings": [{"feeling": "sad", "intensity": 5}],
                "automatic_thought": "t",
                "belief": 5,
                "balanced_thought": "b",
                "feelings_after": [{"feeling": "sad", "intensity": 1}],
            },
        )
        entry = HomeworkEntry.objects.get()
        entry.data = {}
        with pytest.raises(ImmutableEntryError):
            entry.save()

    def test_another_episodes_homework_cannot_be_submitted(
        self, assignment: Assignment, owner: User, plan: Any
    ) -> None:
        other = create_client(owner, "C-0002", measurement_plan=plan)
        other_link = services.create_link(_episode(other), owner)
        assert services.submit(other_link.link, assignment.pk, {}).status == "gone"


class TestCompletion:
    def test_it_summarises_the_episode_with_the_librarys_rule(
        self, client_record: Client, owner: User, link: services.NewClientLink
    ) -> None:
        episode = _episode(client_record)
        today = timezone.localdate()
        past = timezone.now() - timedelta(days=10)
        done = services.assign(
            episode, owner, "dream_log", due_on=today - timedelta(days=3), now=past
        )
        services.assign(episode, owner, "dream_log", due_on=today - timedelta(days=1), now=past)
        services.assign(episode, owner, "dream_log", due_on=today + timedelta(days=4))
        gone = services.assign(episode, owner, "dream_log", due_on=today + timedelta(days=4))
        services.withdraw(gone, owner)
        services.submit(
            link.link, done.pk, {"dream": "A door."}, now=timezone.now() - timedelta(days=5)
        )
        s = services.completion(episode)
        assert (s.assigned, s.due, s.completed, s.completed_on_time, s.overdue, s.open) == (
            3,
            2,
            1,
            1,
            1,
            1,
        )
        assert s.rate == 0.5 and s.last_completion == timezone.localdate(
            timezone.now() - timedelta(days=5)
        )


class TestJournalService:
    def test_it_creates_updates_shares_and_unshares_with_an_audit_trail(
        self, link: services.NewClientLink, client_record: Client
    ) -> None:
        key = uuid.uuid4()
        first = services.save_journal(link.link, key, "Dear diary", False)
        assert first.changed and first.entry is not None
        assert first.entry.shared_with_therapist is False
        services.save_journal(link.link, key, "Dear diary, today", False)
        services.save_journal(link.link, key, "Dear diary, today", False)  # nothing new
        services.save_journal(link.link, key, "Dear diary, today", True)
        services.save_journal(link.link, key, "Dear diary, today", False)
        entry = JournalEntry.objects.get()
        assert entry.text == "Dear diary, today" and entry.shared_at is None
        assert _actions(actor_label=CLIENT_VIA_LINK, action__startswith="journal.") == [
            "journal.create",
            "journal.update",
            "journal.share",
            "journal.unshare",
        ]
        # the audit log holds no journal text
        assert all("diary" not in json.dumps(e.detail) for e in AuditEvent.objects.all())

    def test_two_saves_of_a_new_entry_at_once_make_one_entry(
        self, link: services.NewClientLink, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        key = uuid.uuid4()
        services.save_journal(link.link, key, "first", False)  # the other save got there first
        original = QuerySet.first
        stale: list[bool] = []

        def first_as_if_not_yet_there(self: QuerySet[Any]) -> Any:
            if self.model is JournalEntry and not stale:
                stale.append(True)
                return None
            return original(self)

        monkeypatch.setattr(QuerySet, "first", first_as_if_not_yet_there)
        saved = services.save_journal(link.link, key, "first and second", False)
        assert stale and saved.changed
        assert JournalEntry.objects.get().text == "first and second"
        assert _actions(action__startswith="journal.") == ["journal.create", "journal.update"]

    def test_an_empty_new_entry_is_not_kept(self, link: services.NewClientLink) -> None:
        assert services.save_journal(link.link, uuid.uuid4(), "  \n", False).entry is None
        assert JournalEntry.objects.count() == 0

    def test_too_long_an_entry_is_refused_whole(self, link: services.NewClientLink) -> None:
        with pytest.raises(library.JournalError):
            services.save_journal(
                link.link, uuid.uuid4(), "a" * (library.JOURNAL_MAX_CHARS + 1), False
            )
        assert JournalEntry.objects.count() == 0

    def test_another_episodes_key_is_refused(
        self, link: services.NewClientLink, owner: User, plan: Any
    ) -> None:
        key = uuid.uuid4()
        services.save_journal(link.link, key, "mine", False)
        other = create_client(owner, "C-0002", measurement_plan=plan)
        other_link = services.create_link(_episode(other), owner)
        with pytest.raises(services.JournalKeyError):
            services.save_journal(other_link.link, key, "overwritten", True)
        assert JournalEntry.objects.get().text == "mine"


# ------------------------------------------------------------------ the link


class TestLink:
    def test_it_stores_only_the_sha256_hash(self, link: services.NewClientLink) -> None:
        stored = ClientLink.objects.get()
        assert stored.token_hash == hashlib.sha256(link.token.encode()).hexdigest()
        for field in ClientLink._meta.concrete_fields:
            assert link.token not in str(getattr(stored, field.attname))
        assert len(link.token) >= 43

    def test_it_expires_after_the_set_number_of_days(
        self, client_record: Client, owner: User, settings: Settings
    ) -> None:
        now = timezone.now()
        default = services.create_link(_episode(client_record), owner, now=now).link
        assert default.expires_at == now + timedelta(days=90)
        settings.CF_HOMEWORK_LINK_DAYS = 14
        short = services.create_link(_episode(client_record), owner, now=now).link
        assert short.expires_at == now + timedelta(days=14)

    def test_a_new_link_revokes_the_old(self, client_record: Client, owner: User) -> None:
        old = services.create_link(_episode(client_record), owner)
        new = services.create_link(_episode(client_record), owner)
        assert services.find_link(old.token) is None
        assert services.find_link(new.token) == new.link
        assert ClientLink.objects.get(pk=old.link.pk).revoked_by == owner
        assert browser_for(None).get(f"/h/{old.token}/").status_code == 404
        assert "homework.link.revoke" in _actions(actor=owner)

    @pytest.mark.parametrize("how", ["unknown", "expired", "revoked", "episode ended"])
    def test_a_dead_link_shows_a_plain_page_that_reveals_nothing(
        self, how: str, link: services.NewClientLink, assignment: Assignment, owner: User
    ) -> None:
        token = link.token
        if how == "unknown":
            token = "x" * 43
        elif how == "expired":
            ClientLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        elif how == "revoked":
            services.revoke_link(link.link, owner)
        else:
            end_episode(assignment.episode, owner, EpisodeStatus.FINISHED)
        browser = browser_for(None)
        for url in (
            f"/h/{token}/",
            f"/h/{token}/homework/{assignment.pk}/",
            f"/h/{token}/journal/new/",
        ):
            r = browser.get(url)
            assert r.status_code == 404, url
            assert b"This link is not available" in r.content
            for secret in (b"C-0001", b"When your mood drops", b"Thought record"):
                assert secret not in r.content
        r = browser.post(
            f"/h/{token}/journal/save/",
            {"key": str(uuid.uuid4()), "text": "hello", "shared": "0"},
            HTTP_ACCEPT="application/json",
        )
        assert r.status_code == 404 and r.json() == {"error": "This link is not available."}
        assert JournalEntry.objects.count() == 0

    def test_bad_tokens_from_one_address_are_throttled(
        self, link: services.NewClientLink, settings: Settings
    ) -> None:
        settings.CF_BAD_TOKEN_ATTEMPTS = 3
        browser = browser_for(None)
        for n in range(3):
            assert browser.get(f"/h/guess{n}/").status_code == 404
        r = browser.get(f"/h/{link.token}/")  # even the right link, until the window ends
        assert r.status_code == 429 and b"Too many links" in r.content

    def test_the_link_can_be_emailed(self, client_record: Client, owner: User) -> None:
        browser = browser_for(owner)
        r = browser.post(f"/clients/{client_record.pk}/homework/link/", {"email": "1"})
        assert r.status_code == 200 and r.context["emailed"] is True
        assert mail.outbox[0].to == ["client@example.org"]
        assert r.context["url"] in mail.outbox[0].body
        assert ClientLink.objects.get().emailed_at is not None
        assert "homework.link.email" in _actions(actor=owner)


# ------------------------------------------------------------------ the client's pages


class TestClientPages:
    def test_the_page_shows_homework_due_and_audits_the_visit(
        self, link: services.NewClientLink, assignment: Assignment
    ) -> None:
        r = browser_for(None).get(f"/h/{link.token}/")
        assert r.status_code == 200
        body = r.content.decode()
        assert "Thought record" in body and "When your mood drops at work." in body
        assert f"/h/{link.token}/homework/{assignment.pk}/" in body
        assert ClientLink.objects.get().last_opened_at is not None
        event = AuditEvent.objects.get(action="homework.link.open")
        assert event.actor_label == CLIENT_VIA_LINK and link.token not in json.dumps(event.detail)

    def test_a_thought_record_with_problems_is_shown_again_with_every_problem(
        self, link: services.NewClientLink, assignment: Assignment
    ) -> None:
        url = f"/h/{link.token}/homework/{assignment.pk}/"
        post = THOUGHT_RECORD_POST | {"f-feelings-1-intensity": "140", "f-situation": ""}
        r = browser_for(None).post(url, post)
        assert r.status_code == 422
        body = r.content.decode()
        assert "Please check 2 things" in body
        assert 'href="#f-feelings-1-intensity"' in body and 'href="#f-situation"' in body
        assert 'aria-invalid="true"' in body
        assert "140 is outside 0–100" in body
        assert 'value="anxious"' in body  # what the client typed is kept
        assert HomeworkEntry.objects.count() == 0

    def test_a_good_thought_record_is_sent(
        self, link: services.NewClientLink, assignment: Assignment
    ) -> None:
        browser = browser_for(None)
        r = browser.post(f"/h/{link.token}/homework/{assignment.pk}/", THOUGHT_RECORD_POST)
        assert r.status_code == 302 and r["Location"] == f"/h/{link.token}/"
        data = HomeworkEntry.objects.get().data
        assert data["feelings"] == [
            {"feeling": "anxious", "intensity": 70},
            {"feeling": "sad", "intensity": 40},
        ]
        page = browser.get(r["Location"]).content.decode()
        assert "was sent to your therapist" in page
        again = browser.get(f"/h/{link.token}/homework/{assignment.pk}/")
        assert again.status_code == 302  # nothing left to fill in

    def test_adding_a_row_keeps_what_was_typed_and_stores_nothing(
        self, link: services.NewClientLink, assignment: Assignment
    ) -> None:
        post = THOUGHT_RECORD_POST | {"add_row": "feelings"}
        r = browser_for(None).post(f"/h/{link.token}/homework/{assignment.pk}/", post)
        assert r.status_code == 200
        assert b'name="f-feelings-4-feeling"' in r.content
        assert b'value="anxious"' in r.content
        assert HomeworkEntry.objects.count() == 0

    def test_another_clients_homework_is_not_found_through_this_link(
        self, link: services.NewClientLink, owner: User, plan: Any
    ) -> None:
        other = create_client(owner, "C-0002", measurement_plan=plan)
        theirs = services.assign(_episode(other), owner, "dream_log")
        r = browser_for(None).get(f"/h/{link.token}/homework/{theirs.pk}/")
        assert r.status_code == 404


class TestJournalPages:
    def test_autosave_creates_then_updates_one_entry(self, link: services.NewClientLink) -> None:
        browser = Browser(enforce_csrf_checks=True)
        page = browser.get(f"/h/{link.token}/journal/new/")
        assert b'data-autosave-url="/h/' in page.content
        token = page.cookies["csrftoken"].value
        key = str(page.context["key"])
        url = f"/h/{link.token}/journal/save/"
        refused = browser.post(url, {"key": key, "text": "Hello", "shared": "0"})
        assert refused.status_code == 403  # no CSRF token: nothing kept
        assert JournalEntry.objects.count() == 0
        for text in ("Hello", "Hello there", "Hello there, diary"):
            r = browser.post(url, {"key": key, "text": text, "shared": "0"}, HTTP_X_CSRFTOKEN=token)
            assert r.status_code == 200 and r.json()["saved"] is True
        assert r.json()["edit_url"] == f"/h/{link.token}/journal/{key}/"
        entry = JournalEntry.objects.get()
        assert entry.text == "Hello there, diary" and entry.shared_with_therapist is False

    def test_the_plain_save_button_works_without_javascript(
        self, link: services.NewClientLink
    ) -> None:
        browser = browser_for(None)
        key = str(uuid.uuid4())
        r = browser.post(
            f"/h/{link.token}/journal/new/", {"key": key, "text": "By hand.", "shared": "1"}
        )
        assert r.status_code == 302
        assert JournalEntry.objects.get().shared_with_therapist is True
        home = browser.get(f"/h/{link.token}/").content.decode()
        assert "Your journal entry is saved" in home and f'data-key="{key}"' in home
        assert "Shared with your therapist" in home

    def test_an_empty_or_too_long_entry_is_refused_with_a_message(
        self, link: services.NewClientLink
    ) -> None:
        browser = browser_for(None)
        url = f"/h/{link.token}/journal/new/"
        r = browser.post(url, {"key": str(uuid.uuid4()), "text": " ", "shared": "0"})
        assert r.status_code == 422 and b"Write something first" in r.content
        long = "a" * (library.JOURNAL_MAX_CHARS + 1)
        r = browser.post(url, {"key": str(uuid.uuid4()), "text": long, "shared": "0"})
        assert r.status_code == 422 and b"start a new entry" in r.content
        r = browser.post(f"/h/{link.token}/journal/save/", {"key": str(uuid.uuid4()), "text": long})
        assert r.status_code == 400 and "start a new entry" in r.json()["error"]
        assert JournalEntry.objects.count() == 0

    def test_an_entry_opens_again_and_its_reading_is_audited(
        self, link: services.NewClientLink
    ) -> None:
        key = uuid.uuid4()
        services.save_journal(link.link, key, "Line one\nLine two", False)
        r = browser_for(None).get(f"/h/{link.token}/journal/{key}/")
        assert r.status_code == 200 and "Line one\nLine two" in r.content.decode()
        assert "journal.open" in _actions(actor_label=CLIENT_VIA_LINK)

    def test_another_episodes_entry_is_not_found(
        self, link: services.NewClientLink, owner: User, plan: Any
    ) -> None:
        other = create_client(owner, "C-0002", measurement_plan=plan)
        other_link = services.create_link(_episode(other), owner)
        key = uuid.uuid4()
        services.save_journal(other_link.link, key, "theirs", False)
        browser = browser_for(None)
        assert browser.get(f"/h/{link.token}/journal/{key}/").status_code == 404
        r = browser.post(f"/h/{link.token}/journal/save/", {"key": str(key), "text": "mine"})
        assert r.status_code == 404
        r = browser.post(f"/h/{link.token}/journal/new/", {"key": str(key), "text": "mine"})
        assert r.status_code == 404
        assert JournalEntry.objects.get().text == "theirs"


# ------------------------------------------------------------------ the demo


def test_the_demo_sets_homework_with_entries_and_a_shared_journal_entry(
    practice: Any, client_record: Client
) -> None:
    demo.seed(practice, random.Random(7))
    episode = _episode(client_record)
    summary = services.completion(episode)
    assert summary.assigned == 4 and summary.completed >= 2 and summary.open == 1
    assert summary.rate is not None and summary.last_completion is not None
    assert HomeworkEntry.objects.filter(assignment__episode=episode).count() == summary.completed
    assert [e.text[:20] for e in services.shared_journal(episode)] == ["I want to remember t"]
    assert JournalEntry.objects.filter(shared_with_therapist=False).count() == 1
    assert AuditEvent.objects.filter(action="homework.complete").count() == summary.completed


# ------------------------------------------------------------------ permissions


def _people(request: pytest.FixtureRequest, name: str) -> User | None:
    return None if name == "anonymous" else request.getfixturevalue(name)


READERS = {"owner": 200, "colleague": 200, "teammate": 404, "outsider": 404, "admin_user": 404}
CHANGERS = {"owner": 0, "colleague": 403, "teammate": 404, "outsider": 404, "admin_user": 404}
PEOPLE = [*READERS, "anonymous"]


class TestPermissions:
    @pytest.mark.parametrize("who", PEOPLE)
    def test_assigning(
        self, who: str, request: pytest.FixtureRequest, client_record: Client
    ) -> None:
        r = browser_for(_people(request, who)).post(
            f"/clients/{client_record.pk}/homework/assign/",
            {"form_id": "dream_log", "instructions": "x", "due_on": ""},
        )
        if who == "anonymous":
            assert r.status_code == 302 and "/accounts/login/" in r["Location"]
        elif who == "owner":
            assert r.status_code == 302 and Assignment.objects.count() == 1
            return
        else:
            assert r.status_code == CHANGERS[who]
        assert Assignment.objects.count() == 0

    @pytest.mark.parametrize("who", PEOPLE)
    def test_making_a_link(
        self, who: str, request: pytest.FixtureRequest, client_record: Client
    ) -> None:
        r = browser_for(_people(request, who)).post(f"/clients/{client_record.pk}/homework/link/")
        if who == "owner":
            assert r.status_code == 200 and ClientLink.objects.count() == 1
            assert b"<svg" in r.content and b"/h/" in r.content
            return
        assert r.status_code == (302 if who == "anonymous" else CHANGERS[who])
        assert ClientLink.objects.count() == 0

    @pytest.mark.parametrize("who", PEOPLE)
    def test_revoking_a_link(
        self,
        who: str,
        request: pytest.FixtureRequest,
        client_record: Client,
        link: services.NewClientLink,
    ) -> None:
        r = browser_for(_people(request, who)).post(
            f"/clients/{client_record.pk}/homework/link/revoke/"
        )
        revoked = ClientLink.objects.get().revoked_at is not None
        if who == "owner":
            assert r.status_code == 302 and revoked
            return
        assert r.status_code == (302 if who == "anonymous" else CHANGERS[who])
        assert not revoked

    @pytest.mark.parametrize("who", PEOPLE)
    def test_reading_an_assignment(
        self, who: str, request: pytest.FixtureRequest, assignment: Assignment
    ) -> None:
        r = browser_for(_people(request, who)).get(f"/homework/{assignment.pk}/")
        if who == "anonymous":
            assert r.status_code == 302
            return
        assert r.status_code == READERS[who]
        if r.status_code == 200:
            assert b"When your mood drops" in r.content
            event = AuditEvent.objects.get(action="homework.view")
            assert event.actor == _people(request, who)
            assert (b"Withdraw this homework" in r.content) == (who == "owner")

    @pytest.mark.parametrize("who", PEOPLE)
    def test_withdrawing(
        self, who: str, request: pytest.FixtureRequest, assignment: Assignment
    ) -> None:
        r = browser_for(_people(request, who)).post(f"/homework/{assignment.pk}/withdraw/")
        status = Assignment.objects.get().status
        if who == "owner":
            assert r.status_code == 302 and status == AssignmentStatus.WITHDRAWN
            return
        assert r.status_code == (302 if who == "anonymous" else CHANGERS[who])
        assert status == AssignmentStatus.ASSIGNED

    @pytest.mark.parametrize("who", PEOPLE)
    def test_reading_the_shared_journal(
        self,
        who: str,
        request: pytest.FixtureRequest,
        client_record: Client,
        link: services.NewClientLink,
    ) -> None:
        services.save_journal(link.link, uuid.uuid4(), "Shared thoughts", True)
        services.save_journal(link.link, uuid.uuid4(), "Private thoughts", False)
        r = browser_for(_people(request, who)).get(f"/clients/{client_record.pk}/journal/")
        if who == "anonymous":
            assert r.status_code == 302
            return
        assert r.status_code == READERS[who]
        if r.status_code == 200:
            assert b"Shared thoughts" in r.content and b"Private thoughts" not in r.content
            assert "journal.view_shared" in _actions(actor=_people(request, who))

    @pytest.mark.parametrize("who", ["owner", "colleague"])
    def test_the_client_page_panel(
        self,
        who: str,
        request: pytest.FixtureRequest,
        client_record: Client,
        assignment: Assignment,
        link: services.NewClientLink,
    ) -> None:
        services.save_journal(link.link, uuid.uuid4(), "Shared thoughts", True)
        services.save_journal(link.link, uuid.uuid4(), "Private thoughts", False)
        r = browser_for(_people(request, who)).get(f"/clients/{client_record.pk}/")
        body = r.content.decode()
        assert r.status_code == 200 and "Homework and journal" in body
        assert "Thought record" in body and "Shared thoughts" in body
        assert "Private thoughts" not in body
        assert ("Set homework" in body) == (who == "owner")
        assert ("Make a new link" in body) == (who == "owner")

    def test_a_logged_in_therapist_gets_nothing_from_a_bad_token(self, outsider: User) -> None:
        assert browser_for(outsider).get("/h/not-a-token/").status_code == 404
