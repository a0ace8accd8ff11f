"""The loop end to end in a real browser: Playwright driving Debian's chromium.

A therapist logs in and creates a check-in, a client answers it on a phone-sized screen,
the therapist sees the new score and the alert; the risk path; an expired link.
Screenshots of every step are saved under ``test-artifacts/`` (look at them).

These tests never skip: ``make test`` installs chromium first; if it is missing they fail
saying so.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client

from .browser import DESKTOP, PHONE, Person, answer_all, create_link, log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client_with_intake(client_record: Client) -> Client:
    """C-0001 had a first session with mild scores (PHQ-9 5, GAD-7 3)."""
    record_past_session(
        client_record.episodes.get(),
        1,
        timezone.localdate() - timedelta(days=7),
        Attendance.ATTENDED,
        {
            "phq9": {"answers": {f"phq9_{i}": 1 if i <= 5 else 0 for i in range(1, 10)}},
            "gad7": {"answers": {f"gad7_{i}": 1 if i <= 3 else 0 for i in range(1, 8)}},
        },
    )
    return client_record


def test_the_feedback_loop(
    chromium: Any, live_server: Any, owner: User, client_with_intake: Client
) -> None:
    test = "loop"
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    url = create_link(therapist, client_with_intake, test)

    client = Person(chromium, live_server.url, "client", **PHONE)
    page = client.page
    page.goto(url)
    client.shot(test, "3-phq9-empty")
    assert page.get_by_text("Questionnaire 1 of 2").is_visible()
    assert page.get_by_role("group", name=re.compile("Little interest or pleasure")).is_visible()
    client.shot(test, "3-phq9-empty")
    # the first answer by keyboard alone
    page.get_by_role("radio", name="Nearly every day").first.focus()
    page.keyboard.press("Space")
    assert page.get_by_role("radio", name="Nearly every day").first.is_checked()
    # much worse than at intake (5): 3 on items 1-8, 0 on item 9 → 24
    answer_all(
        client,
        dict.fromkeys(range(1, 9), "Nearly every day") | {9: "Not at all"},
        test,
        "4-phq9-answered",
    )
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Questionnaire 2 of 2").wait_for()
    assert page.get_by_text("If you need help now").count() == 0
    answer_all(client, dict.fromkeys(range(1, 8), "Nearly every day"), test, "5-gad7-answered")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    client.shot(test, "6-thank-you")

    page = therapist.page
    page.goto(f"/clients/{client_with_intake.pk}/")
    therapist.shot(test, "7-client-page-after")
    scores = page.get_by_role("region", name="Scores and signals").get_by_role("table")
    assert scores.get_by_role("row").nth(2).get_by_role("cell").nth(1).inner_text().startswith("24")
    assert page.get_by_text("Not on track (red)").first.is_visible()
    assert page.locator(
        "p.model-label", has_text="Model: SYNTHETIC reference data"
    ).first.is_visible()
    page.goto("/clients/")
    therapist.shot(test, "8-caseload")
    row = page.get_by_role("row", name=re.compile("C-0001"))
    assert "Not on track" in row.inner_text() and "24" in row.inner_text()
    assert Alert.objects.open().filter(kind=AlertKind.NOT_ON_TRACK).count() == 2  # PHQ-9 and GAD-7
    assert therapist.csp_violations() == [] and client.csp_violations() == []
    therapist.close()
    client.close()


def test_the_risk_path(
    chromium: Any, live_server: Any, owner: User, client_with_intake: Client
) -> None:
    test = "risk"
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    url = create_link(therapist, client_with_intake, test)

    client = Person(chromium, live_server.url, "client", **PHONE)
    page = client.page
    page.goto(url)
    answer_all(client, {9: "More than half the days"}, test, "3-phq9-item9")
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Questionnaire 2 of 2").wait_for()
    crisis = page.get_by_role("alert")
    assert "If you need help now" in crisis.inner_text() and "emergency" in crisis.inner_text()
    client.shot(test, "4-crisis-at-once")
    answer_all(client, {}, test, "5-gad7")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert "If you need help now" in page.get_by_role("alert").inner_text()
    client.shot(test, "6-thank-you-with-crisis")

    page = therapist.page
    page.goto("/clients/")
    assert "Open risk alert" in page.get_by_role("row", name=re.compile("C-0001")).inner_text()
    therapist.shot(test, "7-caseload-risk")
    page.goto(f"/clients/{client_with_intake.pk}/")
    alert = page.locator("article.alert-risk")
    assert "phq9_9" in alert.inner_text()
    therapist.shot(test, "8-risk-alert")
    alert.get_by_label("What was done").fill("Phoned the client the same day; safety plan agreed.")
    alert.get_by_role("button", name="Resolve").click()
    page.get_by_text("Alert resolved.").wait_for()
    therapist.shot(test, "9-resolved")
    resolved = Alert.objects.get(kind=AlertKind.RISK)
    assert resolved.resolved_by == owner and "safety plan" in resolved.resolution
    therapist.close()
    client.close()


def test_an_expired_link(
    chromium: Any, live_server: Any, owner: User, client_with_intake: Client
) -> None:
    test = "expired"
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    url = create_link(therapist, client_with_intake, test)
    CheckIn.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    client = Person(chromium, live_server.url, "client", **PHONE)
    response = client.page.goto(url)
    assert response is not None and response.status == 404
    assert client.page.get_by_role("heading", name="This link is not available").is_visible()
    assert client.page.get_by_role("radio").count() == 0
    client.shot(test, "3-expired")
    therapist.close()
    client.close()
