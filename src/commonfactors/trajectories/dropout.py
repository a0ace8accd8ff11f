"""Dropout risk from the first sessions: a calibrated logistic regression.

:func:`dropout_features` turns a session table into one row per episode at its
``after``-th attended session (default: the second) with early-session features:

* ``intake_severity``: the outcome score at the first attended session;
* ``early_change``: the score at the ``after``-th attended session minus the intake
  (positive = worse; needs ``after`` ≥ 2);
* ``alliance``: the mean session alliance over those sessions;
* ``attendance``: the share of appointments so far that were attended (``after`` ≥ 2);
* ``expectancy``: the client's outcome expectation at intake;
* ``homework``: the mean share of the homework done over those sessions (none is due at
  intake), when ``sessions`` has a homework column. In the synthetic registry a session's
  value is the share of one task done (continuous); the clinic app gives the share of the
  tasks due by then that were fully done (0 or 1 with a single task) — close in meaning,
  not identical, and a practice's own refit has no such difference;
* ``age``: years — the episode's ``age`` when ``episodes`` has one, otherwise the middle of
  the client's age band (``"25-34"`` → 29.5, an open band ``"65+"`` → 70), when
  ``episodes`` has ``age_band``.

:class:`DropoutModel` is a logistic regression on the standardised features, recalibrated
by Platt scaling with cross-validation (scikit-learn ``CalibratedClassifierCV``,
``method="sigmoid"``, ``ensemble=False``). A logistic model passed through a sigmoid
calibration is again one logistic model, so the fitted model is a single vector of
coefficients, saved as JSON (:meth:`DropoutModel.to_json`), never a pickle; predictions
are always made from those coefficients, so a saved and reloaded model predicts exactly
the same. Missing feature values are replaced by the reference data's mean.

Predictors and effect directions: ``reference/trajectories.md`` §4.3 (weaker alliance,
d = .55; missed sessions; low expectancy); homework engagement went with less dropout in
Stirman et al. (2018, *Behav Ther* 49:741–755), a direction without a pooled figure, so the
synthetic registry has no direct homework–dropout path and the shipped model gives
homework the weight the indirect path (homework → change → dropout) earns there;
refitted on a practice's own records it learns the practice's own weight.
:func:`episode_dropout_risk` is the one-episode path the web app uses: plain appointment
records in, the risk and each feature's contribution out. :func:`dropout_report` gives
discrimination (AUC), calibration (Brier score, calibration intercept and slope, a
reliability table) and AUC per client group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.base import BaseEstimator

from commonfactors.instruments.registry import default_registry
from commonfactors.trajectories._common import (
    ModelNotFittedError,
    Reference,
    TrajectoryError,
    as_polars,
    read_envelope,
    write_envelope,
)

__all__ = [
    "DROPOUT_FEATURES",
    "EARLY_FEATURES",
    "FEATURE_LABELS",
    "FEATURE_SCALES",
    "OUTCOME_INSTRUMENT",
    "Appointment",
    "Contribution",
    "DropoutModel",
    "DropoutReport",
    "DropoutRisk",
    "GroupResult",
    "age_years",
    "default_dropout_model",
    "dropout_features",
    "dropout_report",
    "episode_dropout_risk",
    "episode_features",
    "on_model_scale",
]

Floats = npt.NDArray[np.float64]

#: The outcome instrument of the shipped model (its ``intake_severity`` and ``early_change``
#: are PHQ-9 totals).
OUTCOME_INSTRUMENT = "phq9"

#: The early-session features.
EARLY_FEATURES = (
    "intake_severity",
    "early_change",
    "alliance",
    "attendance",
    "expectancy",
    "homework",
)

#: The default features: the early-session ones and age. With the early-session features
#: alone the model ranked clients as well within every age band but under-predicted
#: dropout for the youngest and over-predicted it for the oldest (docs/trajectories.md);
#: leave ``age`` out (``features=EARLY_FEATURES``) only where no age band is recorded.
DROPOUT_FEATURES = (*EARLY_FEATURES, "age")


def dropout_features(
    sessions: object,
    episodes: object,
    *,
    after: int = 2,
    score: str = "phq9_total",
    alliance: str = "alliance",
    expectancy: str = "expectancy",
    episode: str = "episode_id",
    session: str = "session",
    attended: str = "attended",
    homework: str = "homework",
    keep: Sequence[str] = ("dropout", "age_band", "gender"),
) -> pl.DataFrame:
    """One row per episode with at least ``after`` attended sessions: ``episode`` and the
    features of :data:`DROPOUT_FEATURES` that exist at that point (``homework`` only when
    ``sessions`` has the ``homework`` column, ``age`` only when ``episodes`` has ``age`` or
    ``age_band``), plus the ``keep`` columns of ``episodes`` that are present (the outcome
    and the client groups).

    ``sessions`` has one row per appointment (``attended`` true or false, ``session`` its
    number); ``episodes`` one row per episode with ``expectancy``. Polars or pandas."""
    if isinstance(after, bool) or not isinstance(after, int) or after < 1:
        raise TrajectoryError(f"after must be a whole number of at least 1, not {after!r}")
    s, e = as_polars(sessions, "sessions"), as_polars(episodes, "episodes")
    problems = [
        f"sessions lack column {c!r}"
        for c in (episode, session, attended, score, alliance)
        if c not in s.columns
    ] + [f"episodes lack column {c!r}" for c in (episode, expectancy) if c not in e.columns]
    if problems:
        raise TrajectoryError("dropout features cannot be computed", problems)
    s = s.sort(episode, session).with_columns(
        pl.col(attended).cast(pl.Int32).cum_sum().over(episode).alias("__k"),
        pl.int_range(1, pl.len() + 1).over(episode).alias("__appointment"),
    )
    first = s.filter(pl.col(attended) & (pl.col("__k") <= after))
    agg = [
        pl.col(score).first().cast(pl.Float64).alias("intake_severity"),
        pl.col(alliance).cast(pl.Float64).mean().alias("alliance"),
        pl.len().alias("__n"),
    ]
    if homework in s.columns:
        agg.append(pl.col(homework).cast(pl.Float64).fill_nan(None).mean().alias("homework"))
    if after >= 2:
        agg += [
            (pl.col(score).last() - pl.col(score).first()).cast(pl.Float64).alias("early_change"),
            (after / pl.col("__appointment").last()).alias("attendance"),
        ]
    feats = first.group_by(episode, maintain_order=True).agg(agg).filter(pl.col("__n") == after)
    kept = [c for c in keep if c in e.columns and c != episode]
    if "age" in e.columns:
        extra = [pl.col("age").cast(pl.Float64)]
    elif "age_band" in e.columns:
        extra = [age_years(pl.col("age_band")).alias("age")]
    else:
        extra = []
    cols = e.select(episode, pl.col(expectancy).cast(pl.Float64).alias("expectancy"), *extra, *kept)
    out = feats.join(cols, on=episode, how="left")
    order = [f for f in DROPOUT_FEATURES if f in out.columns]
    return out.select(episode, *order, *kept)


def age_years(band: pl.Expr) -> pl.Expr:
    """Years from an age band: the middle of ``"25-34"`` (29.5); an open band ``"65+"``
    is taken as its start + 5 (70); anything else is null."""
    text = band.cast(pl.String)
    lo = text.str.extract(r"^(\d+)", 1).cast(pl.Float64)
    hi = text.str.extract(r"^\d+\s*[-–]\s*(\d+)$", 1).cast(pl.Float64)
    return pl.when(hi.is_not_null()).then((lo + hi) / 2).when(text.str.ends_with("+")).then(lo + 5)


class DropoutModel(BaseEstimator):  # type: ignore[misc]
    """Calibrated logistic regression of dropout on early-session features.

    Parameters
    ----------
    features:
        Feature columns of the frame passed to :meth:`fit` and :meth:`predict_risk`.
    outcome, after:
        What the features mean, saved with the model so that it is applied as it was
        fitted: the outcome instrument of ``intake_severity`` and ``early_change``, and the
        attended session the features are taken at (:func:`dropout_features`' ``after``).
    C:
        Inverse L2 regularisation strength of the logistic regression.
    cv:
        Folds of the cross-validation that fits the sigmoid calibration.

    Attributes
    ----------
    mean_, scale_ : ndarray
        Imputation value (reference mean) and standardisation of each feature.
    coef_, intercept_ :
        The calibrated model: logit(risk) = intercept_ + Σ coef_ · z, z standardised.
    base_coef_, base_intercept_, calibration_ :
        The logistic regression before calibration and the sigmoid calibration
        ``(a, b)``: risk = 1 / (1 + exp(a · (base_intercept_ + Σ base_coef_ · z) + b)).
    event_rate_ : float
        Share of dropouts in the reference data.
    reference_ : Reference
        What the model was fitted on.
    """

    kind = "dropout_calibrated_logistic"

    def __init__(
        self,
        features: Sequence[str] = DROPOUT_FEATURES,
        *,
        C: float = 1.0,  # noqa: N803 (scikit-learn's name for it)
        cv: int = 5,
        outcome: str = OUTCOME_INSTRUMENT,
        after: int = 2,
    ) -> None:
        self.features = features
        self.C = C
        self.cv = cv
        self.outcome = outcome
        self.after = after

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "coef_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise ModelNotFittedError(
                "this DropoutModel is not fitted yet: call fit() or load a model file"
            )

    @property
    def label(self) -> str:
        """What the model was fitted on, as every screen that shows a risk must print it."""
        self._check_fitted()
        return str(self.reference_.label)

    def _matrix(self, data: object) -> Floats:
        frame = as_polars(data, "features")
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise TrajectoryError(f"the frame lacks feature column(s) {missing}")
        bad = [f for f in self.features if not frame.schema[f].is_numeric()]
        if bad:
            raise TrajectoryError(f"feature column(s) {bad} must be numeric")
        x: Floats = frame.select(pl.col(f).cast(pl.Float64) for f in self.features).to_numpy()
        return x

    def fit(
        self,
        X: object,  # noqa: N803
        y: Sequence[bool] | npt.ArrayLike,
        *,
        reference: str | Reference = "unnamed reference data",
        synthetic: bool = False,
    ) -> Self:
        """Fit on a frame of features (one row per episode) and the dropout outcome."""
        problems = []
        if isinstance(self.features, str) or not self.features:
            problems.append(
                f"features must be a non-empty list of column names, not {self.features!r}"
            )
        if not (isinstance(self.C, int | float) and self.C > 0):
            problems.append(f"C must be positive, not {self.C!r}")
        if isinstance(self.cv, bool) or not isinstance(self.cv, int) or self.cv < 2:
            problems.append(f"cv must be a whole number of at least 2, not {self.cv!r}")
        if problems:
            raise TrajectoryError("DropoutModel cannot be fitted", problems)
        x = self._matrix(X)
        target = np.asarray(y, dtype=bool)
        if target.shape != (x.shape[0],):
            raise TrajectoryError(
                f"y must have one value per row ({x.shape[0]}), not shape {target.shape}"
            )
        events = int(target.sum())
        if min(events, x.shape[0] - events) < 2 * self.cv:
            raise TrajectoryError(
                f"DropoutModel needs at least {2 * self.cv} episodes with and without dropout "
                f"(got {events} and {x.shape[0] - events})"
            )
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(x, axis=0)
        if np.isnan(mean).any():
            empty = [f for f, m in zip(self.features, mean, strict=True) if math.isnan(m)]
            raise TrajectoryError(f"feature column(s) {empty} have no values")
        x = np.where(np.isnan(x), mean, x)
        from sklearn.calibration import CalibratedClassifierCV  # only when fitting
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        pipe = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))
        cal = CalibratedClassifierCV(pipe, method="sigmoid", cv=self.cv, ensemble=False).fit(
            x, target
        )
        fitted = cal.calibrated_classifiers_[0]
        scaler, logistic = fitted.estimator[0], fitted.estimator[-1]
        a, b = float(fitted.calibrators[0].a_), float(fitted.calibrators[0].b_)
        self.mean_: Floats = mean
        self.scale_: Floats = np.asarray(scaler.scale_, dtype=np.float64)
        self.center_: Floats = np.asarray(scaler.mean_, dtype=np.float64)
        self.base_coef_: Floats = np.asarray(logistic.coef_[0], dtype=np.float64)
        self.base_intercept_ = float(logistic.intercept_[0])
        self.calibration_ = (a, b)
        self.coef_: Floats = -a * self.base_coef_
        self.intercept_ = -(a * self.base_intercept_ + b)
        self.event_rate_ = events / x.shape[0]
        self.reference_ = (
            reference
            if isinstance(reference, Reference)
            else Reference.make(reference, synthetic=synthetic, episodes=x.shape[0])
        )
        return self

    def predict_risk(self, X: object) -> Floats:  # noqa: N803
        """The probability of dropout for each row of a feature frame."""
        self._check_fitted()
        x = self._matrix(X)
        x = np.where(np.isnan(x), self.mean_, x)
        z = (x - self.center_) / self.scale_
        risk: Floats = 1.0 / (1.0 + np.exp(-(self.intercept_ + z @ self.coef_)))
        return risk

    def predict_proba(self, X: object) -> Floats:  # noqa: N803
        """scikit-learn style: columns P(no dropout), P(dropout)."""
        p = self.predict_risk(X)
        return np.column_stack([1.0 - p, p])

    def predict_frame(self, X: object) -> pl.DataFrame:  # noqa: N803
        """The feature frame with ``dropout_risk`` added."""
        return as_polars(X, "features").with_columns(
            pl.Series("dropout_risk", self.predict_risk(X))
        )

    def contributions(self, X: object) -> Floats:  # noqa: N803
        """Each feature's share of each row's log-odds of dropout, against a client at the
        reference mean (``coef · (x − center) / scale``; a missing value contributes 0, as it
        is taken at the mean). Rows × features; with the intercept they sum to the logit."""
        self._check_fitted()
        x = self._matrix(X)
        x = np.where(np.isnan(x), self.mean_, x)
        out: Floats = (x - self.center_) / self.scale_ * self.coef_
        return out

    def odds_ratios(self) -> dict[str, float]:
        """Odds ratio of dropout per SD of each feature (calibrated model)."""
        self._check_fitted()
        return {f: math.exp(c) for f, c in zip(self.features, self.coef_, strict=True)}

    # ---------------------------------------------------------------- files
    def to_json(self) -> str:
        """The fitted model as versioned JSON text."""
        self._check_fitted()
        body: dict[str, Any] = {
            "formula": "risk = 1 / (1 + exp(-(intercept + sum(coef * (x - center) / scale)))), "
            "x missing -> mean",
            "params": {
                "features": list(self.features),
                "C": self.C,
                "cv": self.cv,
                "outcome": self.outcome,
                "after": self.after,
            },
            "reference": self.reference_.to_dict(),
            "event_rate": self.event_rate_,
            "features": {
                f: {
                    "mean": float(self.mean_[i]),
                    "center": float(self.center_[i]),
                    "scale": float(self.scale_[i]),
                    "coef": float(self.coef_[i]),
                    "base_coef": float(self.base_coef_[i]),
                }
                for i, f in enumerate(self.features)
            },
            "intercept": self.intercept_,
            "base_intercept": self.base_intercept_,
            "calibration": {
                "method": "sigmoid (Platt), cross-validated",
                "a": self.calibration_[0],
                "b": self.calibration_[1],
            },
        }
        return write_envelope(self.kind, body)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path``; return the path."""
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """A fitted model from :meth:`to_json` text."""
        doc = read_envelope(text, cls.kind)
        try:
            params = doc["params"]
            model = cls(
                tuple(params["features"]),
                C=float(params["C"]),
                cv=int(params["cv"]),
                # files written before these were saved: the shipped model's meaning
                outcome=str(params.get("outcome", OUTCOME_INSTRUMENT)),
                after=int(params.get("after", 2)),
            )
            feats = doc["features"]

            def col(key: str) -> Floats:
                return np.array([float(feats[f][key]) for f in model.features])

            model.mean_, model.center_, model.scale_ = col("mean"), col("center"), col("scale")
            model.coef_, model.base_coef_ = col("coef"), col("base_coef")
            model.intercept_ = float(doc["intercept"])
            model.base_intercept_ = float(doc["base_intercept"])
            model.calibration_ = (float(doc["calibration"]["a"]), float(doc["calibration"]["b"]))
            model.event_rate_ = float(doc["event_rate"])
            model.reference_ = Reference.from_dict(doc["reference"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TrajectoryError(
                f"the dropout model file is incomplete or malformed: {exc!r}"
            ) from exc
        return model

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """A fitted model from a file written by :meth:`save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_dropout_model() -> DropoutModel:
    """The shipped dropout model, fitted on the SYNTHETIC registry by
    ``scripts/fit_default_etr.py`` (its ``label`` says so). Refit on the practice's own
    data before relying on its risks."""
    text = resources.files("commonfactors.trajectories").joinpath(
        "models", "dropout_synthetic.json"
    )
    return DropoutModel.from_json(text.read_text("utf-8"))


# ------------------------------------------------------------------------------ one episode

#: The scales of the shipped model's self-report features, as the synthetic registry drew
#: them: the session alliance as an item mean on 1–5 (WAI-SR-like) and the intake outcome
#: expectation as a 0–10 mean (like the expectancy practice questions).
FEATURE_SCALES: dict[str, tuple[float, float]] = {"alliance": (1.0, 5.0), "expectancy": (0.0, 10.0)}

#: The features in plain words, for screens and reports.
FEATURE_LABELS = {
    "intake_severity": "PHQ-9 at intake",
    "early_change": "PHQ-9 change by the second session (+ is worse)",
    "alliance": "Alliance, mean of the first sessions (1–5)",
    "attendance": "Share of appointments attended",
    "expectancy": "Expected benefit at intake (0–10)",
    "homework": "Share of homework done",
    "age": "Age (years)",
}

#: A contribution smaller than this (in log-odds, about ±5 % of the odds) is "little effect".
NEGLIGIBLE_LOG_ODDS = 0.05


def on_model_scale(feature: str, score: float, score_range: tuple[float, float]) -> float:
    """A score on its instrument's own range put linearly on the scale the model's
    ``feature`` was fitted on (:data:`FEATURE_SCALES`): the lowest possible score → the
    scale's bottom, the highest → its top. E.g. the alliance practice questions (item mean
    0–4): 3.0 → 4.0 on the alliance's 1–5."""
    if feature not in FEATURE_SCALES:
        raise TrajectoryError(
            f"no model scale for feature {feature!r}; known: {sorted(FEATURE_SCALES)}"
        )
    lo, hi = score_range
    if not hi > lo:
        raise TrajectoryError(f"a score range must rise, not {score_range!r}")
    if not lo <= score <= hi:
        raise TrajectoryError(f"{feature} score {score!r} lies outside its range {score_range!r}")
    a, b = FEATURE_SCALES[feature]
    return a + (b - a) * (score - lo) / (hi - lo)


@dataclass(frozen=True)
class Appointment:
    """One appointment of an episode as plain values, for :func:`episode_dropout_risk`.

    ``outcome`` is the outcome total the model was fitted on (PHQ-9 for the shipped model);
    ``alliance`` is on the model's 1–5 scale (:func:`on_model_scale`);
    ``homework`` is the share (0–1) of the homework due by this appointment that was done,
    None when none was due."""

    number: int
    attended: bool
    outcome: float | None = None
    alliance: float | None = None
    homework: float | None = None


@dataclass(frozen=True)
class Contribution:
    """One feature of an episode's dropout risk: its value (None when missing, then taken at
    the reference mean ``assumed``) and how far it moves the log-odds from a client at the
    reference mean (positive raises the risk)."""

    feature: str
    value: float | None
    assumed: float
    log_odds: float

    @property
    def direction(self) -> str:
        """``"raises"``, ``"lowers"`` or ``"little effect"`` (see :data:`NEGLIGIBLE_LOG_ODDS`)."""
        if self.value is None or abs(self.log_odds) < NEGLIGIBLE_LOG_ODDS:
            return "little effect"
        return "raises" if self.log_odds > 0 else "lowers"


@dataclass(frozen=True)
class DropoutRisk:
    """An episode's risk of dropping out, estimated from its first ``after`` attended
    sessions, with the reference base rate and each feature's contribution."""

    risk: float
    after: int
    appointments: int
    base_rate: float
    contributions: tuple[Contribution, ...]
    model: str
    synthetic: bool = False


def episode_features(
    appointments: Sequence[Appointment],
    *,
    expectancy: float | None = None,
    age: float | None = None,
    after: int = 2,
    outcome: str = OUTCOME_INSTRUMENT,
) -> pl.DataFrame | None:
    """One episode's dropout features (one row, the columns of :func:`dropout_features`)
    from its appointments (any order; numbered from 1), its intake outcome expectation and
    the client's age in years; None until ``after`` sessions were attended. Refused
    (:class:`TrajectoryError`) without a score of the ``outcome`` instrument (the
    appointments' ``outcome`` values) at the first attended session: the features would
    rest on an assumed intake severity."""
    ordered = sorted(appointments, key=lambda a: a.number)
    numbers = [a.number for a in ordered]
    if len(set(numbers)) != len(numbers) or any(n < 1 for n in numbers):
        raise TrajectoryError(f"appointment numbers must be distinct and from 1: {numbers}")
    attended = [a for a in ordered if a.attended]
    if len(attended) < after:
        return None
    if attended[0].outcome is None:
        name = outcome
        if outcome in default_registry():
            name = default_registry().definition(outcome).short_name
        raise TrajectoryError(
            f"no {name} score at the first attended session: the risk would rest on an "
            "assumed intake severity"
        )
    sessions = pl.DataFrame(
        {
            "episode_id": [1] * len(ordered),
            "session": numbers,
            "attended": [a.attended for a in ordered],
            "outcome": [a.outcome for a in ordered],
            "alliance": [a.alliance for a in ordered],
            "homework": [a.homework for a in ordered],
        },
        schema={
            "episode_id": pl.Int64,
            "session": pl.Int64,
            "attended": pl.Boolean,
            "outcome": pl.Float64,
            "alliance": pl.Float64,
            "homework": pl.Float64,
        },
    )
    episodes = pl.DataFrame(
        {"episode_id": [1], "expectancy": [expectancy], "age": [age]},
        schema={"episode_id": pl.Int64, "expectancy": pl.Float64, "age": pl.Float64},
    )
    feats = dropout_features(sessions, episodes, after=after, score="outcome", keep=())
    return feats.drop("episode_id").with_columns(
        pl.lit(numbers.index(attended[after - 1].number) + 1).alias("appointments")
    )


def episode_dropout_risk(
    appointments: Sequence[Appointment],
    *,
    expectancy: float | None = None,
    age: float | None = None,
    model: DropoutModel | None = None,
) -> DropoutRisk | None:
    """The dropout risk of one episode (see :func:`episode_features`; None until the
    model's ``after`` sessions were attended). The features are those of
    :func:`dropout_features`, the rule the model was fitted and evaluated with; the
    appointments' ``outcome`` must be the model's ``outcome`` instrument. ``model``
    defaults to the shipped (SYNTHETIC) model."""
    model = model or default_dropout_model()
    after = model.after
    feats = episode_features(
        appointments, expectancy=expectancy, age=age, after=after, outcome=model.outcome
    )
    if feats is None:
        return None
    missing = [f for f in model.features if f not in feats.columns]
    if missing:
        raise TrajectoryError(f"the model needs feature(s) one episode cannot give: {missing}")
    parts = model.contributions(feats)[0]
    row = feats.row(0, named=True)
    return DropoutRisk(
        risk=float(model.predict_risk(feats)[0]),
        after=after,
        appointments=int(row["appointments"]),
        base_rate=model.event_rate_,
        contributions=tuple(
            Contribution(
                feature=f,
                value=None if row[f] is None else float(row[f]),
                assumed=float(model.mean_[i]),
                log_odds=float(parts[i]),
            )
            for i, f in enumerate(model.features)
        ),
        model=model.label,
        synthetic=model.reference_.synthetic,
    )


# ------------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class GroupResult:
    """Discrimination and calibration-in-the-large within one client group."""

    variable: str
    group: str
    n: int
    events: int
    auc: float | None
    auc_low: float | None
    auc_high: float | None
    mean_risk: float
    observed: float


@dataclass(frozen=True)
class DropoutReport:
    """How good the dropout model is on held-out data."""

    n: int
    events: int
    auc: float
    auc_low: float
    auc_high: float
    brier: float
    brier_null: float
    calibration_intercept: float
    calibration_slope: float
    reliability: tuple[tuple[int, float, float], ...]
    groups: tuple[GroupResult, ...]
    model: str

    def to_markdown(self) -> str:
        """The report as Markdown tables (as pasted into ``docs/trajectories.md``)."""
        lines = [
            "| held-out episodes | dropouts | AUC (95% CI) | Brier (no-skill) "
            "| calibration intercept | calibration slope |",
            "|---|---|---|---|---|---|",
            f"| {self.n:,} | {self.events:,} ({self.events / self.n:.1%}) | {self.auc:.3f} "
            f"({self.auc_low:.3f}–{self.auc_high:.3f}) | {self.brier:.4f} ({self.brier_null:.4f}) "
            f"| {self.calibration_intercept:+.3f} | {self.calibration_slope:.3f} |",
            "",
            "| risk decile | episodes | mean predicted | observed |",
            "|---|---|---|---|",
            *(
                f"| {i} | {n:,} | {p:.3f} | {o:.3f} |"
                for i, (n, p, o) in enumerate(self.reliability, 1)
            ),
            "",
            "| group | episodes | dropouts | AUC (95% CI) | mean predicted | observed |",
            "|---|---|---|---|---|---|",
        ]
        for g in self.groups:
            auc = "–" if g.auc is None else f"{g.auc:.3f} ({g.auc_low:.3f}–{g.auc_high:.3f})"
            lines.append(
                f"| {g.variable} = {g.group} | {g.n:,} | {g.events:,} | {auc} "
                f"| {g.mean_risk:.3f} | {g.observed:.3f} |"
            )
        return "\n".join(lines)


def _auc_ci(y: npt.NDArray[np.bool_], p: Floats) -> tuple[float, float, float] | None:
    """AUC with the Hanley & McNeil (1982) 95% interval; None without both outcomes."""
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return None
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt(
        (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0)
    )
    return auc, max(0.0, auc - 1.959964 * se), min(1.0, auc + 1.959964 * se)


def _calibration(y: npt.NDArray[np.bool_], p: Floats) -> tuple[float, float]:
    """Calibration intercept (in the large: logistic with logit(p) as offset) and slope
    (logistic of the outcome on logit(p)), by Newton-Raphson."""
    lp = np.log(p / (1 - p))
    t = y.astype(np.float64)
    a = 0.0
    for _ in range(50):
        mu = 1 / (1 + np.exp(-(a + lp)))
        shift = float(np.sum(t - mu) / np.sum(mu * (1 - mu)))
        a += shift
        if abs(shift) < 1e-12:
            break
    beta: Floats = np.zeros(2)
    x = np.column_stack([np.ones_like(lp), lp])
    for _ in range(50):
        mu = 1 / (1 + np.exp(-(x @ beta)))
        w = mu * (1 - mu)
        step = np.linalg.solve(x.T @ (x * w[:, None]), x.T @ (t - mu))
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(a), float(beta[1])


def dropout_report(
    model: DropoutModel,
    X: object,  # noqa: N803
    y: Sequence[bool] | npt.ArrayLike,
    *,
    groups: Sequence[str] = ("age_band", "gender"),
    bins: int = 10,
) -> DropoutReport:
    """AUC (with 95% CI), Brier score (and the no-skill Brier of predicting the event rate),
    calibration intercept and slope, a reliability table by risk decile, and AUC and
    observed vs predicted dropout within each level of each ``groups`` column of ``X``."""
    frame = as_polars(X, "features")
    p = np.clip(model.predict_risk(frame), 1e-12, 1 - 1e-12)
    t = np.asarray(y, dtype=bool)
    if t.shape != p.shape:
        raise TrajectoryError(f"y must have one value per row ({p.shape[0]})")
    auc = _auc_ci(t, p)
    if auc is None:
        raise TrajectoryError("the evaluation data need episodes with and without dropout")
    rate = float(t.mean())
    intercept, slope = _calibration(t, p)
    order = np.argsort(p, kind="stable")
    reliability = tuple(
        (int(chunk.shape[0]), float(p[chunk].mean()), float(t[chunk].mean()))
        for chunk in np.array_split(order, bins)
        if chunk.shape[0]
    )
    results = []
    for var in groups:
        if var not in frame.columns:
            continue
        levels = frame[var].cast(pl.String).fill_null("(missing)").to_numpy()
        for level in sorted(set(levels.tolist())):
            m = levels == level
            ci = _auc_ci(t[m], p[m])
            results.append(
                GroupResult(
                    var,
                    str(level),
                    int(m.sum()),
                    int(t[m].sum()),
                    None if ci is None else ci[0],
                    None if ci is None else ci[1],
                    None if ci is None else ci[2],
                    float(p[m].mean()),
                    float(t[m].mean()),
                )
            )
    return DropoutReport(
        n=int(t.shape[0]),
        events=int(t.sum()),
        auc=auc[0],
        auc_low=auc[1],
        auc_high=auc[2],
        brier=float(np.mean((p - t) ** 2)),
        brier_null=rate * (1 - rate),
        calibration_intercept=intercept,
        calibration_slope=slope,
        reliability=reliability,
        groups=tuple(results),
        model=model.label,
    )
