"""Whole-registry analysis, on small hand-made registries with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import commonfactors as cf
from commonfactors.analysis import analyze, wilson_interval
from commonfactors.cli import app


def test_wilson_interval_matches_newcombe_1998() -> None:
    # Newcombe (1998) Stat Med 17:857, Table I, method 3 (Wilson score, no continuity correction)
    low, high = wilson_interval([81, 15, 0, 1], [263, 148, 20, 29])
    assert low == pytest.approx([0.2553, 0.0624, 0.0, 0.0061], abs=5e-5)
    assert high == pytest.approx([0.3662, 0.1605, 0.1611, 0.1718], abs=5e-5)
    assert all(math.isnan(x) for x in wilson_interval([0], [0])[0])


def _registry() -> pl.DataFrame:
    # episode 1: PHQ-9 18 → 9 (−9: reliably improved; case → not a case: recovered)
    # episode 2: 8 → 15 (+7: reliably deteriorated)
    # episode 3: 14 → 10 (−4: unchanged, still a case)
    # episode 4: one score only (no change can be judged)
    rows = [
        (1, 1, 18, 12), (1, 2, 12, 9), (1, 3, 9, 5),
        (2, 1, 8, 6), (2, 2, 15, 8),
        (3, 1, 14, 10), (3, 2, 10, 9),
        (4, 1, 20, 15),
    ]  # fmt: skip
    return pl.DataFrame(
        rows, schema=["episode_id", "session", "phq9_total", "gad7_total"], orient="row"
    ).with_columns(finished=pl.col("episode_id") != 4)


def test_each_episode_gets_its_change_category_and_rci() -> None:
    result = analyze(_registry())
    rows = {r["episode_id"]: r for r in result.episodes.iter_rows(named=True)}
    assert [rows[e]["category"] for e in (1, 2, 3, 4)] == [
        "improved", "deteriorated", "unchanged", None,
    ]  # fmt: skip
    assert [rows[e]["recovered"] for e in (1, 2, 3)] == [True, False, False]
    assert (rows[1]["pre"], rows[1]["post"], rows[1]["change"]) == (18, 9, -9)
    # RCI implied by the published 6-point threshold: −9 / (6 / 1.959964) = −2.93995
    assert rows[1]["rci"] == pytest.approx(-9 / (6 / 1.959963984540054))
    assert rows[4]["n_scores"] == 1


def test_nhs_talking_therapies_outcomes_when_both_measures_are_present() -> None:
    result = analyze(_registry())
    rows = {r["episode_id"]: r for r in result.episodes.iter_rows(named=True)}
    # episode 1: PHQ-9 18→9, GAD-7 12→5: case at start, neither a case at the end, PHQ-9 −9 ≥ 6
    assert rows[1]["nhstt_reliable_recovery"] is True
    # episode 3: PHQ-9 still 10 (a case) at the end: not recovered
    assert rows[3]["nhstt_recovery"] is False
    assert rows[4]["nhstt_counted"] is False  # not finished, one session
    summary = {r["measure"]: r for r in result.summary.iter_rows(named=True)}
    assert (summary["reliable improvement"]["count"], summary["reliable improvement"]["n"]) == (
        1,
        3,
    )
    # recovery counts cases only: episode 2 (PHQ-9 8, GAD-7 6) was not a case at the start
    assert summary["NHS TT reliable recovery"]["n"] == 2


def test_items_are_scored_when_no_total_is_given() -> None:
    items = pl.DataFrame(
        {"episode_id": [1, 1], "session": [1, 2], **{f"phq9_{k}": [2, 1] for k in range(1, 10)}}
    )
    ep = analyze(items).episodes.row(0, named=True)
    assert (ep["pre"], ep["post"], ep["category"], ep["recovered"]) == (18, 9, "improved", True)


def test_every_problem_is_named_with_its_rows() -> None:
    bad = pl.DataFrame(
        {"episode_id": [1, 1, 1, None], "session": [1, 1, 0, 2], "phq9_total": [5, 6, 7, 8]}
    )
    with pytest.raises(cf.CommonFactorsError) as info:
        analyze(bad)
    problems = " | ".join(info.value.problems)
    assert "no episode_id in row(s) 4" in problems
    assert "session is not a session number from 1 in row(s) 3" in problems
    assert "the same episode_id and session twice in row(s) 1, 2" in problems


def test_scores_outside_the_instrument_range_are_refused() -> None:
    data = pl.DataFrame({"episode_id": [1, 1], "session": [1, 2], "phq9_total": [5, 28]})
    with pytest.raises(cf.CommonFactorsError, match="not PHQ-9 totals") as info:
        analyze(data)
    assert info.value.problems == ("column 'phq9_total', row(s) 2",)


def test_bad_item_answers_are_named_by_row() -> None:
    items = pl.DataFrame(
        {"episode_id": [1, 1], "session": [1, 2], **{f"phq9_{k}": [2, 1] for k in range(1, 10)}}
    ).with_columns(phq9_4=pl.Series([2, 9]))
    with pytest.raises(cf.CommonFactorsError) as info:
        analyze(items)
    assert info.value.problems == (
        "row 2: item 4 (phq9_4): 9 is not an allowed value (expected one of 0, 1, 2, 3)",
    )


def test_pandas_input_gives_the_same_result() -> None:
    data = _registry()
    assert analyze(data.to_pandas()).episodes.equals(analyze(data).episodes)


def test_cli_analyze_json_and_out(tmp_path: Path) -> None:
    src = tmp_path / "registry.csv"
    _registry().write_csv(src)
    out = tmp_path / "episodes.parquet"
    result = CliRunner().invoke(app, ["analyze", str(src), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["episodes"] == 4
    assert pl.read_parquet(out).height == 4
    missing = CliRunner().invoke(app, ["analyze", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "no such file" in " ".join(missing.stderr.split())


def test_signals_use_the_synthetic_default_and_say_so() -> None:
    # episode 2 worsens from 8 to 15 by session 2: above every expected band → red
    result = analyze(_registry())
    rows = {r["episode_id"]: r for r in result.episodes.iter_rows(named=True)}
    assert rows[2]["signal_worst"] == "red"
    assert rows[2]["first_signal_session"] == 2
    assert rows[1]["signal_worst"] == "on_track"  # 18 → 12 → 9 is better than expected
    assert result.reference is not None and result.reference.startswith("SYNTHETIC")


def test_alliance_ruptures_by_the_within_client_rule() -> None:
    # ten clients with a steady alliance give the pooled within-client SD; client 11 drops
    # from about 4.5 to 2.0 at session 4 (far more than 2 SDs) and recovers at session 5
    rows = []
    for e in range(1, 11):
        rows += [(e, s, 10, 4.0 + 0.1 * ((e + s) % 3)) for s in range(1, 6)]
    rows += [
        (11, 1, 10, 4.5),
        (11, 2, 10, 4.6),
        (11, 3, 10, 4.4),
        (11, 4, 10, 2.0),
        (11, 5, 10, 4.6),
    ]
    data = pl.DataFrame(
        rows, schema=["episode_id", "session", "phq9_total", "alliance"], orient="row"
    )
    episodes = analyze(data).episodes
    ruptured = episodes.filter(pl.col("alliance_ruptures") > 0)
    assert ruptured.get_column("episode_id").to_list() == [11]
    assert ruptured.row(0, named=True)["first_rupture_session"] == 4
    assert ruptured.row(0, named=True)["rupture_unrepaired"] is False


def test_cli_fit_etr_then_analyze_with_that_model(tmp_path: Path) -> None:
    from commonfactors.synth import generate

    registry = generate(400, seed=11)
    src = tmp_path / "sessions.parquet"
    registry.sessions.write_parquet(src)
    model = tmp_path / "etr.json"
    fitted = CliRunner().invoke(app, ["fit-etr", str(src), "--out", str(model)])
    assert fitted.exit_code == 0, fitted.output
    assert json.loads(model.read_text())["instrument"] == "phq9"
    result = CliRunner().invoke(app, ["analyze", str(src), "--model", str(model), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["signals_reference"].startswith("sessions.parquet")
    assert any(r["measure"] == "at risk (red) at any session" for r in summary["summary"])
