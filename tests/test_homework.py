"""commonfactors.homework: the forms as data, checking a completed form, completion."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from commonfactors.errors import CommonFactorsError, DefinitionError
from commonfactors.homework import (
    JOURNAL_MAX_CHARS,
    AssignmentRecord,
    FormDefinition,
    HomeworkError,
    JournalError,
    UnknownFormError,
    all_forms,
    check_journal_text,
    completion,
    get_form,
    read_form,
    validate,
)
from commonfactors.homework.forms import DATA_DIR
from commonfactors.homework.schema import RowsField, TextField

THOUGHT_RECORD = {
    "situation": "  Colleague did not answer my message.  ",
    "feelings": [
        {"feeling": "anxious", "intensity": "70"},
        {"feeling": "", "intensity": ""},  # an empty row of the form: dropped
        {"feeling": "sad", "intensity": 40},
    ],
    "automatic_thought": "She is annoyed with me.",
    "belief": "80",
    "evidence_for": "She was short with me last week.",
    "evidence_against": "She is often busy on Mondays.",
    "balanced_thought": "She may be busy; I can ask her tomorrow.",
    "balanced_belief": "",
    "feelings_after": [{"feeling": "anxious", "intensity": 35}],
}


# ------------------------------------------------------------------ the library of forms


def test_the_library_has_the_six_forms_in_order() -> None:
    assert [f.id for f in all_forms()] == [
        "thought_record",
        "activity_schedule",
        "exposure_ladder",
        "mindfulness_log",
        "dream_log",
        "journaling_prompt",
    ]


@pytest.mark.parametrize("form", all_forms(), ids=lambda f: f.id)
def test_every_form_cites_its_source_and_is_our_own_text(form: FormDefinition) -> None:
    assert form.sources and all(len(s.citation) > 30 for s in form.sources)
    assert "Apache-2.0" in form.licence
    assert form.instructions and form.summary and form.technique


def test_the_forms_have_the_fields_the_techniques_need() -> None:
    tr = get_form("thought_record")
    feelings = tr.field("feelings")
    assert isinstance(feelings, RowsField)
    intensity = next(c for c in feelings.fields if c.id == "intensity")
    assert (intensity.min, intensity.max) == (0, 100)  # type: ignore[union-attr]
    for fid in ("situation", "automatic_thought", "belief", "evidence_for", "evidence_against"):
        tr.field(fid)
    steps = get_form("exposure_ladder").field("steps")
    assert isinstance(steps, RowsField)
    assert {c.id for c in steps.fields} >= {"suds_before", "suds_after"}
    rows = get_form("activity_schedule").field("activities")
    assert isinstance(rows, RowsField)
    assert {c.id for c in rows.fields} >= {"day", "time", "activity", "mood", "pleasure"}
    assert isinstance(get_form("dream_log").field("dream"), TextField)


def test_an_unknown_form_is_named() -> None:
    with pytest.raises(UnknownFormError, match="no homework form 'cbt_diary'"):
        get_form("cbt_diary")


def test_a_bad_definition_file_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "id: broken\nversion: '1'\norder: 1\ntitle: B\ntechnique: t\napproach: a\nsummary: s\n"
        "instructions: i\nsources: [{citation: c}]\nlicence: l\n"
        "fields:\n  - {id: n, kind: integer, label: N, min: 5, max: 1}\n"
        "  - {id: r, kind: rows, label: R, row_label: Row, min_rows: 3, max_rows: 2,"
        " shown_rows: 1, fields: [{id: x, kind: text, label: X, max_length: 5}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        read_form(path)
    text = "\n".join(caught.value.problems)
    assert "version" in text and "min must be below max" in text
    assert "min_rows must not exceed max_rows" in text


def test_a_definition_file_is_named_after_its_id(tmp_path: Path) -> None:
    text = (DATA_DIR / "dream_log.yaml").read_text(encoding="utf-8")
    path = tmp_path / "dreams.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"must be named dream_log\.yaml"):
        read_form(path)


# ------------------------------------------------------------------ validate


def test_a_good_thought_record_comes_back_clean() -> None:
    clean = validate("thought_record", THOUGHT_RECORD)
    assert clean["situation"] == "Colleague did not answer my message."
    assert clean["feelings"] == [
        {"feeling": "anxious", "intensity": 70},
        {"feeling": "sad", "intensity": 40},
    ]
    assert clean["belief"] == 80
    assert clean["balanced_belief"] is None
    assert list(clean) == [f.id for f in get_form("thought_record").fields]


def test_every_problem_is_named_at_once_with_its_row_and_field() -> None:
    entry = dict(THOUGHT_RECORD)
    entry["situation"] = ""
    entry["belief"] = "lots"
    entry["feelings"] = [
        {"feeling": "anxious", "intensity": "140"},
        {"feeling": "", "intensity": "30"},
        {"feeling": "x" * 61, "intensity": "7.5"},
    ]
    entry["feelings_after"] = []
    with pytest.raises(HomeworkError) as caught:
        validate("thought_record", entry)
    err = caught.value
    assert err.by_field["situation"] == ("Situation: please fill this in",)
    assert "is not a whole number" in err.by_field["belief"][0]
    assert err.by_field["feelings.1.intensity"] == (
        "Feeling 1, How strong (0–100): 140 is outside 0–100; "
        "expected a whole number from 0 to 100",
    )
    assert err.by_field["feelings.2.feeling"] == ("Feeling 2, Feeling: please fill this in",)
    assert "61 characters; at most 60" in err.by_field["feelings.3.feeling"][0]
    assert "“7.5” is not a whole number" in err.by_field["feelings.3.intensity"][0]
    assert err.by_field["feelings_after"] == (
        "Feelings now: at least 1 feeling now needed, 0 filled in",
    )
    assert len(err.problems) == 7
    assert isinstance(err, CommonFactorsError) and isinstance(err, ValueError)


def test_too_many_rows_unknown_fields_and_wrong_shapes_are_refused() -> None:
    entry = {
        "fear": "lifts",
        "steps": [{"step": f"step {i}", "suds_before": 10} for i in range(13)],
        "colour": "blue",
    }
    with pytest.raises(HomeworkError) as caught:
        validate("exposure_ladder", entry)
    assert caught.value.by_field["steps"] == ("Steps: at most 12 steps fit, 13 filled in",)
    assert caught.value.by_field[""] == ("unknown field “colour”",)
    with pytest.raises(HomeworkError, match="expected a list of rows"):
        validate("exposure_ladder", {"fear": "lifts", "steps": "all of them"})
    with pytest.raises(HomeworkError, match="unknown column “mood”"):
        validate(
            "exposure_ladder", {"fear": "x", "steps": [{"step": "a", "suds_before": 1, "mood": 2}]}
        )


def test_dates_times_and_choices_are_checked_and_made_iso() -> None:
    clean = validate(
        "activity_schedule",
        {
            "activities": [
                {"day": "2026-03-02", "time": "7:05", "activity": "walk", "mood": "6"},
                {"day": date(2026, 3, 3), "time": "", "activity": "TV", "mood": 3, "pleasure": 2},
            ]
        },
    )
    assert clean["activities"][0] == {
        "day": "2026-03-02",
        "time": "07:05",
        "activity": "walk",
        "mood": 6,
        "pleasure": None,
        "achievement": None,
    }
    assert clean["activities"][1]["day"] == "2026-03-03"
    with pytest.raises(HomeworkError) as caught:
        validate(
            "mindfulness_log",
            {"sessions": [{"date": "31/02/2026", "minutes": 0, "practice": "yoga"}]},
        )
    by = caught.value.by_field
    assert "is not a date" in by["sessions.1.date"][0]
    assert "0 is outside 1–240" in by["sessions.1.minutes"][0]
    assert "not one of the choices (Breath, Body scan" in by["sessions.1.practice"][0]
    with pytest.raises(HomeworkError, match="is not a time of day"):
        validate(
            "activity_schedule",
            {"activities": [{"day": "2026-03-02", "time": "25:00", "activity": "a", "mood": 1}]},
        )


def test_an_entry_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(HomeworkError, match="must map each field"):
        validate("dream_log", ["a dream"])  # type: ignore[arg-type]


def test_text_keeps_its_lines_and_booleans_are_not_numbers() -> None:
    clean = validate("dream_log", {"dream": "A house.\r\nA door.", "dreamt_on": None})
    assert clean["dream"] == "A house.\nA door."
    with pytest.raises(HomeworkError, match="True is not a whole number"):
        validate("journaling_prompt", {"writing": "x", "minutes": True})


# ------------------------------------------------------------------ completion

TODAY = date(2026, 3, 20)


def test_completion_counts_due_completed_on_time_and_the_last_completion() -> None:
    records = [
        AssignmentRecord(date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 7)),  # on time
        AssignmentRecord(date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 10)),  # late
        AssignmentRecord(date(2026, 3, 8), date(2026, 3, 15)),  # overdue
        AssignmentRecord(date(2026, 3, 18), date(2026, 3, 25)),  # open: not yet due
        AssignmentRecord(date(2026, 3, 18), date(2026, 3, 25), date(2026, 3, 19)),  # early
        AssignmentRecord(date(2026, 3, 1), date(2026, 3, 5), withdrawn=True),
    ]
    s = completion(records, today=TODAY)
    assert (s.assigned, s.due, s.completed, s.completed_on_time) == (5, 4, 3, 2)
    assert (s.overdue, s.open) == (1, 1)
    assert s.rate == pytest.approx(0.75) and s.percent == 75
    assert s.last_completion == date(2026, 3, 19)
    assert "withdrawn" in s.rule


def test_completion_with_nothing_due_has_no_rate() -> None:
    s = completion([AssignmentRecord(date(2026, 3, 18), date(2026, 3, 25))], today=TODAY)
    assert (s.assigned, s.due, s.rate, s.percent, s.last_completion) == (1, 0, None, None, None)
    assert completion([], today=TODAY).rate is None


def test_without_a_due_date_homework_is_due_a_week_after_it_was_set() -> None:
    set_on = date(2026, 3, 12)
    assert completion([AssignmentRecord(set_on)], today=date(2026, 3, 19)).due == 0
    late = completion([AssignmentRecord(set_on)], today=date(2026, 3, 20))
    assert (late.due, late.overdue, late.rate) == (1, 1, 0.0)
    done = completion([AssignmentRecord(set_on, None, date(2026, 3, 19))], today=TODAY)
    assert (done.completed_on_time, done.rate) == (1, 1.0)


def test_due_on_the_day_is_not_yet_overdue() -> None:
    s = completion([AssignmentRecord(date(2026, 3, 13), TODAY)], today=TODAY)
    assert (s.overdue, s.open) == (0, 1)


# ------------------------------------------------------------------ journal


def test_journal_text_keeps_spaces_and_refuses_what_does_not_fit() -> None:
    assert check_journal_text("Today \r\nwas ") == "Today \nwas "
    assert len(check_journal_text("a" * JOURNAL_MAX_CHARS)) == JOURNAL_MAX_CHARS
    with pytest.raises(JournalError, match="start a new entry"):
        check_journal_text("a" * (JOURNAL_MAX_CHARS + 1))
    with pytest.raises(JournalError):
        check_journal_text(None)


def test_completion_is_as_of_its_day_so_a_past_session_sees_what_was_known_then() -> None:
    records = [
        AssignmentRecord(date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 7)),  # done early
        AssignmentRecord(date(2026, 3, 8), date(2026, 3, 15), date(2026, 3, 20)),  # done late
        AssignmentRecord(date(2026, 3, 16), date(2026, 3, 22)),  # set after the 15th
    ]
    at_15 = completion(records, today=date(2026, 3, 15))
    assert (at_15.assigned, at_15.due, at_15.completed, at_15.open) == (2, 1, 1, 1)
    assert at_15.rate == 1.0 and at_15.last_completion == date(2026, 3, 7)
    at_16 = completion(records, today=date(2026, 3, 16))  # the second is now overdue
    assert (at_16.assigned, at_16.due, at_16.completed, at_16.overdue) == (3, 2, 1, 1)
    assert at_16.rate == 0.5
    at_23 = completion(records, today=date(2026, 3, 23))
    assert (at_23.due, at_23.completed, at_23.overdue, at_23.rate) == (3, 2, 1, 2 / 3)
    assert at_23.last_completion == date(2026, 3, 20)


def test_at_a_session_homework_due_that_day_and_not_done_counts_as_not_done() -> None:
    first, second = date(2026, 3, 1), date(2026, 3, 8)
    undone = [AssignmentRecord(first, second), AssignmentRecord(second, date(2026, 3, 15))]
    # on the day, outside a session, it is still open; at the session it was not done
    assert completion(undone, today=second).rate is None
    at = completion(undone, today=second, at_session=True)
    assert (at.assigned, at.due, at.overdue, at.rate) == (1, 1, 1, 0.0)  # the new task: not yet
    done = [AssignmentRecord(first, second, second)]
    assert completion(done, today=second, at_session=True).rate == 1.0
