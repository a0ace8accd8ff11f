"""The synthetic registry: reproducible, well-formed, scored by the library, and calibrated
to the published figures it was built from (reference/trajectories.md)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import commonfactors as cf
from commonfactors.errors import CommonFactorsError
from commonfactors.synth import (
    OUTCOMES,
    SyntheticRegistry,
    SynthParams,
    TrajectoryClass,
    generate,
    nhs_outcomes,
    write_registry,
)
from commonfactors.synth.calibration import TARGETS, calibration, therapist_icc
from commonfactors.synth.items import GAD7_GRM, PHQ9_GRM

PHQ9 = [f"phq9_{k}" for k in range(1, 10)]
GAD7 = [f"gad7_{k}" for k in range(1, 8)]

EPISODE_SCHEMA = {
    "episode_id": pl.Int64,
    "client_id": pl.Int64,
    "therapist_id": pl.Int64,
    "practice_id": pl.Int64,
    "episode_number": pl.Int8,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "age_band": pl.Enum(["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]),
    "gender": pl.Enum(["female", "male", "other"]),
    "employment": pl.Enum(["employed", "unemployed", "other"]),
    "intensity": pl.Enum(["low", "high"]),
    "planned_sessions": pl.Int16,
    "expectancy": pl.Float64,
    "readiness": pl.Enum(["precontemplation", "contemplation", "action", "maintenance"]),
    "n_goals": pl.Int8,
    "intake_phq9": pl.Int16,
    "intake_gad7": pl.Int16,
    "last_phq9": pl.Int16,
    "last_gad7": pl.Int16,
    "n_sessions": pl.Int16,
    "n_attended": pl.Int16,
    "n_cancelled": pl.Int16,
    "n_dna": pl.Int16,
    "finished": pl.Boolean,
    "dropout": pl.Boolean,
    "dropout_session": pl.Int16,
    "true_class": pl.Enum(["worsening", "no_change", "gradual", "fast"]),
    "true_outcome": pl.Enum(list(OUTCOMES)),
    "true_phq9_intake": pl.Float64,
    "true_gad7_intake": pl.Float64,
    "true_phq9_end": pl.Float64,
    "true_gad7_end": pl.Float64,
    "true_sudden_gain_session": pl.Int16,
    "true_change_propensity": pl.Float64,
}

SESSION_SCHEMA = {
    "episode_id": pl.Int64,
    "session": pl.Int16,
    "date": pl.Date,
    "attendance": pl.Enum(["attended", "cancelled", "did not attend"]),
    "attended": pl.Boolean,
    "treatment_session": pl.Int16,
    **dict.fromkeys(PHQ9, pl.Int8),
    "phq9_total": pl.Int16,
    **dict.fromkeys(GAD7, pl.Int8),
    "gad7_total": pl.Int16,
    "alliance": pl.Float64,
    "homework": pl.Float64,
    "goal_1": pl.Int8,
    "goal_2": pl.Int8,
    "goal_3": pl.Int8,
    "true_phq9": pl.Float64,
    "true_gad7": pl.Float64,
    "true_rupture": pl.Boolean,
}


@pytest.fixture(scope="module")
def small() -> SyntheticRegistry:
    return generate(3_000, seed=11)


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return calibration(generate(20_000, seed=2026))


# ------------------------------------------------------------------------------ seeds


def test_the_same_seed_gives_identical_tables(small: SyntheticRegistry) -> None:
    again = generate(3_000, seed=11)
    for name, frame in small.tables().items():
        assert frame.equals(again.tables()[name]), name


def test_another_seed_gives_other_data(small: SyntheticRegistry) -> None:
    other = generate(3_000, seed=12)
    assert not small.sessions.equals(other.sessions)


def test_a_registry_of_one_episode_is_whole() -> None:
    r = generate(1, seed=0)
    assert (r.practices.height, r.therapists.height, r.clients.height) == (1, 1, 1)
    assert r.episodes.height == 1 and r.sessions.height >= 1


# ------------------------------------------------------------------------------ schema


def test_the_episode_table_has_its_documented_columns(small: SyntheticRegistry) -> None:
    assert dict(small.episodes.schema) == EPISODE_SCHEMA
    assert small.episodes.get_column("episode_id").to_list() == list(range(1, 3_001))


def test_the_session_table_has_its_documented_columns(small: SyntheticRegistry) -> None:
    assert dict(small.sessions.schema) == SESSION_SCHEMA


def test_every_column_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "synth.md").read_text(encoding="utf-8")
    r = generate(5, seed=1)
    for name, frame in r.tables().items():
        for column in frame.columns:
            assert f"`{column}`" in doc, f"{name}.{column}"


def test_the_people_tables_agree_with_the_episodes(small: SyntheticRegistry) -> None:
    e, t = small.episodes, small.therapists
    assert set(e.get_column("therapist_id")) <= set(t.get_column("therapist_id"))
    assert t.get_column("n_episodes").sum() == e.height
    assert small.clients.get_column("n_episodes").sum() == e.height
    assert small.practices.get_column("n_episodes").sum() == e.height
    joined = e.join(t.select("therapist_id", "practice_id"), on="therapist_id", suffix="_t")
    assert (joined.get_column("practice_id") == joined.get_column("practice_id_t")).all()
    repeat = e.filter(pl.col("episode_number") == 2)
    assert repeat.height > 0
    first = e.filter(pl.col("episode_number") == 1).select("client_id", "end_date")
    later = repeat.join(first, on="client_id", suffix="_first")
    assert (later.get_column("start_date") > later.get_column("end_date_first")).all()


# ------------------------------------------------------------------------------ sessions


def test_item_answers_lie_in_0_to_3_and_exist_exactly_when_attended(
    small: SyntheticRegistry,
) -> None:
    s = small.sessions
    attended = s.filter(pl.col("attended"))
    missed = s.filter(~pl.col("attended"))
    for item in PHQ9 + GAD7:
        column = attended.get_column(item)
        assert column.null_count() == 0 and column.min() == 0 and column.max() == 3, item
        assert missed.get_column(item).null_count() == missed.height, item
    assert (s.get_column("attended") == (s.get_column("attendance") == "attended")).all()


def test_totals_are_the_library_scores_of_the_items(small: SyntheticRegistry) -> None:
    attended = small.sessions.filter(pl.col("attended"))
    for instrument, items in (("phq9", PHQ9), ("gad7", GAD7)):
        scored = cf.score_frame(instrument, attended.select(items))
        ours = attended.get_column(f"{instrument}_total").cast(pl.Float64)
        assert (scored.get_column("total") == ours).all(), instrument
    for row in attended.head(20).iter_rows(named=True):
        assert cf.score("phq9", [row[i] for i in PHQ9]).total == row["phq9_total"]
        assert cf.score("gad7", [row[i] for i in GAD7]).total == row["gad7_total"]


def test_sessions_run_from_1_with_an_attended_intake(small: SyntheticRegistry) -> None:
    s, e = small.sessions, small.episodes
    per = s.group_by("episode_id", maintain_order=True).agg(
        pl.col("session"),
        pl.col("date"),
        pl.col("attended").first().alias("intake_attended"),
        pl.col("attended").sum().alias("attended"),
        pl.col("treatment_session").drop_nulls(),
    )
    for row in per.iter_rows(named=True):
        n = len(row["session"])
        assert row["session"] == list(range(1, n + 1))
        assert row["treatment_session"] == list(range(1, row["attended"] + 1))
        assert all(a < b for a, b in zip(row["date"], row["date"][1:], strict=False))
    assert per.get_column("intake_attended").all()
    checked = e.join(per.select("episode_id", "attended"), on="episode_id")
    assert (checked.get_column("n_attended") == checked.get_column("attended")).all()
    counts = e.select(pl.col("n_attended") + pl.col("n_cancelled") + pl.col("n_dna"))
    assert (counts.to_series() == e.get_column("n_sessions")).all()
    assert (e.get_column("finished") == (e.get_column("n_attended") >= 2)).all()


def test_intake_and_last_scores_come_from_the_sessions(small: SyntheticRegistry) -> None:
    attended = small.sessions.filter(pl.col("attended"))
    ends = attended.group_by("episode_id").agg(
        pl.col("phq9_total").first().alias("first"), pl.col("phq9_total").last().alias("last")
    )
    joined = small.episodes.join(ends, on="episode_id")
    assert (joined.get_column("intake_phq9") == joined.get_column("first")).all()
    assert (joined.get_column("last_phq9") == joined.get_column("last")).all()


def test_a_dropout_ends_with_a_missed_appointment(small: SyntheticRegistry) -> None:
    e = small.episodes
    last = small.sessions.group_by("episode_id").agg(pl.col("attendance").last())
    joined = e.join(last, on="episode_id")
    dropouts = joined.filter(pl.col("dropout"))
    assert (dropouts.get_column("attendance") == "did not attend").all()
    assert (dropouts.get_column("dropout_session") == dropouts.get_column("n_sessions")).all()
    assert joined.filter(~pl.col("dropout")).get_column("dropout_session").null_count() == (
        e.height - dropouts.height
    )
    assert (joined.filter(~pl.col("dropout")).get_column("attendance") == "attended").all()


def test_process_measures_stay_on_their_scales(small: SyntheticRegistry) -> None:
    s = small.sessions.filter(pl.col("attended"))
    alliance = s.get_column("alliance")
    assert alliance.null_count() == 0 and alliance.min() >= 1 and alliance.max() <= 5  # type: ignore[operator]
    assert ((alliance * 12).round(6) % 1 == 0).all()  # a mean of 12 items on 1–5
    homework = s.get_column("homework")
    assert homework.min() >= 0 and homework.max() <= 1  # type: ignore[operator]
    first = s.filter(pl.col("treatment_session") == 1).get_column("homework")
    assert first.null_count() == first.len()
    assert s.filter(pl.col("treatment_session") > 1).get_column("homework").null_count() == 0
    e = small.episodes
    assert e.get_column("expectancy").min() >= 0 and e.get_column("expectancy").max() <= 10  # type: ignore[operator]


def test_goals_are_rated_0_to_10_for_the_agreed_goals_only(small: SyntheticRegistry) -> None:
    s = small.sessions.filter(pl.col("attended")).join(
        small.episodes.select("episode_id", "n_goals"), on="episode_id"
    )
    for k in (1, 2, 3):
        rated = s.get_column(f"goal_{k}").is_not_null()
        assert (rated == (s.get_column("n_goals") >= k)).all(), k
        values = s.get_column(f"goal_{k}").drop_nulls()
        assert values.min() >= 0 and values.max() <= 10  # type: ignore[operator]
    missed = small.sessions.filter(~pl.col("attended"))
    assert missed.get_column("goal_1").null_count() == missed.height


# ------------------------------------------------------------------------------ truth


def test_the_true_outcome_follows_the_true_scores(small: SyntheticRegistry) -> None:
    e = small.episodes
    d_phq = e.get_column("true_phq9_end") - e.get_column("true_phq9_intake")
    d_gad = e.get_column("true_gad7_end") - e.get_column("true_gad7_intake")
    outcome = e.get_column("true_outcome")
    worse = (d_phq >= 6) | (d_gad >= 4)
    better = (d_phq <= -6) | (d_gad <= -4)
    assert (worse & ~better == (outcome == "deteriorated")).all()
    assert ((outcome == "recovered") <= better).all()
    assert ((outcome == "recovered") <= (e.get_column("true_phq9_end") < 10)).all()
    single = e.filter(pl.col("n_attended") == 1).get_column("true_outcome")
    assert (single == "unchanged").all()


def test_session_truth_matches_the_episode_truth(small: SyntheticRegistry) -> None:
    truth = (
        small.sessions.filter(pl.col("attended"))
        .group_by("episode_id")
        .agg(pl.col("true_phq9").first().alias("t0"), pl.col("true_phq9").last().alias("t1"))
        .join(small.episodes, on="episode_id")
    )
    assert np.allclose(truth.get_column("t0"), truth.get_column("true_phq9_intake"))
    assert np.allclose(truth.get_column("t1"), truth.get_column("true_phq9_end"))


def test_a_sudden_gain_lowers_the_true_score_at_its_session(small: SyntheticRegistry) -> None:
    gains = small.episodes.filter(pl.col("true_sudden_gain_session").is_not_null())
    assert gains.height > 0
    s = small.sessions.join(gains.select("episode_id", "true_sudden_gain_session"), on="episode_id")
    at = s.filter(pl.col("treatment_session") == pl.col("true_sudden_gain_session"))
    before = s.filter(pl.col("treatment_session") == pl.col("true_sudden_gain_session") - 1)
    drop = before.join(at, on="episode_id", suffix="_at").select(
        (pl.col("true_phq9") - pl.col("true_phq9_at")) / pl.col("true_phq9")
    )
    assert drop.to_series().median() > 0.2  # type: ignore[operator]


def test_nhs_outcomes_follow_the_definitions() -> None:
    reg = cf.default_registry()
    pre = (np.array([15.0, 15.0, 9.0, 12.0]), np.array([12.0, 12.0, 5.0, 12.0]))
    post = (np.array([8.0, 21.0, 3.0, 9.0]), np.array([7.0, 12.0, 5.0, 12.0]))
    o = nhs_outcomes(pre, post, reg.definition("phq9"), reg.definition("gad7"))
    assert o["case"].tolist() == [True, True, False, True]
    assert o["recovered"].tolist() == [True, False, False, False]
    assert o["improved"].tolist() == [True, False, True, False]
    assert o["deteriorated"].tolist() == [False, True, False, False]
    assert o["reliably_recovered"].tolist() == [True, False, False, False]


# ------------------------------------------------------------------------------ calibration


@pytest.mark.parametrize("figure", sorted(TARGETS))
def test_the_registry_reproduces_its_published_targets(
    figures: dict[str, float], figure: str
) -> None:
    low, high = TARGETS[figure]
    assert low <= figures[figure] <= high, f"{figure} = {figures[figure]:.3f}"


def test_ground_truth_shares_are_plausible(figures: dict[str, float]) -> None:
    assert 0.40 <= figures["true_recovered"] <= 0.55
    assert 0.015 <= figures["true_deteriorated"] <= 0.06
    assert 0.15 <= figures["true_sudden_gain"] <= 0.30
    assert 7.0 <= figures["sessions_per_episode"] <= 9.0


def test_the_therapist_icc_recovers_a_known_value() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(400), 50)
    values = rng.normal(0, np.sqrt(0.1), 400)[groups] + rng.normal(0, np.sqrt(0.9), groups.size)
    assert therapist_icc(values, groups) == pytest.approx(0.1, abs=0.02)


def test_the_item_model_reproduces_its_expected_scores() -> None:
    rng = np.random.default_rng(5)
    for model in (PHQ9_GRM, GAD7_GRM):
        theta = np.full(40_000, 2.0)
        answers = model.sample(theta, rng)
        total = np.sum(answers, axis=0)
        assert total.mean() == pytest.approx(model.expected_total(np.array([2.0]))[0], abs=0.1)
        assert model.theta_for_total(model.expected_total(np.array([1.3])))[0] == pytest.approx(
            1.3, abs=1e-3
        )
    # the GAD-7 parameters were chosen so that an IAPT intake case (θ ≈ 2) scores ≈ 14
    assert GAD7_GRM.expected_total(np.array([2.0]))[0] == pytest.approx(14.0, abs=0.1)


def test_stable_item_offsets_give_the_published_test_retest_reliability() -> None:
    p = SynthParams()
    rng = np.random.default_rng(8)
    n = 30_000
    mu, sd = PHQ9_GRM.solve_intake(*p.intake_phq9, state_sd=p.state_sd)
    theta = rng.normal(mu, np.hypot(sd, p.state_sd), n)
    offsets = rng.standard_normal((n, 9)), np.arange(n)
    first, second = (
        np.sum(PHQ9_GRM.sample(theta, rng, stability=p.item_stability, stable=offsets), axis=0)
        for _ in range(2)
    )
    assert np.corrcoef(first, second)[0, 1] == pytest.approx(0.84, abs=0.03)  # Kroenke 2001


# ------------------------------------------------------------------------------ files


def test_write_registry_writes_parquet_that_reads_back(tmp_path: Path) -> None:
    r = generate(200, seed=4)
    paths = write_registry(r, tmp_path / "out")
    names = [p.name for p in paths]
    assert names == [
        "practices.parquet",
        "therapists.parquet",
        "clients.parquet",
        "episodes.parquet",
        "sessions.parquet",
        "synth.json",
    ]
    for name, frame in r.tables().items():
        assert pl.read_parquet(tmp_path / "out" / f"{name}.parquet").equals(frame), name
    meta = json.loads((tmp_path / "out" / "synth.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 4 and meta["synthetic"] is True and meta["episodes"] == 200
    assert meta["params"]["intake_phq9"] == [15.4, 5.5]


# ------------------------------------------------------------------------------ validation


def test_bad_parameters_are_refused_with_every_problem_named() -> None:
    with pytest.raises(CommonFactorsError) as info:
        dataclasses.replace(SynthParams(), dropout_first=1.5, alliance_loading=0.99)
    problems = " ".join(info.value.problems)
    assert "dropout_first" in problems and "loadings" in problems


def test_classes_must_be_ordered_and_weighted() -> None:
    classes = (
        TrajectoryClass("fast", 0.5, 0.8, 0.1, 0.3),
        TrajectoryClass("slow", 0.4, 0.1, 0.1, 0.1),
    )
    with pytest.raises(CommonFactorsError) as info:
        SynthParams(classes=classes)
    problems = " ".join(info.value.problems)
    assert "ordered" in problems and "sum to 1" in problems


@pytest.mark.parametrize(("episodes", "seed"), [(0, 1), (10, -1), (2.5, 1), (True, 1)])
def test_bad_sizes_and_seeds_are_refused(episodes: object, seed: int) -> None:
    with pytest.raises(CommonFactorsError):
        generate(episodes, seed=seed)  # type: ignore[arg-type]


def test_parameters_change_the_registry() -> None:
    few = dataclasses.replace(SynthParams(), dropout_first=0.0, dropout_later=0.0)
    assert not generate(500, seed=1, params=few).episodes.get_column("dropout").any()


def test_importing_the_generator_loads_no_web_framework() -> None:
    code = (
        "import sys, commonfactors.synth\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
