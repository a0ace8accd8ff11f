"""Expected treatment response: the estimator contract, recovery of known log-linear
parameters, the nearest-neighbour variant on a hand-made reference set, and model files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from commonfactors.synth import generate
from commonfactors.trajectories import (
    DEFAULT_MODELS,
    QUANTILES,
    ExpectedTreatmentResponse,
    ModelNotFittedError,
    NearestNeighbourETR,
    TrajectoryError,
    default_model,
    load_model,
)

MODELS = Path(__file__).resolve().parents[1] / "src" / "commonfactors" / "trajectories" / "models"


def registry_long(episodes: int, seed: int) -> pl.DataFrame:
    reg = generate(episodes, seed=seed)
    return reg.sessions.filter(pl.col("attended")).select(
        "episode_id",
        pl.col("treatment_session").alias("session"),
        pl.col("phq9_total").alias("score"),
    )


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    return registry_long(800, seed=11)


@pytest.fixture(scope="module")
def fitted(reference: pl.DataFrame) -> ExpectedTreatmentResponse:
    return ExpectedTreatmentResponse("phq9").fit(
        reference, reference="test registry", synthetic=True
    )


# ------------------------------------------------------------------------------ contract


def test_fit_returns_self_and_learns_attributes(reference: pl.DataFrame) -> None:
    model = ExpectedTreatmentResponse("phq9")
    assert not hasattr(model, "coef_")
    assert model.fit(reference) is model
    assert model.coef_.shape == (len(QUANTILES), 4)
    assert model.quantiles_ == QUANTILES
    assert model.instrument_ == "phq9" and model.better_ == "lower"
    assert model.score_range_ == (0.0, 27.0)
    assert 2 <= model.max_session_ <= 20
    assert model.reference_.episodes == reference["episode_id"].n_unique()
    assert model.label.startswith("unnamed reference data (800 episodes")


def test_init_only_stores_parameters() -> None:
    model = ExpectedTreatmentResponse("phq9", quantiles=(0.5, 0.9), max_iter=10)
    assert model.get_params()["quantiles"] == (0.5, 0.9)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    ExpectedTreatmentResponse("no-such-instrument")  # validated by fit, not __init__


def test_an_unfitted_model_raises() -> None:
    model = ExpectedTreatmentResponse()
    frame = pl.DataFrame({"episode_id": [1, 1], "session": [1, 2], "score": [10.0, 8.0]})
    for call in (lambda: model.predict(frame), model.to_json, lambda: model.label):
        with pytest.raises(ModelNotFittedError, match="not fitted"):
            call()
    with pytest.raises(NotFittedError):  # also scikit-learn's error
        model.predict(frame)


def test_fit_validates_parameters_and_names_every_problem(reference: pl.DataFrame) -> None:
    bad = ExpectedTreatmentResponse("nope", quantiles=(0.25, 0.333), max_iter=0)
    with pytest.raises(TrajectoryError) as err:
        bad.fit(reference)
    text = str(err.value)
    assert "nope" in text and "whole percentages" in text and "0.5" in text and "max_iter" in text


def test_fit_names_bad_rows() -> None:
    frame = pl.DataFrame(
        {"episode_id": [1, 1, 1, 2], "session": [1, 2, 2, 0], "score": [10.0, 30.0, 8.0, 5.0]}
    )
    with pytest.raises(TrajectoryError) as err:
        ExpectedTreatmentResponse("phq9").fit(frame)
    text = str(err.value)
    assert "row(s) 4" in text  # session 0
    assert "repeat an episode's session" in text and "2, 3" in text
    assert "outside the PHQ-9 range 0-27 in row(s) 2" in text


def test_fit_accepts_pandas_and_other_column_names(reference: pl.DataFrame) -> None:
    frame = reference.rename({"episode_id": "ep", "session": "visit", "score": "phq"}).to_pandas()
    model = ExpectedTreatmentResponse("phq9").fit(frame, episode="ep", session="visit", score="phq")
    out = model.predict(frame, episode="ep", session="visit", score="phq")
    assert out.columns[:3] == ["ep", "visit", "phq"] and "p50" in out.columns


# ------------------------------------------------------------------------------ the model


def test_it_recovers_known_log_linear_parameters() -> None:
    """Data from score = b0 + b1·intake + (b2 + b3·intake)·ln t + N(0, sd): the median
    line recovers (b0, b1, b2, b3), and the 10th and 90th percentiles lie 1.2816·sd
    below and above it."""
    rng = np.random.default_rng(5)
    b0, b1, b2, b3, sd = 1.0, 0.9, -0.5, -0.25, 2.0
    n, sessions = 4000, np.arange(1, 13)
    intake = rng.uniform(8, 24, n)
    t = np.tile(sessions, n)
    i = np.repeat(intake, sessions.size)
    score = b0 + b1 * i + (b2 + b3 * i) * np.log(t) + rng.normal(0, sd, t.size)
    score[t == 1] = i[t == 1]  # the intake is the first score
    frame = pl.DataFrame(
        {"episode_id": np.repeat(np.arange(n), sessions.size), "session": t, "score": score}
    )
    model = ExpectedTreatmentResponse(None, quantiles=(0.1, 0.5, 0.9)).fit(frame)
    # the coefficients, within about two standard errors (b0 and b2 are extrapolated to
    # intake 0 and are the least precise)
    for got, true, tol in zip(
        model.coef_[1], (b0, b1, b2, b3), (0.4, 0.03, 0.25, 0.02), strict=True
    ):
        assert got == pytest.approx(true, abs=tol)
    # the curves, where the data are
    for i in (10.0, 16.0, 22.0):
        for t in (2, 5, 12):
            bands = model.expected(i, t)
            truth = b0 + b1 * i + (b2 + b3 * i) * np.log(t)
            assert bands["p50"] == pytest.approx(truth, abs=0.2)
            assert bands["p90"] - truth == pytest.approx(1.2816 * sd, abs=0.25)
            assert truth - bands["p10"] == pytest.approx(1.2816 * sd, abs=0.25)


def test_bands_never_cross_and_stay_in_the_score_range(fitted: ExpectedTreatmentResponse) -> None:
    frame = pl.DataFrame(
        {
            "episode_id": np.repeat([1, 2, 3], 30),
            "session": np.tile(np.arange(1, 31), 3),
            "score": np.repeat([0.0, 14.0, 27.0], 30),
        }
    )
    out = fitted.predict(frame).filter(pl.col("t") >= 2)
    bands = out.select(fitted.band_names()).to_numpy()
    assert (np.diff(bands, axis=1) >= 0).all()
    assert bands.min() >= 0 and bands.max() <= 27
    later = out.filter(pl.col("session") >= fitted.max_session_)
    assert later.group_by("episode_id").agg(pl.col("p50").n_unique())["p50"].max() == 1


def test_no_expectation_at_the_intake(fitted: ExpectedTreatmentResponse) -> None:
    frame = pl.DataFrame(
        {"episode_id": [1, 1, 1], "session": [1, 2, 3], "score": [None, 15.0, 12.0]}
    )
    out = fitted.predict(frame)
    assert out["intake"].to_list() == [15.0, 15.0, 15.0]
    assert out["t"].to_list() == [None, 1, 2]
    assert out["p50"].to_list()[:2] == [None, None] and out["p50"][2] is not None


# ------------------------------------------------------------------------------ nearest neighbours


HAND_MADE = pl.DataFrame(
    {
        "episode_id": [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4],
        "session": [1, 2, 3] * 4,
        "score": [10, 8, 6, 11, 9, 7, 20, 21, 22, 21, 22, 23],
        "age": [30] * 3 + [60] * 3 + [30] * 3 + [60] * 3,
    }
).with_columns(pl.col("score").cast(pl.Float64))


def test_nearest_neighbours_give_the_neighbours_curve() -> None:
    model = NearestNeighbourETR("phq9", k=2, min_observed=1).fit(HAND_MADE)
    assert model.fit(HAND_MADE) is model
    assert sorted(model.neighbours({"intake": 10.4}).tolist()) == [0, 1]
    query = pl.DataFrame(
        {
            "episode_id": [7, 7, 7, 8, 8],
            "session": [1, 2, 3, 1, 2],
            "score": [10.5, 9, 9, 20.5, 30 - 8],
        }
    )
    out = model.predict(query)
    assert out["p50"].to_list() == [None, 8.5, 6.5, None, 21.5]
    # percentiles of the two neighbours' scores 8 and 9, interpolated linearly
    assert out["p10"][1] == pytest.approx(8.1) and out["p90"][1] == pytest.approx(8.9)


def test_nearest_neighbours_match_on_standardised_characteristics() -> None:
    model = NearestNeighbourETR("phq9", k=1, min_observed=1, features=("intake", "age")).fit(
        HAND_MADE
    )
    query = pl.DataFrame(
        {"episode_id": [9, 9], "session": [1, 2], "score": [10.6, 9.0], "age": [31, 31]}
    )
    assert model.predict(query)["p50"].to_list() == [None, 8.0]  # episode 1 (age 30), not 2
    with pytest.raises(TrajectoryError, match="age"):
        model.predict(query.drop("age"))


def test_nearest_neighbours_need_enough_observed_scores() -> None:
    short = HAND_MADE.filter(~((pl.col("episode_id") == 2) & (pl.col("session") == 3)))
    model = NearestNeighbourETR("phq9", k=2, min_observed=2).fit(short)
    out = model.predict(
        pl.DataFrame({"episode_id": [1, 1, 1], "session": [1, 2, 3], "score": [10.0, 9.0, 9.0]})
    )
    assert out["p50"].to_list() == [None, 8.5, None]


def test_nearest_neighbours_validate_k() -> None:
    with pytest.raises(TrajectoryError, match="at least k = 5"):
        NearestNeighbourETR("phq9", k=5, min_observed=1).fit(HAND_MADE)
    with pytest.raises(TrajectoryError, match="must not exceed k"):
        NearestNeighbourETR("phq9", k=2, min_observed=3).fit(HAND_MADE)


# ------------------------------------------------------------------------------ model files


def test_json_round_trip_gives_identical_predictions(
    fitted: ExpectedTreatmentResponse, reference: pl.DataFrame, tmp_path: Path
) -> None:
    again = load_model(fitted.to_json())
    assert isinstance(again, ExpectedTreatmentResponse)
    assert again.predict(reference).equals(fitted.predict(reference))
    assert again.label == fitted.label and again.get_params() == fitted.get_params()
    path = fitted.save(tmp_path / "model.json")
    assert ExpectedTreatmentResponse.load(path).predict(reference).equals(fitted.predict(reference))
    assert load_model(path).to_json() == fitted.to_json()


def test_nearest_neighbour_json_round_trip() -> None:
    model = NearestNeighbourETR("phq9", k=2, min_observed=1, features=("intake", "age")).fit(
        HAND_MADE
    )
    again = load_model(model.to_json())
    assert isinstance(again, NearestNeighbourETR)
    assert again.predict(HAND_MADE).equals(model.predict(HAND_MADE))


def test_a_model_file_is_versioned_plain_json(fitted: ExpectedTreatmentResponse) -> None:
    doc = json.loads(fitted.to_json())
    assert doc["format"] == "commonfactors.model" and doc["format_version"] == 1
    assert doc["kind"] == "etr_loglinear_quantile" and doc["reference"]["synthetic"] is True
    doc["format_version"] = 99
    with pytest.raises(TrajectoryError, match="version 99 is not supported"):
        load_model(json.dumps(doc))
    with pytest.raises(TrajectoryError, match="not a commonfactors model file"):
        load_model('{"a": 1}')
    doc["format_version"] = 1
    del doc["fitted"]["coef"]
    with pytest.raises(TrajectoryError, match="incomplete"):
        load_model(json.dumps(doc))


@pytest.mark.parametrize("instrument", sorted(DEFAULT_MODELS))
def test_the_shipped_default_says_it_is_synthetic(instrument: str) -> None:
    model = default_model(instrument)
    assert model.label.startswith("SYNTHETIC reference data, not real clients")
    assert "seed 20260101" in model.label and "20,000 episodes" in model.label
    assert model.reference_.synthetic and model.instrument_ == instrument
    path = MODELS / DEFAULT_MODELS[instrument]
    assert path.stat().st_size < 8_000
    assert json.loads(path.read_text())["kind"] == "etr_loglinear_quantile"


def test_there_is_no_default_for_other_instruments() -> None:
    with pytest.raises(TrajectoryError, match="shipped: phq9, gad7"):
        default_model("who5")
