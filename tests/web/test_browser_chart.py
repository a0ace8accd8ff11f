"""The trajectory chart in a real browser (Playwright driving Debian's chromium, desktop):
drawn by Vega under the page's CSP, values on hover and on keyboard focus, the static image
without JavaScript and in print; the dropout-risk panel beside it. Screenshots of each step
are saved under ``test-artifacts/`` (look at them)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from commonfactors_web.accounts.models import User
from commonfactors_web.clients.models import Client

from .browser import ARTIFACTS, DESKTOP, Person, log_in
from .test_trajectory import ALLIANCE, GAD7, PHQ9, alliance, gad7, phq9, record

pytestmark = pytest.mark.django_db(transaction=True)

TEST = "chart"


@pytest.fixture
def five_sessions(client_record: Client) -> Client:
    for n in range(1, 6):
        record(
            client_record,
            n,
            {
                "phq9": phq9(PHQ9[n - 1]),
                "gad7": gad7(GAD7[n - 1]),
                "cf_alliance": alliance(ALLIANCE[n - 1]),
            },
        )
    return client_record


def open_client_page(person: Person, client: Client) -> Any:
    page = person.page
    page.goto(f"/clients/{client.pk}/")
    figure = page.locator("#trajectory-phq9")
    figure.locator(".chart-canvas svg").wait_for()
    figure.locator('.chart-canvas [aria-roledescription="point"]').first.wait_for()
    return figure


def shot(person: Person, figure: Any, step: str) -> None:
    """The whole page, and the chart's figure alone (legible at full size)."""
    person.shot(TEST, step)
    figure.screenshot(path=str(ARTIFACTS / f"{TEST}-{step}-{person.name}-figure.png"))


def chart_text(figure: Any) -> list[str]:
    return [t.strip() for t in figure.locator(".chart-canvas svg text").all_text_contents()]


def test_the_chart_draws_shows_values_on_hover_and_focus_and_prints(
    chromium: Any, live_server: Any, owner: User, five_sessions: Client
) -> None:
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page
    figure = open_client_page(therapist, five_sessions)
    figure.scroll_into_view_if_needed()

    # drawn: one point per session, each named for screen readers; the static copy hidden
    points = figure.locator('.chart-canvas path[aria-roledescription="point"][aria-label]')
    labels = points.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    scores = [label for label in labels if re.match(r"Session \d+: PHQ-9 ", label)]
    assert [label.split(":")[0] for label in scores] == [f"Session {n}" for n in range(1, 6)]
    assert "Expected score at session 6: " in " ".join(labels)
    assert not figure.locator(".chart-static").is_visible()
    assert "SYNTHETIC" in " ".join(chart_text(figure))
    shot(therapist, figure, "1-drawn")

    # hover: the tooltip shows the session's values
    # (the pointer lands on the larger invisible target drawn over the point)
    box = figure.locator('.chart-canvas path[aria-label^="Session 4:"]').bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert re.search(r"PHQ-9 total\s+23", text), text
    assert "Not on track (red)" in text and "Change since intake" in text
    shot(therapist, figure, "2-hover")

    # keyboard: Tab to the chart; the latest session is shown, arrows move between sessions
    page.mouse.move(0, 0)
    page.locator("h1").focus()
    canvas = figure.locator(".chart-canvas")
    for _ in range(60):
        page.keyboard.press("Tab")
        if canvas.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the chart is not reachable with the Tab key")
    readout = figure.locator(".chart-readout")
    assert readout.inner_text() == "Session 5: PHQ-9 12 (-8 since intake), on track"
    assert "Session 5: 12" in chart_text(figure)
    page.keyboard.press("ArrowLeft")
    assert readout.inner_text() == "Session 4: PHQ-9 23 (+3 since intake), not on track (red)"
    assert "Session 4: 23" in chart_text(figure)
    assert "Session 5: 12" not in chart_text(figure)
    shot(therapist, figure, "3-keyboard")
    page.keyboard.press("Home")
    assert readout.inner_text().startswith("Session 1: PHQ-9 20 (intake)")
    assert "Session 1: 20" in chart_text(figure)
    page.keyboard.press("Tab")  # leaving the chart takes the ring away
    assert not [t for t in chart_text(figure) if t.startswith("Session ")]

    # the text alternative
    figure.get_by_text("PHQ-9 values as a table").click()
    assert figure.locator("#trajectory-phq9-table tbody tr").count() == 5
    shot(therapist, figure, "4-table")

    # print: the server's static image, never the interactive one
    page.emulate_media(media="print")
    assert figure.locator(".chart-static svg").is_visible()
    assert not canvas.is_visible()
    shot(therapist, figure, "5-print")
    page.emulate_media(media="screen")

    # below the profile: the dropout risk from the first two sessions, with what went in
    panel = page.locator("section.dropout")
    panel.scroll_into_view_if_needed()
    assert "estimated chance that this episode ends early" in panel.inner_text()
    assert panel.locator("tbody tr").count() == 7
    assert panel.get_by_text("Share of homework done").is_visible()
    panel.screenshot(path=str(ARTIFACTS / f"{TEST}-6-dropout-{therapist.name}.png"))

    assert therapist.csp_violations() == []
    assert not [m for m in therapist.console if "rror" in m], therapist.console
    therapist.close()


def test_without_javascript_the_static_chart_shows(
    chromium: Any, live_server: Any, owner: User, five_sessions: Client
) -> None:
    reader = Person(chromium, live_server.url, "no-js", java_script_enabled=False, **DESKTOP)
    log_in(reader, "olivia")
    page = reader.page
    page.goto(f"/clients/{five_sessions.pk}/")
    figure = page.locator("#trajectory-phq9")
    static = figure.locator(".chart-static")
    assert static.is_visible()
    assert static.get_attribute("role") == "img"
    assert "reliably improved" in (static.get_attribute("aria-label") or "")
    assert static.locator('[aria-roledescription="point"][aria-label*=": PHQ-9 "]').count() == 5
    assert not figure.locator(".chart-canvas").is_visible()
    figure.scroll_into_view_if_needed()
    shot(reader, figure, "6-no-javascript")
    reader.close()
