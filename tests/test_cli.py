"""The command line, as a new user would try it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from commonfactors.cli import app

runner = CliRunner()
EXE = shutil.which("commonfactors") or str(Path(sys.executable).parent / "commonfactors")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=False, env=env)


def test_score_phq9_json_done_when_example() -> None:
    result = run("score", "phq9", "3", "3", "3", "3", "3", "3", "3", "3", "1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "instrument", "total", "subscales", "band", "caseness", "risk_items", "risk_unanswered",
        "prorated", "definition_version",
    }  # fmt: skip
    assert (data["total"], data["band"], data["risk_items"]) == (25, "severe", ["phq9_9"])


def test_a_bad_answer_fails_naming_the_item_and_the_allowed_values() -> None:
    result = run("score", "phq9", "3", "3", "3", "9", "3", "3", "3", "3", "3")
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        "item 4 (phq9_4): 9 is not an allowed value (expected one of 0, 1, 2, 3)" in result.stderr
    )


def test_a_refused_administration_still_shows_its_risk_answer() -> None:
    result = runner.invoke(app, ["score", "phq9", "5", "3", "3", "3", "3", "3", "3", "3", "2"])
    assert result.exit_code == 2
    assert "a risk item was answered: phq9_9" in result.stderr


def test_score_a_fhir_response(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "fhir" / "phq9-response-integer-loinc-linkids.json"
    result = run("score", "--fhir", str(data), "--json")
    assert result.returncode == 0, result.stderr
    scored = json.loads(result.stdout)
    assert scored["instrument"] == "phq9"
    assert scored["stated_total"] == 25


def test_every_problem_is_named_with_exit_code_2() -> None:
    result = runner.invoke(app, ["score", "phq9", "x", "3", "3", "9", "-", "-", "-", "3", "3"])
    assert result.exit_code == 2
    assert "item 1 (phq9_1): x is not a number" in result.stderr
    assert "item 4 (phq9_4): 9 is not an allowed value" in result.stderr
    assert "3 of 9 items missing (items 5, 6, 7)" in result.stderr


def test_missing_answers_are_prorated_and_explained() -> None:
    result = runner.invoke(app, ["score", "phq9", "1", "1", "-", "1", "1", "1", "1", "1", "0"])
    assert result.exit_code == 0, result.output
    assert "phq9_3 missing" in result.stdout
    assert "mild" in result.stdout


def test_a_blank_risk_item_is_never_silent() -> None:
    result = run("score", "phq9", "1", "1", "1", "1", "1", "1", "1", "1", "-", "--json")
    assert json.loads(result.stdout)["risk_unanswered"] == ["phq9_9"]
    shown = run("score", "phq9", "1", "1", "1", "1", "1", "1", "1", "1", "-")
    assert "a risk item was left blank" in shown.stdout


def test_unknown_instrument() -> None:
    result = runner.invoke(app, ["score", "phq10", "1"])
    assert result.exit_code == 2
    assert "unknown instrument 'phq10'" in result.stderr


def test_instruments_list_json() -> None:
    result = runner.invoke(app, ["instruments", "list", "--json"])
    assert result.exit_code == 0
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["phq9"]["text_loaded"] == ["en"] and rows["phq9"]["items"] == 9
    assert rows["goals"]["measures"] == "goals"


def test_instruments_list_table_and_show() -> None:
    listing = runner.invoke(app, ["instruments", "list"])
    assert listing.exit_code == 0 and "PHQ-9" in listing.stdout
    shown = run("instruments", "show", "phq9")
    assert shown.returncode == 0
    assert "Little interest or pleasure in doing things" in shown.stdout
    assert "44261-6" in shown.stdout


def test_export_fhir_gad7_validates_as_r4() -> None:
    from fhir.resources.R4B.questionnaire import Questionnaire

    result = run("instruments", "export-fhir", "gad7")
    assert result.returncode == 0, result.stderr
    resource = json.loads(result.stdout)
    q = Questionnaire.model_validate(resource)
    assert q.item is not None and len(q.item) == 7


def _answers_csv(path: Path, rows: list[list[str]]) -> Path:
    header = ",".join(["client", *[f"phq9_{k}" for k in range(1, 10)]])
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_score_a_file_writes_scored_rows_and_a_summary(tmp_path: Path) -> None:
    src = _answers_csv(
        tmp_path / "answers.csv",
        [["a", *["1"] * 9], ["b", "3", "3", "3", "3", "3", "3", "3", "-", "2"]],
    )
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["score", "phq9", "--file", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    scored = pl.read_csv(out)
    assert scored.get_column("client").to_list() == ["a", "b"]
    assert scored.get_column("total").to_list() == [9.0, 26.0]  # b: 23 × 9/8 = 25.875 → 26
    assert scored.get_column("band").to_list() == ["mild", "severe"]
    assert scored.get_column("risk_items").to_list() == ["phq9_9", "phq9_9"]
    assert "scored 2 of 2 rows" in result.stderr
    assert "2 with a risk answer" in result.stderr


def test_score_a_file_with_bad_rows_writes_nothing_and_names_them(tmp_path: Path) -> None:
    src = _answers_csv(
        tmp_path / "answers.csv",
        [["a", *["1"] * 9], ["b", "7", *["1"] * 8], ["c", "-", "-", "-", *["0"] * 6]],
    )
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["score", "phq9", "--file", str(src), "--out", str(out)])
    assert result.exit_code == 2
    assert not out.exists()
    assert "row 2: item 1 (phq9_1): 7 is not an allowed value" in result.stderr
    assert "row 3: 3 of 9 items missing (items 1, 2, 3)" in result.stderr


def test_score_a_file_reporting_errors_keeps_good_rows(tmp_path: Path) -> None:
    src = _answers_csv(tmp_path / "answers.csv", [["a", *["1"] * 9], ["b", "7", *["1"] * 8]])
    out = tmp_path / "scored.parquet"
    result = runner.invoke(
        app, ["score", "phq9", "--file", str(src), "--out", str(out), "--errors", "report"]
    )
    assert result.exit_code == 0, result.output
    scored = pl.read_parquet(out)
    assert scored.get_column("total").to_list() == [9.0, None]
    assert scored.get_column("error")[1].startswith("item 1 (phq9_1): 7")


def test_score_a_missing_file() -> None:
    result = runner.invoke(app, ["score", "phq9", "--file", "/nonexistent.csv"])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


@pytest.mark.parametrize("args", [["score"], ["score", "phq9"]])
def test_score_without_answers_says_what_is_needed(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "instrument" in result.stderr or "answers" in result.stderr


def test_demo_scores_every_instrument() -> None:
    result = runner.invoke(app, ["demo", "--instruments"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for short in ("PHQ-9", "GAD-7", "WHO-5", "Goals"):
        assert short in result.stdout


def test_refused_rows_in_a_file_still_show_their_risk_answers(tmp_path: Path) -> None:
    src = _answers_csv(
        tmp_path / "answers.csv",
        [["a", *["1"] * 9], ["b", "7", *["1"] * 7, "3"], ["c", "x", *["1"] * 7, "-"]],
    )
    result = runner.invoke(app, ["score", "phq9", "--file", str(src)])
    assert result.exit_code == 2
    assert "RISK: row 2: the answers could not be scored, but a risk item was answered" in (
        " ".join(result.stderr.split())
    )
    assert "ASK: row 3: risk item phq9_9 was left blank" in " ".join(result.stderr.split())


def test_answers_reach_the_scorer_as_typed() -> None:
    result = runner.invoke(app, ["score", "phq9", "1_0", *["1"] * 8])
    assert result.exit_code == 2
    assert "item 1 (phq9_1): 1_0 is not a number" in result.stderr


def test_contradictory_options_are_refused(tmp_path: Path) -> None:
    src = _answers_csv(tmp_path / "answers.csv", [["a", *["1"] * 9]])
    result = runner.invoke(app, ["score", "phq9", "--file", str(src), "--json"])
    assert result.exit_code == 2
    assert "--out" in result.stderr
    fr = runner.invoke(app, ["instruments", "export-fhir", "phq9", "--language", "fr"])
    assert fr.exit_code == 2
    assert "no text in 'fr'" in fr.stderr


def test_synth_writes_a_reproducible_registry(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["synth", "--episodes", "300", "--seed", "5", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    episodes = pl.read_parquet(tmp_path / "episodes.parquet")
    sessions = pl.read_parquet(tmp_path / "sessions.parquet")
    assert episodes.height == 300
    assert {"episode_id", "client_id", "therapist_id", "true_outcome"} <= set(episodes.columns)
    assert {"episode_id", "session", "attended", "phq9_total"} <= set(sessions.columns)
    again = tmp_path / "again"
    runner.invoke(app, ["synth", "--episodes", "300", "--seed", "5", "--out", str(again)])
    assert pl.read_parquet(again / "sessions.parquet").equals(sessions)
