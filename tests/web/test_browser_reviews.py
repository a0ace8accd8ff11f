"""The support review in a real browser (Playwright driving Debian's chromium, desktop size).

A therapist opens the alerts inbox, opens a red alert's support review, sends the client a
questionnaire link, answers the review, sees the suggested adaptations, keeps one and edits
it, and saves: the alert is resolved and the adaptation recorded. After a later check-in the
review and the client page show the closed loop. Screenshots of every step are saved under
``test-artifacts/`` (look at them).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.reviews.models import Adaptation, ReviewQuestionnaire

from .browser import DESKTOP, Person, log_in

pytestmark = pytest.mark.django_db(transaction=True)

EDITED = (
    "Next session: ask openly what has not fitted about our work, and listen without defending."
)


def phq9(total: int) -> dict[str, Any]:
    items = [0] * 9
    for i in range(total):
        items[i % 8] += 1
    return {"answers": {f"phq9_{i + 1}": v for i, v in enumerate(items)}}


def alliance(*values: int) -> dict[str, Any]:
    return {"answers": {f"cf_alliance_{i + 1}": v for i, v in enumerate(values)}}


def past(client: Client, number: int, days_ago: int, **entries: dict[str, Any]) -> None:
    record_past_session(
        client.episodes.get(),
        number,
        timezone.localdate() - timedelta(days=days_ago),
        Attendance.ATTENDED,
        entries,
    )


@pytest.fixture
def red_client(client_record: Client) -> Client:
    """C-0001: PHQ-9 8 at intake, 18 at session 2 (red), alliance 1, 2, 2, 2 (mean 1.75)."""
    past(client_record, 1, 14, phq9=phq9(8))
    past(client_record, 2, 7, phq9=phq9(18), cf_alliance=alliance(1, 2, 2, 2))
    return client_record


def test_a_support_review_from_the_inbox_to_the_closed_loop(
    chromium: Any, live_server: Any, owner: User, colleague: User, red_client: Client
) -> None:
    test = "review"
    # the supervisor sees the team's alert and its review read-only
    supervisor = Person(chromium, live_server.url, "supervisor", **DESKTOP)
    log_in(supervisor, "sam")
    supervisor.page.get_by_role("link", name="Alerts").click()
    supervisor.page.get_by_role("link", name="View the support review (read-only)").click()
    supervisor.page.get_by_text("You are viewing this review read-only").wait_for()
    assert supervisor.page.get_by_role("button", name="Show suggested adaptations").count() == 0
    supervisor.shot(test, "0-read-only")
    assert supervisor.csp_violations() == []
    supervisor.close()

    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page

    # the inbox: the red alert, saying why it fired
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.get_by_role("heading", name="Alerts", exact=True).wait_for()
    alert = page.locator("article.alert-not_on_track")
    assert "PHQ-9 at session 2: not on track (red)" in alert.inner_text()
    assert (
        "Why it fired" in alert.inner_text()
        and "PHQ-9 score 18 at session 2." in alert.inner_text()
    )
    therapist.shot(test, "1-inbox")

    # the client page: the red alert leads to its support review (no free-text resolve)
    page.goto(f"/clients/{red_client.pk}/")
    open_alert = page.locator("article.alert-not_on_track")
    assert open_alert.get_by_role("link", name="Open the support review").is_visible()
    assert open_alert.get_by_label("What was done").count() == 0
    therapist.shot(test, "1b-client-page-open-alert")
    page.goto("/alerts/")
    alert = page.locator("article.alert-not_on_track")

    # the review: the domains with the latest measures beside them
    alert.get_by_role("link", name="Open the support review").click()
    page.get_by_role("heading", name=re.compile("Support review")).wait_for()
    relationship = page.get_by_role("group", name="2. The working relationship")
    assert "1.75" in relationship.inner_text()
    assert "not measured" in page.get_by_role("group", name="5. Expectations and hope").inner_text()
    therapist.shot(test, "2-review-form")

    # a short questionnaire for the client, by private link
    page.get_by_role("button", name="Send the client a short questionnaire").click()
    link = page.get_by_role("textbox", name="Link")
    link.wait_for()
    assert "/c/" in link.input_value()
    assert page.locator("figure.qr svg").is_visible()
    assert ReviewQuestionnaire.objects.count() == 1
    therapist.shot(test, "3-questionnaire-link")

    # answer, by mouse and by keyboard
    page.get_by_role("group", name=re.compile("feel understood and at ease")).get_by_label(
        "A little"
    ).check()
    homework = page.get_by_role("group", name=re.compile("agreed work between sessions"))
    homework.get_by_label("A little").focus()
    page.keyboard.press("Space")
    assert homework.get_by_label("A little").is_checked()
    page.get_by_role("group", name=re.compile("Has something major happened")).get_by_label(
        "No", exact=True
    ).check()
    page.get_by_role("button", name="Show suggested adaptations").click()
    page.get_by_role("heading", name="Suggested adaptations").wait_for()
    strained = page.get_by_role("group", name="The working relationship is strained")
    text = strained.inner_text()
    assert "You answered “A little” to “How much does the client seem" in text
    assert "score was 1.75 at session 2" in text
    assert "r = .278" in text and "Flückiger" in text
    assert page.get_by_role("group", name="Little of the work between sessions gets done").count()
    therapist.shot(test, "4-suggestions")

    # keep one suggestion, in the therapist's own words, and save
    strained.get_by_label("Use this adaptation").check()
    strained.get_by_label("Adaptation (edit as you like)").fill(EDITED)
    therapist.shot(test, "5-chosen-and-edited")
    page.get_by_role("button", name="Save the review and resolve the alert").click()
    page.get_by_text("Support review saved; the alert is resolved.").wait_for()
    therapist.shot(test, "6-saved")

    red = Alert.objects.get(kind=AlertKind.NOT_ON_TRACK)
    adaptation = Adaptation.objects.get()
    assert not red.is_open and red.resolved_by == owner
    assert red.resolution.startswith(f"Support review {adaptation.review_id}: 1 adaptation")
    assert (adaptation.rule, adaptation.text, adaptation.alert) == ("alliance_low", EDITED, red)
    assert "Not measured yet" in page.locator("ul.loop").inner_text()

    # a later check-in: the closed loop shows the factor and the outcome
    past(red_client, 3, 0, phq9=phq9(4), cf_alliance=alliance(3, 3, 3, 3))
    page.reload()
    loop = page.locator("ul.loop").inner_text()
    assert "Factor improved" in loop and "1.75 before the review, 3 at session 3" in loop
    assert "Back on track" in loop
    assert "The PHQ-9 signal is back on track (it was red at the review)." in loop
    therapist.shot(test, "7-closed-loop")

    page.get_by_role("link", name="Client page").click()
    resolved = page.locator("ul.resolved-alerts")
    resolved.wait_for()
    assert "Back on track" in resolved.inner_text()
    resolved.scroll_into_view_if_needed()
    therapist.shot(test, "8-client-page")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    assert page.get_by_text("No open alerts.").is_visible()
    assert therapist.csp_violations() == []
    therapist.close()
