"""Tidy tables: one row per administration, answer, session and episode, with reliable change,
recovery, NHS Talking Therapies outcomes and dropout from the change module, the period,
every problem named, CSV and Parquet, and the column dictionary in the docs."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

import commonfactors
from commonfactors.change import nhstt_outcome
from commonfactors.tidy import (
    COLUMNS,
    AdministrationRecord,
    EpisodeRecord,
    ExportError,
    SessionRecord,
    Tables,
    tables,
    write_tables,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "exports.md"
D0 = date(2024, 1, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def same(instrument: str, value: int) -> dict[str, float | None]:
    d = commonfactors.default_registry().definition(instrument)
    return {i.id: value for i in d.items}


def adm(
    client: str, episode: str, session: int, instrument: str, answers: dict[str, float | None]
) -> AdministrationRecord:
    s = commonfactors.score(instrument, answers)
    return AdministrationRecord(
        client,
        episode,
        session,
        day(7 * session),
        instrument,
        s.definition_version,
        answers,
        s.total,
        s.band,
        s.caseness,
        s.risk_items,
    )


def registry() -> tuple[list[EpisodeRecord], list[SessionRecord], list[AdministrationRecord]]:
    """Three episodes.

    * e-1 (c-1), finished: PHQ-9 27 → 9 → 0, GAD-7 21 → 0, session 2 cancelled;
    * e-2 (c-2), dropped out after two attended sessions: PHQ-9 10 → 15, GAD-7 9 → 9,
      a risk answer at session 2; and WAI-SR (no reliable-change threshold) twice;
    * e-3 (c-2, a second episode), active, one PHQ-9.
    """
    episodes = [
        EpisodeRecord("c-1", "e-1", D0, day(40), "finished"),
        EpisodeRecord("c-2", "e-2", D0, day(20), "dropped_out"),
        EpisodeRecord("c-2", "e-3", day(50), None, "active"),
    ]
    sessions = [
        SessionRecord("e-1", 1, day(7), "attended"),
        SessionRecord("e-1", 2, day(14), "cancelled"),
        SessionRecord("e-1", 3, day(21), "attended"),
        SessionRecord("e-1", 4, day(28), "attended"),
        SessionRecord("e-2", 1, day(7), "attended"),
        SessionRecord("e-2", 2, day(14), "attended"),
        SessionRecord("e-3", 1, day(51), "did_not_attend"),
        SessionRecord("e-3", 8, day(56), "attended"),
    ]
    administrations = [
        adm("c-1", "e-1", 1, "phq9", same("phq9", 3)),
        adm("c-1", "e-1", 1, "gad7", same("gad7", 3)),
        adm("c-1", "e-1", 3, "phq9", same("phq9", 1)),
        adm("c-1", "e-1", 4, "phq9", same("phq9", 0)),
        adm("c-1", "e-1", 4, "gad7", same("gad7", 0)),
        adm("c-2", "e-2", 1, "phq9", same("phq9", 1) | {"phq9_1": 2, "phq9_2": 2, "phq9_9": 0}),
        adm("c-2", "e-2", 1, "gad7", same("gad7", 1) | {"gad7_1": 3}),
        adm("c-2", "e-2", 1, "wai_sr", same("wai_sr", 3)),
        adm("c-2", "e-2", 2, "phq9", same("phq9", 2) | {"phq9_1": 1, "phq9_2": 1, "phq9_9": 1}),
        adm("c-2", "e-2", 2, "gad7", same("gad7", 1) | {"gad7_1": 3}),
        adm("c-2", "e-2", 2, "wai_sr", same("wai_sr", 5)),
        adm("c-2", "e-3", 8, "phq9", same("phq9", 2)),
    ]
    return episodes, sessions, administrations


def result(**options: object) -> Tables:
    return tables(*registry(), **options)  # type: ignore[arg-type]


def episode(t: Tables, episode_id: str) -> dict[str, object]:
    [row] = t.episodes.filter(pl.col("episode_id") == episode_id).to_dicts()
    return row


class TestShape:
    def test_one_row_per_record_and_the_declared_columns(self) -> None:
        t = result()
        episodes, sessions, administrations = registry()
        assert t.scores.height == len(administrations)
        assert t.answers.height == sum(len(a.answers) for a in administrations)
        assert t.sessions.height == len(sessions)
        assert t.episodes.height == len(episodes)
        for name, frame in t.items():
            assert frame.columns == list(COLUMNS[name]), name

    def test_client_codes_follow_the_client_id_in_every_table(self) -> None:
        t = result(client_codes={"c-1": "C-0001", "c-2": "C-0002"})
        for name, frame in t.items():
            assert frame.columns[:2] == ["client_id", "client_code"], name
            pairs = set(frame.select("client_id", "client_code").iter_rows())
            assert pairs <= {("c-1", "C-0001"), ("c-2", "C-0002")}

    def test_answers_are_as_given_in_item_order_with_blanks(self) -> None:
        answers = same("phq9", 1) | {"phq9_4": None}
        e = [EpisodeRecord("c", "e", D0, None, "active")]
        t = tables(e, [], [adm("c", "e", 1, "phq9", answers)])
        assert t.answers.get_column("item").to_list() == [f"phq9_{n}" for n in range(1, 10)]
        assert t.answers.get_column("value").to_list() == [1.0] * 3 + [None] + [1.0] * 5

    def test_sessions_list_the_instruments_answered(self) -> None:
        rows = result().sessions.filter(pl.col("episode_id") == "e-1").to_dicts()
        assert [(r["attendance"], r["instruments"]) for r in rows] == [
            ("attended", "gad7 phq9"),
            ("cancelled", None),
            ("attended", "phq9"),
            ("attended", "gad7 phq9"),
        ]


class TestScores:
    def test_change_since_intake_by_each_instruments_threshold(self) -> None:
        s = result().scores
        phq9 = s.filter((pl.col("episode_id") == "e-1") & (pl.col("instrument") == "phq9"))
        assert phq9.get_column("total").to_list() == [27.0, 9.0, 0.0]
        assert phq9.get_column("intake_total").to_list() == [27.0] * 3
        assert phq9.get_column("change").to_list() == [None, -18.0, -27.0]
        assert phq9.get_column("reliable_change").to_list() == [None, "improved", "improved"]
        e2 = s.filter((pl.col("episode_id") == "e-2") & (pl.col("session") == 2))
        by = dict(zip(e2.get_column("instrument"), e2.get_column("reliable_change"), strict=True))
        # PHQ-9 10 → 15 is less than 6 points; WAI-SR has no reliable-change threshold
        assert by == {"phq9": "unchanged", "gad7": "unchanged", "wai_sr": None}
        wai = e2.filter(pl.col("instrument") == "wai_sr").row(0, named=True)
        assert wai["change"] == wai["total"] - wai["intake_total"] != 0

    def test_the_risk_flag_and_items(self) -> None:
        s = result().scores.filter(pl.col("instrument") == "phq9")
        flagged = s.filter(pl.col("risk_flag"))
        assert flagged.select("episode_id", "session", "risk_items").rows() == [
            ("e-1", 1, "phq9_9"),
            ("e-1", 3, "phq9_9"),
            ("e-2", 2, "phq9_9"),
            ("e-3", 8, "phq9_9"),
        ]
        assert s.filter(~pl.col("risk_flag")).get_column("risk_items").null_count() == 2


class TestEpisodes:
    def test_a_finished_episode(self) -> None:
        row = episode(result(), "e-1")
        assert (row["sessions_attended"], row["sessions_missed"]) == (3, 1)
        assert (row["intake_score"], row["last_score"], row["n_scores"]) == (27.0, 0.0, 3)
        assert row["change"] == -27.0 and row["reliable_change"] == "improved"
        assert row["case_at_intake"] is True and row["recovered"] is True
        assert row["dropout"] is False
        expected = nhstt_outcome(27, 0, 21, 0, finished=True, attended=3)
        assert row["nhstt_counted"] is True and expected.counted
        assert row["nhstt_recovery"] is expected.recovery is True
        assert row["nhstt_reliable_recovery"] is expected.reliable_recovery is True

    def test_a_dropout_with_two_sessions_counts_for_nhs_talking_therapies(self) -> None:
        row = episode(result(), "e-2")
        assert row["status"] == "dropped_out" and row["dropout"] is True
        expected = nhstt_outcome(10, 15, 9, 9, finished=True, attended=2)
        assert row["nhstt_counted"] is True
        assert row["nhstt_reliable_improvement"] is expected.reliable_improvement is False
        assert row["nhstt_reliable_deterioration"] is expected.reliable_deterioration is False
        assert row["nhstt_recovery"] is expected.recovery is False
        assert row["recovered"] is False and row["reliable_change"] == "unchanged"

    def test_an_active_episode_with_one_score(self) -> None:
        row = episode(result(), "e-3")
        assert row["dropout"] is None and row["ended_on"] is None
        assert (row["intake_session"], row["intake_score"], row["n_scores"]) == (8, 18.0, 1)
        assert row["last_score"] is None and row["change"] is None
        assert row["reliable_change"] is None and row["recovered"] is None
        assert row["case_at_intake"] is True
        assert row["nhstt_counted"] is False and row["nhstt_reason"] == "not finished"

    def test_another_primary_instrument(self) -> None:
        t = result(primary="gad7")
        row = episode(t, "e-1")
        assert row["primary_instrument"] == "gad7"
        assert (row["intake_score"], row["last_score"], row["n_scores"]) == (21.0, 0.0, 2)
        assert episode(t, "e-3")["n_scores"] == 0 and episode(t, "e-3")["intake_score"] is None

    def test_a_primary_instrument_without_a_threshold_reports_no_judgement(self) -> None:
        row = episode(result(primary="wai_sr"), "e-2")
        assert row["change"] == row["last_score"] - row["intake_score"]  # type: ignore[operator]
        assert row["reliable_change"] is None and row["recovered"] is None


class TestPeriod:
    def test_until_shows_what_was_known_at_its_end(self) -> None:
        t = result(until=day(22))
        e1 = episode(t, "e-1")
        assert e1["status"] == "active" and e1["ended_on"] is None and e1["dropout"] is None
        assert e1["last_score"] == 9.0  # session 4 is after the period
        assert e1["nhstt_counted"] is False
        assert "e-3" not in t.episodes.get_column("episode_id").to_list()  # starts later
        assert t.scores.get_column("date").max() <= day(22)  # type: ignore[operator]

    def test_since_lists_later_rows_but_keeps_the_intake(self) -> None:
        t = result(since=day(21))
        assert t.scores.get_column("date").min() == day(21)
        e1 = t.scores.filter(pl.col("episode_id") == "e-1")
        assert set(e1.get_column("intake_total").to_list()) == {27.0, 21.0}
        # e-2 ended before the period: not listed; e-1 and e-3 are
        assert sorted(t.episodes.get_column("episode_id").to_list()) == ["e-1", "e-3"]
        assert t.sessions.get_column("date").min() == day(21)
        assert t.answers.get_column("date").min() == day(21)


class TestProblems:
    def test_every_problem_is_named_at_once(self) -> None:
        episodes, sessions, administrations = registry()
        episodes += [
            EpisodeRecord("c-9", "e-1", D0, None, "active"),
            EpisodeRecord("c-9", "e-9", day(5), day(1), "paused"),
        ]
        sessions += [
            SessionRecord("e-1", 1, day(7), "attended"),
            SessionRecord("e-1", 0, day(7), "late"),
            SessionRecord("e-404", 1, day(7), "attended"),
        ]
        administrations += [administrations[0], adm("c-9", "e-2", 3, "phq9", same("phq9", 0))]
        with pytest.raises(ExportError) as caught:
            tables(
                episodes,
                sessions,
                administrations,
                primary="nope",
                since=day(9),
                until=day(8),
            )
        assert caught.value.problems == (
            f"the period starts ({day(9)}) after it ends ({day(8)})",
            "episode listed twice: e-1",
            "episode status is not one of active, finished, dropped_out: e-9",
            "episode ends before it starts: e-9",
            "record of an episode that is not listed: e-404",
            "session number < 1: e-1/0",
            "attendance is not one of attended, cancelled, did_not_attend: e-1/0",
            "session listed twice: e-1/1",
            "instrument answered twice in one session: e-1/1/phq9",
            "administration of another client than its episode's: e-2/3/phq9",
            "unknown primary instrument 'nope'",
        )

    def test_no_records_give_empty_tables_with_their_columns(self) -> None:
        t = tables([], [], [])
        for name, frame in t.items():
            assert frame.height == 0 and frame.columns == list(COLUMNS[name])


class TestFiles:
    @pytest.mark.parametrize("fmt", ["csv", "parquet"])
    def test_the_tables_read_back(self, fmt: str) -> None:
        t = result()
        files = write_tables(t, fmt)
        assert list(files) == [f"{n}.{fmt}" for n in ("scores", "answers", "sessions", "episodes")]
        for name, frame in t.items():
            raw = io.BytesIO(files[f"{name}.{fmt}"])
            back = (
                pl.read_parquet(raw) if fmt == "parquet" else pl.read_csv(raw, try_parse_dates=True)
            )
            assert back.columns == frame.columns
            if fmt == "parquet":
                assert back.equals(frame), name
            else:
                assert back.height == frame.height
                assert (
                    back.get_column("client_id").to_list()
                    == frame.get_column("client_id").to_list()
                )

    def test_csv_writes_iso_dates_and_true_false(self) -> None:
        text = write_tables(result(), "csv")["episodes.csv"].decode()
        assert ",2024-01-01,2024-02-10,finished," in text and ",true," in text

    def test_an_unknown_format(self) -> None:
        with pytest.raises(
            ExportError, match="unknown format 'xlsx': expected one of csv, parquet"
        ):
            write_tables(result(), "xlsx")


def test_every_column_is_in_the_docs_column_dictionary() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name, columns in COLUMNS.items():
        section = re.search(rf"^### `{name}`.*?(?=^### |\Z)", text, flags=re.M | re.S)
        assert section is not None, name
        documented = re.findall(r"^\| `([a-z0-9_]+)` \|", section.group(0), flags=re.M)
        assert documented[:2] == ["client_id", "client_code"], name  # identified only
        assert [c for c in documented if c != "client_code"] == list(columns), name
