"""Reading a practice's history for import (commonfactors.importing)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest

import commonfactors
from commonfactors import fhir_out, importing, tidy
from commonfactors.importing import read_history

HEADER = "client_code,started_on,session,date,instrument,item,value\n"


def _phq9_rows(code: str, session: int, day: str, values: list[int | str]) -> str:
    return "".join(
        f"{code},2025-01-06,{session},{day},phq9,phq9_{i},{v}\n"
        for i, v in enumerate(values, start=1)
    )


def test_simple_answers_layout_is_read_and_scored_by_the_library() -> None:
    text = (
        HEADER
        + _phq9_rows("A-1", 1, "2025-01-06", [2] * 9)
        + _phq9_rows("A-1", 2, "2025-01-13", [1] * 8 + [0])
    )
    history = read_history({"history.csv": text.encode()})
    assert history.problems == ()
    assert history.clients == ("A-1",)
    assert [(e.client, e.started_on, e.status) for e in history.episodes] == [
        ("A-1", date(2025, 1, 6), "active")
    ]
    first, second = history.sessions
    assert (first.number, first.date, first.attendance) == (1, date(2025, 1, 6), "attended")
    assert first.scores["phq9"].total == commonfactors.score("phq9", [2] * 9).total == 18
    assert second.scores["phq9"].total == 8
    assert first.answers["phq9"]["phq9_9"] == 2
    assert history.administrations == 2


def test_every_problem_is_named_with_its_row_and_column() -> None:
    text = (
        HEADER
        + _phq9_rows("A-1", 1, "2025-01-06", [2] * 8 + [7])  # 7 is not a PHQ-9 answer
        + "A-2,2025-13-01,1,2025-01-06,phq9,phq9_1,1\n"  # bad episode date (row 11)
        + "A-3,2025-01-06,x,2025-01-06,phq9,phq9_1,1\n"  # bad session (row 12)
        + ",2025-01-06,1,2025-01-06,phq9,phq9_1,1\n"  # no client (row 13)
        + "A-4,2025-01-06,1,2025-01-06,phq9,phq9_1,one\n"  # not a number (row 14)
    )
    history = read_history({"h.csv": text.encode()})
    problems = [str(p) for p in history.problems]
    assert any(p.startswith("h.csv, row 11, column started_on: '2025-13-01'") for p in problems)
    assert any(p.startswith("h.csv, row 12, column session: 'x'") for p in problems)
    assert any(p.startswith("h.csv, row 13: no client") for p in problems)
    assert any(p.startswith("h.csv, row 14, column value: 'one'") for p in problems)
    assert any(p.startswith("h.csv, rows 2–10: A-1 session 1 phq9") and "7" in p for p in problems)
    assert len(problems) == 5


def test_totals_only_are_refused_never_turned_into_answers() -> None:
    text = (
        "client_code,started_on,session,date,instrument,total\n"
        "A-1,2025-01-06,1,2025-01-06,phq9,12\n"
    )
    history = read_history({"scores.csv": text.encode()})
    assert history.sessions == ()
    (problem,) = history.problems
    assert "totals without item answers are not imported" in str(problem)


def test_unknown_layout_and_missing_columns_are_named() -> None:
    history = read_history(
        {
            "a.csv": b"foo,bar\n1,2\n",
            "b.csv": b"client_code,instrument,item,value\nA,phq9,phq9_1,1\n",
            "c.txt": b"hello",
        }
    )
    text = [str(p) for p in history.problems]
    assert text[0].startswith("a.csv, header: unknown layout")
    assert text[1] == (
        "b.csv, header: missing column(s) session, date, started_on for a answers table"
    )
    assert text[2].startswith("c.txt: expected a .csv")


def test_episodes_and_sessions_tables_give_status_and_attendance() -> None:
    episodes = (
        "client_code,started_on,ended_on,status\n"
        "A-1,2025-01-06,2025-03-01,finished\n"
        "A-2,2025-01-06,,dropped_out\n"  # row 3: needs an end
    )
    sessions = (
        "client_code,started_on,session,date,attendance\n"
        "A-1,2025-01-06,1,2025-01-06,attended\n"
        "A-1,2025-01-06,2,2025-01-13,did_not_attend\n"
        "A-1,2025-01-06,3,2025-01-20,late\n"  # row 4
    )
    answers = HEADER + _phq9_rows("A-1", 1, "2025-01-06", [1] * 9)
    history = read_history(
        {
            "episodes.csv": episodes.encode(),
            "sessions.csv": sessions.encode(),
            "answers.csv": answers.encode(),
        }
    )
    assert [str(p) for p in history.problems] == [
        "episodes.csv, row 3, column ended_on: a dropped_out episode needs its end",
        "sessions.csv, row 4, column attendance: 'late': expected attended, cancelled, "
        "did_not_attend",
    ]
    assert history.episodes[0].status == "finished"
    assert [(s.number, s.attendance, list(s.answers)) for s in history.sessions] == [
        (1, "attended", ["phq9"]),
        (2, "did_not_attend", []),
    ]


def _records() -> tuple[
    list[tidy.EpisodeRecord], list[tidy.SessionRecord], list[tidy.AdministrationRecord]
]:
    episodes = [tidy.EpisodeRecord("c-1", "e-1", date(2025, 1, 6), None, "active")]
    sessions = [
        tidy.SessionRecord("e-1", 1, date(2025, 1, 6), "attended"),
        tidy.SessionRecord("e-1", 2, date(2025, 1, 13), "attended"),
    ]
    administrations = []
    for n, values in ((1, [3] * 9), (2, [1] * 9)):
        answers = {f"phq9_{i}": float(v) for i, v in enumerate(values, start=1)}
        s = commonfactors.score("phq9", answers)
        administrations.append(
            tidy.AdministrationRecord(
                "c-1",
                "e-1",
                n,
                sessions[n - 1].date,
                "phq9",
                s.definition_version,
                answers,
                s.total,
            )
        )
    return episodes, sessions, administrations


def test_an_exported_zip_of_tables_is_read_back() -> None:
    episodes, sessions, administrations = _records()
    files = tidy.write_tables(tidy.tables(episodes, sessions, administrations), "csv")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("manifest.json", "{}")
    history = read_history({"export.zip": buffer.getvalue()})
    assert history.problems == ()
    assert history.clients == ("c-1",)
    assert history.episodes[0].started_on == date(2025, 1, 6)
    assert [s.scores["phq9"].total for s in history.sessions] == [27, 9]


def test_fhir_bundle_of_our_export_is_read_and_problems_name_the_resource() -> None:
    _, _, administrations = _records()
    responses = [fhir_out.administration_response(a) for a in administrations]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": fhir_out.patient("c-1", code="K-7")}]
        + [{"resource": r} for r in responses],
    }
    history = read_history({"bundle.json": json.dumps(bundle).encode()})
    assert history.problems == ()
    assert history.clients == ("K-7",)  # the client code, where the bundle carries it
    assert [s.scores["phq9"].total for s in history.sessions] == [27, 9]
    assert history.sessions[0].answers["phq9"]["phq9_1"] == 3
    bad = dict(responses[1])
    bad["item"] = [{"linkId": "phq9_1", "answer": [{"valueInteger": 9}]}]
    history = read_history({"one.json": json.dumps(bad).encode()})
    assert history.sessions == ()
    assert history.problems
    assert all(
        str(p).startswith(f"one.json, QuestionnaireResponse/{bad['id']}") for p in history.problems
    )


def test_a_zip_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "UNZIPPED_BYTES", 100)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("answers.csv", HEADER + "x" * 200)
    history = read_history({"big.zip": buffer.getvalue()})
    assert [str(p) for p in history.problems] == ["big.zip: unpacks to more than 0 MB"]
