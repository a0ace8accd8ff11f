"""A reminder end to end in a real browser: the worker e-mails the client a link the day a
check-in is due, the client answers it on a phone, and the therapist's "Check-ins due"
page follows. Screenshots under ``test-artifacts/reminders-*``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from commonfactors_web.accounts.models import User
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.reminders import scheduler
from commonfactors_web.reminders.models import Delivery, Reminder

from .browser import DESKTOP, PHONE, Person, answer_all, log_in
from .workers import run_queued_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reminder_from_the_worker_to_the_phone(
    chromium: Any, live_server: Any, owner: User, client_record: Client
) -> None:
    test = "reminders"
    today = timezone.localdate()
    # session 1 a week ago: session 2's check-in is due today
    record_past_session(
        client_record.episodes.get(), 1, today - timedelta(days=7), Attendance.ATTENDED, {}
    )
    assert scheduler.tick()
    [scan] = run_queued_tasks()
    assert scan.return_value["sent"] == 1
    [message] = mail.outbox
    path = re.search(r"https?://[^/\s]+(/c/[\w-]+/)", message.body)
    assert path is not None and message.to == ["client@example.org"]

    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page
    page.get_by_role("link", name="Check-ins due").click()
    page.get_by_role("heading", name="Check-ins due and reminders").wait_for()
    row = page.get_by_role("row", name=re.compile("C-0001"))
    assert "Open link" in row.inner_text() and "sent" in row.inner_text()
    therapist.shot(test, "1-reminder-sent")

    client = Person(chromium, live_server.url, "client", **PHONE)
    client.page.goto(path.group(1))
    client.page.get_by_text("Questionnaire 1 of 2").wait_for()
    client.shot(test, "2-form-from-the-email")
    answer_all(client, {}, test, "3-phq9-answered")
    client.page.get_by_role("button", name="Next").click()
    client.page.get_by_text("Questionnaire 2 of 2").wait_for()
    answer_all(client, {}, test, "4-gad7-answered")
    client.page.get_by_role("button", name="Send my answers").click()
    client.page.get_by_role("heading", name="Thank you").wait_for()

    page.reload()
    row = page.get_by_role("row", name=re.compile("C-0001"))
    next_week = today + timedelta(days=7)
    assert row.get_by_role("cell").nth(0).inner_text() == "3"  # the session after today's
    assert f"{next_week.day} {next_week:%b %Y}" in row.inner_text()
    assert page.get_by_text("session 2, due").is_visible()  # the sent reminder, in history
    therapist.shot(test, "5-next-week")
    assert Reminder.objects.get().status == Delivery.SENT
    assert therapist.csp_violations() == [] and client.csp_violations() == []
    therapist.close()
    client.close()
