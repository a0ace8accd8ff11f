"""The caseload and the common-factors profile in a real browser (issue 5 §1, §2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind
from commonfactors_web.checkins.models import MeasurementPlan
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.clients.services import create_client

from .browser import DESKTOP, PHONE, Person, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def phq9(total: int) -> dict[str, Any]:
    answers = {f"phq9_{i}": 0 for i in range(1, 10)}
    for i in range(total):
        answers[f"phq9_{i % 8 + 1}"] += 1
    return {"answers": answers}


def alliance(value: int) -> dict[str, Any]:
    return {"answers": {f"cf_alliance_{i}": value for i in range(1, 5)}}


@pytest.fixture
def practice_day(owner: User, plan: MeasurementPlan) -> dict[str, Client]:
    """Three clients: one getting worse (red), one improving, one with a risk alert."""
    today = timezone.localdate()
    clients = {}
    for code, totals in {
        "C-0101": [12, 16, 20],
        "C-0102": [18, 13, 8],
        "C-0103": [10, 10, 9],
    }.items():
        client = create_client(
            owner, code, measurement_plan=plan, started_on=today - timedelta(days=21)
        )
        episode = client.episodes.get()
        for n, total in enumerate(totals, start=1):
            entries = {"phq9": phq9(total)}
            if n > 1:
                entries["cf_alliance"] = alliance(3 if code != "C-0101" else 5 - n)
            record_past_session(
                episode, n, today - timedelta(days=21 - 7 * n), Attendance.ATTENDED, entries
            )
        clients[code] = client
    Alert.objects.create(
        episode=clients["C-0103"].episodes.get(),
        kind=AlertKind.RISK,
        summary="PHQ-9: risk answer (phq9_9)",
        evidence={"reasons": ["phq9_9 ≥ 1 (test)"]},
    )
    return clients


def test_the_caseload_by_urgency_with_filters(
    chromium: Any, live_server: Any, owner: User, practice_day: dict[str, Client]
) -> None:
    test = "caseload"
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page
    rows = page.locator("table.caseload tbody tr")
    codes = [rows.nth(i).locator("th").inner_text().split()[0] for i in range(rows.count())]
    assert codes == ["C-0103", "C-0101", "C-0102"]
    assert rows.nth(0).get_by_text("Open risk alert").is_visible()
    assert rows.nth(1).get_by_text("Not on track (red)").is_visible()
    therapist.shot(test, "1-by-urgency")
    page.get_by_label("Needs attention").select_option("red")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**flag=red**")
    assert page.locator("table.caseload tbody tr").count() == 1
    therapist.shot(test, "2-filtered-red")
    page.get_by_role("searchbox", name="Search").fill("0102")
    page.get_by_label("Needs attention").select_option("")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**q=0102**")
    assert page.locator("table.caseload tbody tr th").inner_text().startswith("C-0102")
    page.get_by_role("link", name="Clear filters").click()
    assert page.locator("table.caseload tbody tr").count() == 3
    assert therapist.csp_violations() == []

    phone = Person(chromium, live_server.url, "therapist-phone", **PHONE)
    log_in(phone, "olivia")
    phone.shot(test, "3-phone")
    assert phone.csp_violations() == []


def test_the_profile_on_the_client_page(
    chromium: Any, live_server: Any, owner: User, practice_day: dict[str, Client]
) -> None:
    test = "profile"
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page
    page.goto(f"/clients/{practice_day['C-0101'].pk}/")
    profile = page.get_by_role("region", name="Common factors")
    alliance = profile.get_by_role("listitem").filter(has_text="Alliance")
    assert alliance.get_by_text("2 on Alliance (practice) (0–4)").is_visible()
    assert alliance.get_by_text("1 lower since the first measurement (3)").is_visible()
    empathy = profile.get_by_role("listitem").filter(has_text="Empathy (client-rated)")
    assert empathy.get_by_text("Not measured in this episode.").is_visible()
    alliance.get_by_text("What it means").click()
    assert alliance.get_by_text("r = .28 with outcome").is_visible()
    profile.scroll_into_view_if_needed()
    page.locator("section.profile").screenshot(path=str(_artifact(f"{test}-1-section.png")))
    therapist.shot(test, "2-client-page")
    assert therapist.csp_violations() == []


def _artifact(name: str) -> Any:
    from .browser import ARTIFACTS

    return ARTIFACTS / name
