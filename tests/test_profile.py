"""The common-factors profile: every factor's standing, worked by hand."""

from __future__ import annotations

from datetime import date

from commonfactors.homework.completion import AssignmentRecord, completion
from commonfactors.instruments.registry import default_registry
from commonfactors.profile import (
    Attendance,
    Measurement,
    _trend,
    factors,
    profile,
)


def by_id(standings: list) -> dict:  # type: ignore[type-arg]
    return {s.factor.id: s for s in standings}


def test_every_factor_the_issue_names_is_described_with_a_source() -> None:
    ids = [f.id for f in factors()]
    assert ids == [
        "alliance",
        "empathy",
        "expectancy",
        "motivation",
        "goals",
        "homework",
        "attendance",
        "culture",
        "preferences",
    ]
    alliance = factors()[0]
    assert "r = .28" in alliance.association and "Flückiger" in alliance.source
    for f in factors():
        assert f.meaning and f.association and f.source
        assert f.measures or f.records


def test_nothing_measured_is_shown_as_missing_never_guessed() -> None:
    standings = profile([])
    assert len(standings) == len(factors())
    for s in standings:
        assert not s.measured and s.value is None
        assert s.summary == "Not measured in this episode"


def test_the_latest_score_stands_and_the_trend_is_described_without_a_threshold() -> None:
    # cf_alliance: mean of four 0-4 items; no reliable-change threshold in its definition
    ms = [
        Measurement("cf_alliance", 3.5, session=2, date=date(2026, 1, 8)),
        Measurement("cf_alliance", 2.25, session=4, date=date(2026, 1, 22)),
        Measurement("phq9", 14, session=4, date=date(2026, 1, 22)),  # not a factor: ignored
    ]
    s = by_id(profile(ms))["alliance"]
    assert s.measured and s.instrument == "cf_alliance" and s.value == 2.25
    assert s.summary == "2.25 on Alliance (practice) (0–4)"
    assert (s.low, s.high, s.session, s.count) == (0, 4, 4, 2)
    assert s.position == 2.25 / 4
    assert s.trend == "lower"
    assert s.trend_text.startswith("1.25 lower since the first measurement (3.5)")
    assert "not judged as real change" in s.trend_text


def test_a_factor_measured_by_two_instruments_stands_on_the_latest() -> None:
    ms = [
        Measurement("cf_empathy", 3.0, session=2, date=date(2026, 1, 8)),
        Measurement("care", 40, session=5, date=date(2026, 2, 1)),
    ]
    s = by_id(profile(ms))["empathy"]
    assert s.instrument == "care" and s.value == 40 and s.trend == "once"
    assert s.details == ("Also measured with Empathy (practice).",)


def test_reliable_change_is_used_where_the_instrument_has_a_threshold() -> None:
    reg = default_registry()
    # PHQ-9's published threshold is 6 points (lower is better)
    better, text = _trend("phq9", [Measurement("phq9", 18), Measurement("phq9", 10)], reg)
    assert better == "better" and "8 points down (threshold 6)" in text
    same, text = _trend("phq9", [Measurement("phq9", 18), Measurement("phq9", 13)], reg)
    assert same == "no_reliable_change" and "6 points would be" in text
    worse, _ = _trend("phq9", [Measurement("phq9", 8), Measurement("phq9", 14)], reg)
    assert worse == "worse"


def test_attendance_counts_booked_sessions_and_sets_cancellations_apart() -> None:
    s = by_id(profile([], attendance=Attendance(9, 1, 2, last_missed=True)))["attendance"]
    assert s.summary == "9 of 10 booked sessions attended"
    assert s.value == 0.9 and s.trend == "worse"
    assert s.details == ("1 missed without notice.", "2 cancelled (not counted as booked).")


def test_homework_assignments_come_first_and_the_questionnaire_is_added() -> None:
    ms = [Measurement("cf_homework", 2.0, session=3, date=date(2026, 1, 15))]
    day = date(2026, 1, 20)
    records = [
        AssignmentRecord(
            assigned_on=date(2026, 1, 1), due_on=date(2026, 1, 8), completed_on=date(2026, 1, 7)
        ),
        AssignmentRecord(
            assigned_on=date(2026, 1, 8), due_on=date(2026, 1, 15), completed_on=date(2026, 1, 17)
        ),
        AssignmentRecord(assigned_on=date(2026, 1, 8), due_on=date(2026, 1, 15)),
        AssignmentRecord(assigned_on=date(2026, 1, 15), due_on=date(2026, 1, 22)),
    ]
    s = by_id(profile(ms, homework=completion(records, today=day)))["homework"]
    # 3 due so far (2 completed, 1 overdue); the 4th is not due yet and not counted
    assert s.summary == "2 of 3 due assignments completed" and s.value == 2 / 3
    assert s.trend_text == "Last completed 17 Jan 2026; 1 on time."
    assert s.details[:2] == ("1 overdue.", "1 set and not due yet.")
    assert s.details[2].startswith("Client-rated: 2 on Homework (practice)")
    nothing = by_id(profile(ms, homework=completion([], today=day)))["homework"]
    assert nothing.instrument == "cf_homework"
