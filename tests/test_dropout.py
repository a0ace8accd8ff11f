"""Dropout risk: early-session features, the calibrated model, its JSON file, and its
discrimination and calibration on held-out synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from commonfactors.cli import app
from commonfactors.synth import generate
from commonfactors.trajectories import (
    DROPOUT_FEATURES,
    EARLY_FEATURES,
    DropoutModel,
    ModelNotFittedError,
    TrajectoryError,
    default_dropout_model,
    dropout_features,
    dropout_report,
)
from commonfactors.trajectories.dropout import (
    Appointment,
    age_years,
    episode_dropout_risk,
    on_model_scale,
)


@pytest.fixture(scope="module")
def train() -> pl.DataFrame:
    reg = generate(6000, seed=21)
    return dropout_features(reg.sessions, reg.episodes)


@pytest.fixture(scope="module")
def test_set() -> pl.DataFrame:
    reg = generate(6000, seed=22)
    return dropout_features(reg.sessions, reg.episodes)


@pytest.fixture(scope="module")
def model(train: pl.DataFrame) -> DropoutModel:
    return DropoutModel().fit(train, train["dropout"], reference="test registry", synthetic=True)


def test_features_are_taken_at_the_second_attended_session() -> None:
    sessions = pl.DataFrame(
        {
            "episode_id": [1, 1, 1, 1, 2, 3, 3],
            "session": [1, 2, 3, 4, 1, 1, 2],
            "attended": [True, False, True, True, True, True, True],
            "phq9_total": [20, None, 17, 12, 15, 10, 14],
            "alliance": [3.0, None, 4.0, 5.0, 4.0, 4.5, 3.5],
        }
    )
    episodes = pl.DataFrame(
        {
            "episode_id": [1, 2, 3],
            "expectancy": [6.0, 7.0, 8.0],
            "dropout": [False, True, True],
            "age_band": ["18-24", "65+", "?"],
        }
    )
    out = dropout_features(sessions, episodes)
    assert out["episode_id"].to_list() == [1, 3]  # episode 2 never reached session 2
    row = out.row(0, named=True)
    assert row["intake_severity"] == 20 and row["early_change"] == -3
    assert row["alliance"] == 3.5 and row["attendance"] == pytest.approx(2 / 3)
    assert row["expectancy"] == 6.0 and row["age"] == 21.0 and row["dropout"] is False
    assert out["age"].to_list() == [21.0, None]
    assert set(DROPOUT_FEATURES) - set(out.columns) == {"homework"}  # no homework column
    first = dropout_features(sessions, episodes, after=1)
    assert "early_change" not in first.columns and first.height == 3


def test_age_bands_become_years() -> None:
    bands = pl.Series(["18-24", "25–34", "65+", "unknown", None])
    assert pl.select(age_years(pl.lit(bands))).to_series().to_list() == [
        21.0,
        29.5,
        70.0,
        None,
        None,
    ]


def test_fit_returns_self_and_learns_coefficients(train: pl.DataFrame) -> None:
    m = DropoutModel(EARLY_FEATURES, C=0.5)
    assert m.fit(train, train["dropout"]) is m
    assert m.coef_.shape == (len(EARLY_FEATURES),) and isinstance(m.intercept_, float)
    assert 0.15 < m.event_rate_ < 0.35
    odds = m.odds_ratios()
    assert (
        odds["alliance"] < 1 < odds["early_change"]
    )  # weaker alliance, getting worse: more dropout


def test_an_unfitted_model_raises(train: pl.DataFrame) -> None:
    with pytest.raises(ModelNotFittedError):
        DropoutModel().predict_risk(train)
    with pytest.raises(TrajectoryError, match="cv must be"):
        DropoutModel(cv=1).fit(train, train["dropout"])
    with pytest.raises(TrajectoryError, match="lacks feature"):
        DropoutModel(("nope",)).fit(train, train["dropout"])


def test_predictions_are_scikit_learns_calibrated_probabilities(
    model: DropoutModel, train: pl.DataFrame
) -> None:
    x = train.select(pl.col(f).cast(pl.Float64) for f in DROPOUT_FEATURES).to_numpy()
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    reference = CalibratedClassifierCV(pipe, method="sigmoid", cv=5, ensemble=False).fit(
        x, train["dropout"].to_numpy()
    )
    np.testing.assert_allclose(
        model.predict_risk(train), reference.predict_proba(x)[:, 1], rtol=1e-9
    )


def test_json_round_trip_gives_identical_predictions(
    model: DropoutModel, test_set: pl.DataFrame
) -> None:
    again = DropoutModel.from_json(model.to_json())
    assert np.array_equal(again.predict_risk(test_set), model.predict_risk(test_set))
    assert again.label == model.label and "SYNTHETIC" in again.label
    doc = json.loads(model.to_json())
    assert doc["kind"] == "dropout_calibrated_logistic" and set(doc["features"]) == set(
        DROPOUT_FEATURES
    )


def test_it_discriminates_and_is_calibrated_on_held_out_data(
    model: DropoutModel, test_set: pl.DataFrame
) -> None:
    report = dropout_report(model, test_set, test_set["dropout"])
    assert report.auc > 0.6 and report.auc_low < report.auc < report.auc_high
    assert report.brier < report.brier_null
    assert abs(report.calibration_intercept) < 0.25 and 0.7 < report.calibration_slope < 1.3
    assert all(abs(p - o) < 0.06 for _, p, o in report.reliability)
    groups = {(g.variable, g.group): g for g in report.groups}
    assert ("gender", "female") in groups and ("age_band", "65+") in groups
    assert all(g.auc is None or g.auc > 0.55 for g in report.groups if g.n > 300)
    assert "| AUC (95% CI) |" in report.to_markdown()


def test_the_shipped_model_is_labelled_synthetic(test_set: pl.DataFrame) -> None:
    m = default_dropout_model()
    assert m.label.startswith("SYNTHETIC reference data, not real clients")
    risk = m.predict_risk(test_set)
    assert risk.shape == (test_set.height,) and risk.min() > 0 and risk.max() < 1
    assert "dropout_risk" in m.predict_frame(test_set).columns


# ------------------------------------------------------------------ homework and one episode


def test_homework_is_the_mean_share_done_over_the_first_sessions_and_age_may_be_years() -> None:
    sessions = pl.DataFrame(
        {
            "episode_id": [1, 1, 1, 1, 2, 2],
            "session": [1, 2, 3, 4, 1, 2],
            "attended": [True, False, True, True, True, True],
            "phq9_total": [20, None, 17, 12, 10, 14],
            "alliance": [3.0, None, 4.0, 5.0, 4.5, 3.5],
            "homework": [None, None, 0.4, 1.0, float("nan"), None],
        }
    )
    episodes = pl.DataFrame({"episode_id": [1, 2], "expectancy": [6.0, 8.0], "age": [33, 70]})
    out = dropout_features(sessions, episodes)
    # episode 1: sessions 1 and 3 attended; only session 3 has homework (0.4), session 4 is later
    assert out["homework"].to_list() == [pytest.approx(0.4), None]
    assert out["age"].to_list() == [33.0, 70.0]
    assert out.columns[1:] == list(DROPOUT_FEATURES)
    assert "homework" not in dropout_features(sessions.drop("homework"), episodes).columns


def test_a_refit_recovers_a_known_homework_effect_on_dropout() -> None:
    """Where dropout does depend on homework (here by construction, log-odds −0.6 per SD),
    the fitted model finds that weight — what a practice's own refit would learn."""
    reg = generate(20000, seed=5)
    x = dropout_features(reg.sessions, reg.episodes).drop_nulls(list(DROPOUT_FEATURES))
    z = x.select((pl.col(f) - pl.col(f).mean()) / pl.col(f).std() for f in DROPOUT_FEATURES)
    truth = {"homework": -0.6, "alliance": -0.4, "early_change": 0.3}
    logit = -1.3 + sum(b * z[f].to_numpy() for f, b in truth.items())
    rng = np.random.default_rng(3)
    y = rng.random(x.height) < 1 / (1 + np.exp(-logit))
    fitted = DropoutModel().fit(x, y).odds_ratios()
    for f in DROPOUT_FEATURES:
        assert np.log(fitted[f]) == pytest.approx(truth.get(f, 0.0), abs=0.08), f


def test_contributions_and_the_intercept_make_the_logit(model: DropoutModel) -> None:
    frame = pl.DataFrame(
        {f: [model.mean_[i] + 1.0, None] for i, f in enumerate(DROPOUT_FEATURES)},
        schema=dict.fromkeys(DROPOUT_FEATURES, pl.Float64),
    )
    parts = model.contributions(frame)
    risk = model.predict_risk(frame)
    assert model.intercept_ + parts.sum(axis=1) == pytest.approx(np.log(risk / (1 - risk)))
    # one point above the mean moves the log-odds by coef / scale; a missing value by nothing
    assert parts[0] == pytest.approx(model.coef_ * (model.mean_ + 1 - model.center_) / model.scale_)
    assert parts[1] == pytest.approx(model.coef_ * (model.mean_ - model.center_) / model.scale_)


def test_scores_are_put_on_the_models_scales() -> None:
    assert on_model_scale("alliance", 3.0, (0.0, 4.0)) == 4.0
    assert on_model_scale("alliance", 0.0, (0.0, 4.0)) == 1.0
    assert on_model_scale("alliance", 60.0, (12.0, 84.0)) == pytest.approx(1 + 4 * 48 / 72)
    assert on_model_scale("expectancy", 5.0, (0.0, 10.0)) == 5.0
    for bad in (("alliance", 5.0, (0.0, 4.0)), ("alliance", 1.0, (4.0, 0.0)), ("age", 1.0, (0, 9))):
        with pytest.raises(TrajectoryError):
            on_model_scale(*bad)


def test_one_episodes_risk_is_the_models_risk_of_its_features() -> None:
    model = default_dropout_model()
    appointments = [
        Appointment(3, attended=True, outcome=19, alliance=3.25, homework=0.0),
        Appointment(1, attended=True, outcome=16, alliance=3.75),
        Appointment(2, attended=False),
        Appointment(4, attended=True, outcome=12, alliance=5.0, homework=1.0),
    ]
    assert episode_dropout_risk(appointments[1:3]) is None  # one attended session so far
    got = episode_dropout_risk(appointments, expectancy=4.0, age=23.0)
    assert got is not None
    by_hand = {
        "intake_severity": 16.0,
        "early_change": 3.0,
        "alliance": 3.5,
        "attendance": 2 / 3,
        "expectancy": 4.0,
        "homework": 0.0,
        "age": 23.0,
    }
    x = np.array([by_hand[f] for f in model.features])
    z = (x - model.center_) / model.scale_
    assert got.risk == pytest.approx(1 / (1 + np.exp(-(model.intercept_ + z @ model.coef_))))
    assert (got.after, got.appointments, got.base_rate) == (2, 3, model.event_rate_)
    assert "SYNTHETIC" in got.model
    parts = {c.feature: c for c in got.contributions}
    assert {f: parts[f].value for f in model.features} == pytest.approx(by_hand)
    # worse at session 2, a weak alliance, low expectancy and youth all raise the risk here
    for f in ("early_change", "alliance", "expectancy", "age"):
        assert parts[f].direction == "raises", f
    # without homework records the model takes the reference mean, and says so
    none = episode_dropout_risk(
        [Appointment(1, True, 16), Appointment(2, True, 19)], expectancy=4.0, age=23.0
    )
    assert none is not None
    hw = next(c for c in none.contributions if c.feature == "homework")
    assert (hw.value, hw.log_odds, hw.direction) == (None, 0.0, "little effect")
    assert hw.assumed == pytest.approx(model.mean_[model.features.index("homework")])


def test_one_episodes_risk_needs_an_intake_score_and_sound_numbers() -> None:
    with pytest.raises(TrajectoryError, match="first attended session"):
        episode_dropout_risk([Appointment(1, True), Appointment(2, True, 12)])
    with pytest.raises(TrajectoryError, match="distinct"):
        episode_dropout_risk([Appointment(1, True, 12), Appointment(1, True, 12)])


def test_cli_fit_dropout_fits_what_the_data_have(tmp_path: Path) -> None:
    reg = generate(3000, seed=4)
    sessions, episodes = tmp_path / "sessions.parquet", tmp_path / "episodes.parquet"
    reg.sessions.drop("homework").write_parquet(sessions)
    reg.episodes.write_parquet(episodes)
    model_file = tmp_path / "dropout.json"
    result = CliRunner().invoke(
        app, ["fit-dropout", str(sessions), str(episodes), "--out", str(model_file)]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # as read, whatever the terminal's width
    feats = dropout_features(reg.sessions.drop("homework"), reg.episodes)
    assert f"{feats.height:,} episodes with 2+ attended sessions" in said
    assert "not in the data: homework" in said
    fitted = DropoutModel.load(model_file)
    used = tuple(f for f in DROPOUT_FEATURES if f != "homework")
    direct = DropoutModel(used).fit(feats, feats["dropout"])
    assert fitted.features == used and fitted.coef_ == pytest.approx(direct.coef_)
    wrong = CliRunner().invoke(
        app, ["fit-dropout", str(sessions), str(sessions), "--out", str(model_file)]
    )
    assert wrong.exit_code == 2 and "no dropout column" in " ".join(wrong.output.split())
