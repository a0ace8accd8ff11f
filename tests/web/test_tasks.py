"""The background worker: alert e-mails leave the request, and everything is sent once —
across repeated runs, a worker restart, a worker that dies while sending, and two workers at
once. The last ones start real ``task_worker`` processes on the test database."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import OperationalError, transaction
from django_tasks_db.models import DBTaskResult

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind
from commonfactors_web.alerts.services import raise_risk_alert
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.models import CheckIn, MeasurementPlan
from commonfactors_web.clients.models import Client
from commonfactors_web.clients.services import create_client
from commonfactors_web.reminders import scheduler
from commonfactors_web.reminders.models import AlertEmail, Clock, Delivery, Reminder
from commonfactors_web.reminders.tasks import email_alert, scan_reminders

from .helpers import PHQ9_RISK, answer, browser_for, new_link
from .workers import WorkerProcesses, run_queued_tasks, wait_for


def risk_alert(client: Client, owner: User) -> Alert:
    link = new_link(client, owner, ["phq9"])
    answer(browser_for(None), link.token, "phq9", PHQ9_RISK)
    return Alert.objects.get(kind=AlertKind.RISK)


def queued(task_name: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith=f".{task_name}"))


# ------------------------------------------------------------------ alert e-mails


@pytest.mark.django_db
class TestAlertEmail:
    def test_it_is_queued_when_the_alert_commits_and_sent_by_the_worker(
        self, client_record: Client, owner: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            alert = risk_alert(client_record, owner)
        [task] = queued("email_alert")
        assert task.args_kwargs == {"args": [alert.pk], "kwargs": {}}  # an id, no client data
        assert mail.outbox == []
        [result] = run_queued_tasks()
        assert result.status == "SUCCESSFUL" and result.return_value == Delivery.SENT
        assert [m.to for m in mail.outbox] == [["olivia@example.org"]]
        delivery = AlertEmail.objects.get(alert=alert)
        assert delivery.status == Delivery.SENT and delivery.recipient == owner
        assert AuditEvent.objects.filter(action="alert.email", client=client_record).exists()

    def test_it_is_sent_once_however_often_the_task_runs(
        self, client_record: Client, owner: User
    ) -> None:
        alert = risk_alert(client_record, owner)
        for _ in range(3):
            email_alert.enqueue(alert.pk)
        results = run_queued_tasks()
        assert sorted(r.return_value for r in results) == [Delivery.SENT] * 3  # state after
        assert len(mail.outbox) == 1 and AlertEmail.objects.count() == 1

    def test_a_therapist_without_an_address_is_recorded(
        self, teammate: User, plan: MeasurementPlan
    ) -> None:
        client = create_client(teammate, "C-0100")
        alert = risk_alert(client, teammate)
        email_alert.enqueue(alert.pk)
        run_queued_tasks()
        assert mail.outbox == []
        assert AlertEmail.objects.get(alert=alert).status == Delivery.NO_ADDRESS

    def test_a_failing_mail_server_never_fails_the_client(
        self,
        client_record: Client,
        owner: User,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        with django_capture_on_commit_callbacks(execute=True):
            alert = risk_alert(client_record, owner)  # the client's answer is stored
        assert alert.is_open
        run_queued_tasks()
        delivery = AlertEmail.objects.get(alert=alert)
        assert delivery.status == Delivery.FAILED and "Error" in delivery.problem

    def test_a_queue_that_cannot_be_written_never_fails_the_client(
        self,
        client_record: Client,
        owner: User,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        def locked(*args: Any, **kwargs: Any) -> None:
            raise OperationalError("database is locked")

        monkeypatch.setattr(type(email_alert), "enqueue", locked)
        link = new_link(client_record, owner, ["phq9"])
        with django_capture_on_commit_callbacks(execute=True):
            r = answer(browser_for(None), link.token, "phq9", PHQ9_RISK)
        assert r.status_code == 302  # to the crisis information and thanks
        assert Alert.objects.open().filter(kind=AlertKind.RISK).count() == 1
        assert queued("email_alert") == []

    def test_history_loaded_without_notice_queues_nothing(
        self, client_record: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            raise_risk_alert(
                client_record.episodes.get(),
                checkin=None,
                instrument="phq9",
                risk_items=["phq9_9"],
                answers=PHQ9_RISK,
                session_number=1,
                notify=False,
            )
        assert queued("email_alert") == []


# ------------------------------------------------------------------ real worker processes


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(tmp_path)
    try:
        yield processes
    finally:
        processes.stop_all()


def scans_done_by(worker: str) -> int:
    return sum(worker in r.worker_ids for r in DBTaskResult.objects.successful())


@pytest.mark.django_db(transaction=True)
class TestWorkerProcesses:
    def test_a_reminder_is_sent_once_across_a_worker_restart(
        self, client_record: Client, workers: WorkerProcesses
    ) -> None:
        first = workers.start("w1")
        wait_for(
            lambda: Reminder.objects.filter(status=Delivery.SENT).exists(),
            "the first worker's reminder",
        )
        first.kill()  # as a crash or a power cut would
        first.wait(timeout=30)
        second = workers.start("w2", "--scan-now")  # not waiting for the next interval
        wait_for(lambda: scans_done_by("w2") >= 1, "the restarted worker's scan")
        assert workers.stop(second) == 0  # SIGTERM: a clean stop
        assert [m["To"] for m in workers.messages()] == ["client@example.org"]
        reminder = Reminder.objects.get()
        assert reminder.status == Delivery.SENT and reminder.claimed_by.startswith("w1")
        assert CheckIn.objects.count() == 1
        assert "queued a reminder scan" in workers.log("w2")

    def test_a_worker_that_dies_while_sending_never_sends_twice(
        self, client_record: Client, workers: WorkerProcesses, tmp_path: Path
    ) -> None:
        first = workers.start("w1", settings=workers.settings_module("HangingBackend"))
        wait_for((tmp_path / "sending").exists, "the first worker to begin sending")
        first.kill()
        first.wait(timeout=30)
        reminder = Reminder.objects.get()
        assert reminder.status == Delivery.SENDING and reminder.claimed_by.startswith("w1")
        scheduler.scan_now()
        second = workers.start("w2")
        wait_for(lambda: scans_done_by("w2") >= 1, "the restarted worker's scan")
        workers.stop(second)
        # at most once: the claimed reminder is not sent again, no second link is made
        assert workers.messages() == []
        reminder.refresh_from_db()
        assert reminder.status == Delivery.SENDING
        assert CheckIn.objects.count() == 1
        # the queue never re-runs the task the first worker died in
        assert DBTaskResult.objects.running().count() == 1

    def test_two_workers_at_once_send_each_reminder_once(
        self, client_record: Client, owner: User, plan: MeasurementPlan, workers: WorkerProcesses
    ) -> None:
        for i in range(7):
            create_client(owner, f"C-{i + 2:04d}", email=f"client{i}@example.org")
        # no scheduled scan: the two queued below are the only ones
        Clock.objects.create(name=scheduler.SCAN, next_at="2999-01-01T00:00:00Z")
        slow = workers.settings_module(mail_seconds=0.3)
        w1, w2 = workers.start("w1", settings=slow), workers.start("w2", settings=slow)
        wait_for(
            lambda: all("Starting worker" in workers.log(w) for w in ("w1", "w2")),
            "both workers to start",
        )
        with transaction.atomic():
            scan_reminders.enqueue()
            scan_reminders.enqueue()
        wait_for(lambda: DBTaskResult.objects.successful().count() == 2, "both scans")
        workers.stop(w1)
        workers.stop(w2)
        # each scan ran on its own worker, at the same time
        assert sorted(r.worker_ids[0] for r in DBTaskResult.objects.all()) == ["w1", "w2"]
        recipients = sorted(m["To"] for m in workers.messages())
        assert recipients == sorted(
            ["client@example.org"] + [f"client{i}@example.org" for i in range(7)]
        )
        reminders = list(Reminder.objects.all())
        assert len(reminders) == 8 and {r.status for r in reminders} == {Delivery.SENT}
        assert CheckIn.objects.count() == 8
        # both workers sent some: they really competed for the same reminders
        assert {r.claimed_by[:2] for r in reminders} == {"w1", "w2"}

    def test_a_worker_emails_the_therapist_about_a_risk_answer_once(
        self, client_record: Client, owner: User, workers: WorkerProcesses
    ) -> None:
        alert = risk_alert(client_record, owner)  # commits: the e-mail task is queued
        assert len(queued("email_alert")) == 1
        worker = workers.start("w1", "--batch")
        assert worker.wait(timeout=90) == 0
        email_alert.enqueue(alert.pk)  # once more, as a duplicate would
        again = workers.start("w2", "--batch")
        assert again.wait(timeout=90) == 0
        to_therapist = [m for m in workers.messages() if m["To"] == "olivia@example.org"]
        assert len(to_therapist) == 1
        assert "C-0001" in to_therapist[0]["Subject"]
        assert AlertEmail.objects.get(alert=alert).status == Delivery.SENT

    def test_a_worker_stops_cleanly_on_sigint(self, db: None, workers: WorkerProcesses) -> None:
        worker = workers.start("w1")
        wait_for(lambda: "Starting worker" in workers.log("w1"), "the worker to start")
        assert workers.stop(worker, signal.SIGINT) == 0
