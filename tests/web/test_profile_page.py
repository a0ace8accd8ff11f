"""The common-factors profile on the client page: what the library says, from the records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from commonfactors_web.accounts.models import User
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.clients.profile import episode_profile

from .helpers import PHQ9_MILD, browser_for

pytestmark = pytest.mark.django_db


def alliance(*values: int) -> dict[str, object]:
    return {"answers": {f"cf_alliance_{i}": v for i, v in enumerate(values, start=1)}}


@pytest.fixture
def measured(client_record: Client) -> Client:
    """Sessions 1-4: alliance 3.5 at session 2, session 3 missed, alliance 2.25 at session 4."""
    episode = client_record.episodes.get()
    today = timezone.localdate()
    record_past_session(
        episode,
        1,
        today - timedelta(days=21),
        Attendance.ATTENDED,
        {"phq9": {"answers": PHQ9_MILD}},
    )
    record_past_session(
        episode,
        2,
        today - timedelta(days=14),
        Attendance.ATTENDED,
        {"cf_alliance": alliance(4, 3, 4, 3)},
    )
    record_past_session(episode, 3, today - timedelta(days=7), Attendance.DID_NOT_ATTEND, {})
    record_past_session(
        episode, 4, today, Attendance.ATTENDED, {"cf_alliance": alliance(2, 2, 3, 2)}
    )
    return client_record


def test_the_profile_reads_the_episodes_records(measured: Client) -> None:
    standings = {s.factor.id: s for s in episode_profile(measured.episodes.get())}
    a = standings["alliance"]
    assert (a.value, a.session, a.count, a.trend) == (2.25, 4, 2, "lower")
    att = standings["attendance"]
    assert att.summary == "3 of 4 booked sessions attended" and att.trend is None
    assert not standings["empathy"].measured and not standings["expectancy"].measured


def test_the_client_page_shows_each_factor_with_its_evidence(measured: Client, owner: User) -> None:
    page = browser_for(owner).get(f"/clients/{measured.pk}/").content.decode()
    assert "Common factors" in page
    assert "2.25 on Alliance (practice) (0–4)" in page
    assert "1.25 lower since the first measurement (3.5)" in page
    assert "3 of 4 booked sessions attended" in page
    assert "1 missed without notice." in page
    assert page.count("Not measured in this episode.") == 7  # all but alliance and attendance
    assert "r = .28 with outcome (295 studies, over 30,000 clients)" in page
    assert "Flückiger" in page


def test_a_supervisor_sees_the_profile_and_an_outsider_sees_nothing(
    measured: Client, colleague: User, outsider: User
) -> None:
    assert (
        "Common factors" in browser_for(colleague).get(f"/clients/{measured.pk}/").content.decode()
    )
    assert browser_for(outsider).get(f"/clients/{measured.pk}/").status_code == 404
