"""The check-in schedule and reminders: when a check-in is due, and a reminder e-mailed once.

Olivia's client C-0001 started today under the practice's plan (PHQ-9 and GAD-7 at every
session, a session every 7 days) and has an e-mail address. Worker processes, restarts and
two workers at once are in ``test_tasks.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins import services as checkins
from commonfactors_web.checkins.models import CheckIn, MeasurementPlan
from commonfactors_web.clients.models import Attendance, Client, Episode
from commonfactors_web.clients.services import create_client, end_episode
from commonfactors_web.reminders import scheduler, services
from commonfactors_web.reminders.models import Clock, Delivery, Reminder
from commonfactors_web.reminders.schedule import due_for, next_due
from commonfactors_web.reminders.tasks import scan_reminders

from .helpers import GAD7_MODERATE, PHQ9_MILD, answer, browser_for
from .workers import run_queued_tasks

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    """An aware moment on ``day`` in the practice's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def episode_of(client: Client) -> Episode:
    return client.episodes.get()


def past_session(client: Client, number: int, on: dt.date) -> None:
    checkins.record_past_session(episode_of(client), number, on, Attendance.ATTENDED, {})


# ------------------------------------------------------------------ the schedule


class TestNextDue:
    def test_a_new_episode_is_due_on_its_first_day(self, client_record: Client) -> None:
        due = due_for(episode_of(client_record))
        assert due is not None
        assert (due.date, due.session_number) == (TODAY, 1)
        assert due.instruments == ("phq9", "gad7")
        assert not due.overdue and due.open_checkin is None

    def test_the_next_session_is_one_cadence_after_the_last(self, client_record: Client) -> None:
        past_session(client_record, 1, TODAY - days(2))
        due = due_for(episode_of(client_record))
        assert due is not None and (due.date, due.session_number) == (TODAY + days(5), 2)
        assert not due.overdue

    def test_the_plans_cadence_sets_the_interval(
        self, client_record: Client, plan: MeasurementPlan
    ) -> None:
        plan.interval_days = 14
        plan.save()
        past_session(client_record, 1, TODAY - days(2))
        due = due_for(episode_of(client_record))
        assert due is not None and due.date == TODAY + days(12)

    def test_a_session_with_nothing_due_is_skipped(self, owner: User, practice: Any) -> None:
        every_other = checkins.create_plan(
            practice, "PHQ-9 every other session", [{"instrument": "phq9", "every": 2}]
        )
        client = create_client(owner, "C-0002", measurement_plan=every_other)
        past_session(client, 1, TODAY - days(1))
        due = due_for(episode_of(client))
        # session 2 asks nothing, so the check-in is due at session 3, two cadences later
        assert due is not None and (due.session_number, due.date) == (3, TODAY + days(13))
        assert due.instruments == ("phq9",)

    def test_it_is_overdue_when_the_day_passed_without_a_check_in(
        self, client_record: Client, owner: User
    ) -> None:
        past_session(client_record, 1, TODAY - days(10))
        due = due_for(episode_of(client_record))
        assert due is not None and due.date == TODAY - days(3) and due.overdue
        assert due.days_late == 3
        link = checkins.create_checkin(episode_of(client_record), owner)
        due = due_for(episode_of(client_record))
        assert due is not None and not due.overdue
        assert due.open_checkin == link.checkin

    def test_an_expired_link_still_counts_as_sent_but_is_not_open(
        self, client_record: Client, owner: User
    ) -> None:
        past_session(client_record, 1, TODAY - days(10))
        checkins.create_checkin(episode_of(client_record), owner)
        later = timezone.now() + days(4)  # past the 72 h the link works
        due = due_for(episode_of(client_record), now=later)
        assert due is not None and due.open_checkin is None and not due.overdue

    def test_an_answered_check_in_moves_the_schedule_on(
        self, client_record: Client, owner: User
    ) -> None:
        link = checkins.create_checkin(episode_of(client_record), owner)
        browser = browser_for(None)
        answer(browser, link.token, "phq9", PHQ9_MILD)
        answer(browser, link.token, "gad7", GAD7_MODERATE)
        due = due_for(episode_of(client_record))
        assert due is not None and (due.session_number, due.date) == (2, TODAY + days(7))
        assert due.open_checkin is None and not due.overdue

    def test_ended_episodes_and_episodes_without_a_plan_have_nothing_due(
        self, client_record: Client, owner: User, practice: Any
    ) -> None:
        MeasurementPlan.objects.filter(practice=practice).update(is_default=False)
        planless = create_client(owner, "C-0002")
        end_episode(episode_of(client_record), owner, "finished")
        assert next_due([episode_of(client_record), episode_of(planless)]) == {}

    def test_an_episode_without_its_own_plan_follows_the_practice_default(
        self, owner: User, plan: MeasurementPlan
    ) -> None:
        client = create_client(owner, "C-0002")
        due = due_for(episode_of(client))
        assert due is not None and due.instruments == ("phq9", "gad7")

    @pytest.mark.parametrize("clients", [3, 30])
    def test_the_caseload_form_takes_three_queries_however_many_clients(
        self, owner: User, plan: MeasurementPlan, clients: int, django_assert_num_queries: Any
    ) -> None:
        episodes = []
        for i in range(clients):
            client = create_client(owner, f"C-{i:04d}", email=f"c{i}@example.org")
            past_session(client, 1, TODAY - days(i % 12))
            episodes.append(episode_of(client))
        checkins.create_checkin(episodes[0], owner)
        # episodes passed as records, with nothing loaded beside them
        records = list(Episode.objects.filter(pk__in=[e.pk for e in episodes]))
        with django_assert_num_queries(3):
            dues = next_due(records)
        assert len(dues) == clients
        assert dues[episodes[0].pk].open_checkin is not None
        assert sum(d.overdue for d in dues.values()) == sum(1 for i in range(clients) if i % 12 > 7)


# ------------------------------------------------------------------ reminders


class TestScan:
    def test_it_emails_a_new_link_to_the_client(self, client_record: Client, owner: User) -> None:
        report = services.scan()
        assert report.sent == 1
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["client@example.org"]
        checkin = CheckIn.objects.get()
        assert checkin.created_by == owner and checkin.instruments == ["phq9", "gad7"]
        assert checkin.emailed_at is not None
        reminder = Reminder.objects.get()
        assert (reminder.status, reminder.checkin, reminder.session_number) == (
            Delivery.SENT,
            checkin,
            1,
        )
        # the link in the e-mail opens the client's form
        token = message.body.split("/c/")[1].split("/")[0]
        assert browser_for(None).get(f"/c/{token}/").status_code == 200
        assert AuditEvent.objects.filter(action="reminder.send", client=client_record).exists()

    def test_it_sends_once_however_often_it_scans(self, client_record: Client) -> None:
        services.scan()
        second = services.scan()
        # even when the link has expired unanswered, the session is not reminded again
        third = services.scan(now=timezone.now() + days(4))
        assert (second.sent, third.sent) == (0, 0)
        assert len(mail.outbox) == 1
        assert Reminder.objects.count() == 1 and CheckIn.objects.count() == 1

    def test_it_reminds_again_for_the_next_session(self, client_record: Client) -> None:
        services.scan()
        token = mail.outbox[0].body.split("/c/")[1].split("/")[0]
        browser = browser_for(None)
        answer(browser, token, "phq9", PHQ9_MILD)
        answer(browser, token, "gad7", GAD7_MODERATE)
        assert services.scan().sent == 0  # session 2 is a week away
        report = services.scan(now=at(TODAY + days(6), 1))  # within 24 h of the day
        assert report.sent == 1 and len(mail.outbox) == 2
        assert list(Reminder.objects.order_by("session_number").values_list("session_number")) == [
            (1,),
            (2,),
        ]

    def test_it_waits_for_the_lead_time(self, client_record: Client, settings: Any) -> None:
        past_session(client_record, 1, TODAY)
        due_day = TODAY + days(7)
        settings.CF_REMINDER_LEAD_HOURS = 24
        assert services.scan(now=at(due_day - days(1), 0) - dt.timedelta(minutes=1)).sent == 0
        assert services.scan(now=at(due_day - days(1), 0)).sent == 1

    def test_it_skips_clients_without_an_address_or_with_an_open_link(
        self, client_record: Client, owner: User
    ) -> None:
        create_client(owner, "C-0002")  # no e-mail address
        checkins.create_checkin(episode_of(client_record), owner)
        report = services.scan()
        assert report.sent == 0 and report.skipped == {"open check-in": 1}
        assert mail.outbox == [] and not Reminder.objects.exists()

    def test_it_leaves_a_long_overdue_check_in_to_the_therapist(
        self, client_record: Client, settings: Any
    ) -> None:
        settings.CF_REMINDER_MAX_LATE_DAYS = 7
        past_session(client_record, 1, TODAY - days(15))  # due 8 days ago
        assert services.scan().skipped == {"too late": 1}
        past_session(client_record, 2, TODAY - days(13))  # due 6 days ago
        assert services.scan().sent == 1

    def test_a_failed_e_mail_is_recorded_and_not_retried(
        self, client_record: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def refuse(*args: Any, **kwargs: Any) -> int:
            raise ConnectionRefusedError("mail server client@example.org said no")

        monkeypatch.setattr(checkins, "send_mail", refuse)
        report = services.scan()
        assert (report.sent, report.failed) == (0, 1)
        reminder = Reminder.objects.get()
        assert reminder.status == Delivery.FAILED
        assert "ConnectionRefusedError" in reminder.problem
        assert "example.org" not in reminder.problem  # no address in the record
        monkeypatch.undo()
        assert services.scan(now=timezone.now() + days(4)).sent == 0
        assert mail.outbox == []

    def test_a_reminder_claimed_elsewhere_is_not_sent_here(self, client_record: Client) -> None:
        reminder = Reminder.objects.create(
            episode=episode_of(client_record), session_number=1, due_on=TODAY
        )
        # another worker won the claim and died before finishing
        Reminder.objects.filter(pk=reminder.pk).update(
            status=Delivery.SENDING, claimed_at=timezone.now() - days(1), claimed_by="w1"
        )
        assert services.send_reminder(reminder, worker="w2") == Delivery.SENDING
        assert services.scan().already == 1
        assert mail.outbox == [] and not CheckIn.objects.exists()
        reminder.refresh_from_db()
        assert reminder.claimed_by == "w1" and reminder.unconfirmed


class TestScheduler:
    def test_it_queues_one_scan_per_interval(self, settings: Any) -> None:
        settings.CF_REMINDER_SCAN_MINUTES = 15
        now = timezone.now()
        assert scheduler.tick(now=now)
        assert not scheduler.tick(now=now + dt.timedelta(minutes=14))  # any worker
        assert scheduler.tick(now=now + dt.timedelta(minutes=15))
        assert Clock.objects.get().next_at == now + dt.timedelta(minutes=30)

    def test_the_queued_scan_runs_on_the_worker(self, client_record: Client) -> None:
        assert scheduler.tick()
        [result] = run_queued_tasks()
        assert result.status == "SUCCESSFUL" and result.task_path.endswith("scan_reminders")
        assert result.return_value["sent"] == 1
        assert len(mail.outbox) == 1
        # the record says which worker sent it
        assert Reminder.objects.get().claimed_by.startswith("test-worker")

    def test_a_scan_task_run_twice_sends_once(self, client_record: Client) -> None:
        scan_reminders.enqueue()
        scan_reminders.enqueue()
        results = run_queued_tasks()
        assert [r.status for r in results] == ["SUCCESSFUL", "SUCCESSFUL"]
        assert sorted(r.return_value["sent"] for r in results) == [0, 1]
        assert len(mail.outbox) == 1


# ------------------------------------------------------------------ the therapist's page


class TestRemindersPage:
    @pytest.fixture
    def reminded(self, client_record: Client) -> Reminder:
        services.scan()
        return Reminder.objects.get()

    def test_it_shows_the_owner_what_is_due_and_what_was_sent(
        self, owner: User, reminded: Reminder
    ) -> None:
        r = browser_for(owner).get("/reminders/")
        assert r.status_code == 200
        html = r.content.decode()
        assert "C-0001" in html and "Open link" in html and ">sent<" in html
        event = AuditEvent.objects.filter(action="reminders.view").latest("pk")
        assert event.actor == owner and event.detail["clients"] == [reminded.episode.client_id]

    def test_it_shows_an_unconfirmed_reminder(self, owner: User, client_record: Client) -> None:
        Reminder.objects.create(
            episode=episode_of(client_record),
            session_number=1,
            due_on=TODAY,
            status=Delivery.SENDING,
            claimed_at=timezone.now() - dt.timedelta(hours=1),
        )
        html = browser_for(owner).get("/reminders/").content.decode()
        assert "not confirmed" in html and "will not be sent again" in html

    def test_it_shows_the_colleague_the_team(self, colleague: User, reminded: Reminder) -> None:
        r = browser_for(colleague).get("/reminders/")
        assert r.status_code == 200 and b"C-0001" in r.content

    def test_it_hides_the_client_from_the_teammate_and_the_outsider(
        self, teammate: User, outsider: User, reminded: Reminder
    ) -> None:
        for person in (teammate, outsider):
            r = browser_for(person).get("/reminders/")
            assert r.status_code == 200 and b"C-0001" not in r.content

    def test_it_shows_the_admin_no_client(self, admin_user: User, reminded: Reminder) -> None:
        r = browser_for(admin_user).get("/reminders/")
        assert r.status_code == 200 and b"C-0001" not in r.content

    def test_it_sends_anonymous_to_login(self, reminded: Reminder) -> None:
        r = browser_for(None).get("/reminders/")
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")

    def test_it_only_answers_get(self, owner: User) -> None:
        assert browser_for(owner).post("/reminders/").status_code == 405
