"""The caseload: most urgent first, with filters and search (issue 5 §1)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind, Signal, SignalKind
from commonfactors_web.checkins.models import MeasurementPlan
from commonfactors_web.clients.models import Attendance, Client, EpisodeStatus, Session
from commonfactors_web.clients.services import create_client

from .helpers import browser_for

pytestmark = pytest.mark.django_db


def new_client(owner: User, plan: MeasurementPlan, code: str, **kw: Any) -> Client:
    return create_client(owner, code, measurement_plan=plan, started_on=timezone.localdate(), **kw)


def signal(client: Client, status: str, *, kind: str = SignalKind.OUTCOME, n: int = 2) -> None:
    episode = client.episodes.get()
    for number in range(1, n + 1):
        Session.objects.get_or_create(
            episode=episode, number=number, defaults={"date": timezone.localdate()}
        )
    Signal.objects.create(
        episode=episode,
        kind=kind,
        instrument="phq9" if kind == SignalKind.OUTCOME else "cf_alliance",
        session_number=n,
        score=15,
        status=status,
    )


def alert(client: Client, kind: str) -> None:
    Alert.objects.create(episode=client.episodes.get(), kind=kind, summary=f"{kind} (test)")


@pytest.fixture
def caseload(owner: User, plan: MeasurementPlan) -> dict[str, Client]:
    """One client in each urgency tier, created in reverse order of urgency."""
    c = {
        code: new_client(owner, plan, code)
        for code in ["A-rest", "B-overdue", "C-yellow", "D-rupture", "E-red", "F-risk"]
    }
    signal(c["A-rest"], "on_track")
    overdue = c["B-overdue"].episodes.get()
    overdue.started_on = timezone.localdate() - timedelta(days=40)
    overdue.save()
    Session.objects.create(
        episode=overdue,
        number=1,
        date=timezone.localdate() - timedelta(days=30),
        attendance=Attendance.ATTENDED,
    )
    signal(c["C-yellow"], "yellow")
    signal(c["D-rupture"], "rupture", kind=SignalKind.ALLIANCE)
    signal(c["E-red"], "red")
    alert(c["E-red"], AlertKind.NOT_ON_TRACK)
    signal(c["F-risk"], "on_track")
    alert(c["F-risk"], AlertKind.RISK)
    return c


def codes(html: str) -> list[str]:
    return re.findall(r'<a href="/clients/\d+/">([A-Z]-[a-z]+)</a>', html)


def test_the_most_urgent_come_first(caseload: dict[str, Client], owner: User) -> None:
    html = browser_for(owner).get("/clients/").content.decode()
    assert codes(html) == ["F-risk", "E-red", "D-rupture", "C-yellow", "B-overdue", "A-rest"]
    assert "Open risk alert" in html and "Alliance rupture" in html
    assert "Check-in overdue" in html and "days late" in html


def test_each_row_shows_sessions_and_the_next_check_in(
    caseload: dict[str, Client], owner: User
) -> None:
    html = browser_for(owner).get("/clients/").content.decode()
    row = html[html.index(">B-overdue<") :].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[0] == "1"  # one attended session
    due = timezone.localdate() - timedelta(days=23)
    assert f"{due.day} {due:%b} {due.year}" in cells[-1] and "23 days late" in cells[-1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("flag=red", ["E-red"]),
        ("flag=attention", ["F-risk", "E-red", "D-rupture", "C-yellow", "B-overdue"]),
        ("flag=rest", ["A-rest"]),
        ("flag=overdue", ["B-overdue"]),
        ("q=rupt", ["D-rupture"]),
        ("q=nobody", []),
    ],
)
def test_filters_and_search(
    caseload: dict[str, Client], owner: User, query: str, expected: list[str]
) -> None:
    html = browser_for(owner).get(f"/clients/?{query}").content.decode()
    assert codes(html) == expected
    if not expected:
        assert "No clients match these filters." in html


def test_ended_episodes_are_shown_apart(caseload: dict[str, Client], owner: User) -> None:
    episode = caseload["A-rest"].episodes.get()
    episode.status, episode.ended_on = EpisodeStatus.FINISHED, timezone.localdate()
    episode.save()
    browser = browser_for(owner)
    assert "A-rest" not in codes(browser.get("/clients/").content.decode())
    assert codes(browser.get("/clients/?episodes=ended").content.decode()) == ["A-rest"]
    assert len(codes(browser.get("/clients/?episodes=all").content.decode())) == 6


def test_a_supervisor_filters_by_therapist_and_others_see_nothing(
    caseload: dict[str, Client],
    owner: User,
    teammate: User,
    colleague: User,
    outsider: User,
    plan: MeasurementPlan,
) -> None:
    create_client(teammate, "T-tom", measurement_plan=plan)
    sup = browser_for(colleague)
    assert len(codes(sup.get("/clients/").content.decode())) == 7
    assert codes(sup.get(f"/clients/?therapist={teammate.pk}").content.decode()) == ["T-tom"]
    assert codes(browser_for(teammate).get("/clients/").content.decode()) == ["T-tom"]
    # a therapist cannot widen their caseload with the supervisor's filter
    assert codes(browser_for(teammate).get(f"/clients/?therapist={owner.pk}").content.decode()) == [
        "T-tom"
    ]
    assert codes(browser_for(outsider).get("/clients/").content.decode()) == []
    assert browser_for(None).get("/clients/").status_code == 302


def test_the_caseload_costs_the_same_queries_for_6_or_36_clients(
    caseload: dict[str, Client], owner: User, plan: MeasurementPlan
) -> None:
    browser = browser_for(owner)
    browser.get("/clients/")  # warm
    with CaptureQueriesContext(connection) as small:
        browser.get("/clients/")
    for n in range(30):
        signal(new_client(owner, plan, f"Z-{n:02d}"), "yellow" if n % 2 else "on_track")
    with CaptureQueriesContext(connection) as large:
        html = browser.get("/clients/").content.decode()
    assert "36 clients" in html
    assert len(large.captured_queries) == len(small.captured_queries)
