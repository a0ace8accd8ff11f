"""The team dashboard in a real browser: Sam, the demo practice's supervisor, opens Team
outcomes, sees the figures with their intervals, the funnel plot (rendered on the server as
SVG) with its table, narrows the period, and opens a therapist's profile and log.
Screenshots under ``test-artifacts/practice-*``."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent

from .browser import ARTIFACTS, DESKTOP, Person, log_in
from .helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_supervisor_sees_the_team_dashboard_with_the_funnel_plot(
    chromium: Any, live_server: Any
) -> None:
    test = "practice"
    call_command("seed_demo", stdout=StringIO())  # as `make demo` loads it
    supervisor = User.objects.get(username="supervisor")
    supervisor.set_password(PASSWORD)  # the test people's password, for log_in
    supervisor.save()
    sam = Person(chromium, live_server.url, "supervisor", **DESKTOP)
    log_in(sam, "supervisor")
    page = sam.page
    page.get_by_role("link", name="Team outcomes").click()
    page.get_by_role("heading", name="Team outcomes", level=1).wait_for()
    summary = page.get_by_role("table", name="Outcomes of the team")
    assert "Reliable improvement" in summary.inner_text()
    assert "%" in summary.inner_text()
    funnel = page.locator("figure.funnel svg")
    funnel.wait_for()
    assert funnel.is_visible() and funnel.bounding_box()["width"] > 300
    table = page.get_by_role("table", name="The funnel plot as a table")
    assert all(name in table.inner_text() for name in ("Theo", "Tara", "Toni"))
    sam.shot(test, "1-dashboard")
    page.locator("figure.funnel").screenshot(path=str(ARTIFACTS / f"{test}-2-funnel.png"))

    page.get_by_label("From", exact=True).fill("2026-09-01")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name="Outcomes (Sept. 1, 2026 – today)").wait_for()
    sam.shot(test, "3-period")

    page.get_by_role("link", name="Profile and log of Theo Therapist").click()
    page.get_by_role("heading", name="Outcomes and development of Theo Therapist").wait_for()
    assert page.get_by_role("button", name="Add to the log").count() == 0
    sam.shot(test, "4-therapist")
    assert AuditEvent.objects.filter(action="practice.dashboard.view").count() == 2
    assert sam.csp_violations() == []
    sam.close()
