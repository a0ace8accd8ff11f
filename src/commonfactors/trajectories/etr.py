"""Expected treatment response (ETR): the score a client is expected to have at each
session, given where they started, with percentile bands.

Two estimators, both following the scikit-learn contract (``__init__`` stores the
parameters, ``fit`` validates and returns ``self``, learned attributes end in ``_``):

* :class:`ExpectedTreatmentResponse`: log-linear in the session number, with the intake
  score as the predictor, as in Finch, Lambert & Schaalje (2001) — fitted by quantile
  regression, one line per percentile.
* :class:`NearestNeighbourETR`: the expected course of the *k* past episodes most
  similar to this one on intake characteristics (Lutz et al. 2005).

A fitted model is a plain, versioned JSON file (:meth:`to_json`, :meth:`save`,
:func:`load_model`), never a pickle, and records what it was fitted on
(:class:`~commonfactors.trajectories.Reference`); the shipped defaults
(:func:`default_model`) were fitted on the synthetic registry and say so in their label.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.base import BaseEstimator

from commonfactors.errors import CommonFactorsError
from commonfactors.instruments.schema import Definition
from commonfactors.trajectories._common import (
    EPISODE,
    SCORE,
    Better,
    ModelNotFittedError,
    Reference,
    TrajectoryError,
    definition_of,
    long_frame,
    read_envelope,
    restore,
    write_envelope,
)
from commonfactors.trajectories._frames import INTAKE, T, quantile_name, with_intake

__all__ = [
    "DEFAULT_MODELS",
    "QUANTILES",
    "ETRModel",
    "ExpectedTreatmentResponse",
    "NearestNeighbourETR",
    "default_model",
    "describe_model",
    "load_model",
]

Floats = npt.NDArray[np.float64]

#: The default percentile bands: 10th, 20th, 25th, 50th (the expected score), 75th, 80th,
#: 90th — the 75th/90th for one instrument's signal, the 80th for two combined, and the
#: mirrored lower bands for instruments on which higher is better.
QUANTILES = (0.10, 0.20, 0.25, 0.50, 0.75, 0.80, 0.90)

#: Shipped default models (fitted on the synthetic registry by
#: ``scripts/fit_default_etr.py``), by instrument.
DEFAULT_MODELS = {"phq9": "etr_phq9_synthetic.json", "gad7": "etr_gad7_synthetic.json"}


class _ETR(BaseEstimator, ABC):  # type: ignore[misc]
    """What both ETR estimators share: the instrument, the bands, prediction and JSON."""

    kind: ClassVar[str]
    instrument: str | None
    quantiles: Sequence[float]
    better: Better | None

    # ---------------------------------------------------------------- fitted state
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "reference_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise ModelNotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit() or load a model file"
            )

    @property
    def label(self) -> str:
        """What the model was fitted on, as every screen that shows it must print it."""
        self._check_fitted()
        return str(self.reference_.label)

    @property
    def definition_(self) -> Definition | None:
        """The instrument definition the model was fitted for (None if no instrument)."""
        self._check_fitted()
        return definition_of(self.instrument_)

    def band_names(self) -> list[str]:
        """The band columns :meth:`predict` adds, e.g. ``p10 … p90``; ``p50`` is expected."""
        self._check_fitted()
        return [quantile_name(q) for q in self.quantiles_]

    # ---------------------------------------------------------------- validation
    def _validated_params(self, problems: list[str]) -> tuple[tuple[float, ...], Definition | None]:
        try:
            d = definition_of(self.instrument)
        except CommonFactorsError as exc:  # unknown instrument: name it among the problems
            problems.append(f"instrument: {exc}")
            d = None
        qs: tuple[float, ...] = ()
        try:
            qs = tuple(float(q) for q in self.quantiles)
        except (TypeError, ValueError):
            problems.append(f"quantiles must be numbers, not {self.quantiles!r}")
        if qs:
            if any(not 0 < q < 1 or abs(q * 100 - round(q * 100)) > 1e-9 for q in qs):
                problems.append(f"quantiles must be whole percentages between 0 and 1, not {qs}")
            if list(qs) != sorted(set(qs)):
                problems.append(f"quantiles must be increasing without repeats, not {qs}")
            if 0.5 not in qs:
                problems.append("quantiles must include 0.5 (the expected score)")
        elif not problems:
            problems.append("quantiles must not be empty")
        if self.better not in (None, "lower", "higher"):
            problems.append(f"better must be 'lower', 'higher' or None, not {self.better!r}")
        return qs, d

    def _set_common(
        self, qs: tuple[float, ...], d: Definition | None, reference: Reference
    ) -> None:
        self.instrument_ = None if d is None else d.id
        self.quantiles_ = qs
        direction: Better = (
            self.better
            if self.better is not None
            else ("lower" if d is None or d.direction == "higher_is_worse" else "higher")
        )
        self.better_ = direction
        self.score_range_ = (
            None if d is None else (float(d.score_range[0]), float(d.score_range[1]))
        )
        self.reference_ = reference

    # ---------------------------------------------------------------- prediction
    def predict(
        self,
        data: object,
        *,
        episode: str = "episode_id",
        session: str = "session",
        score: str = "score",
    ) -> pl.DataFrame:
        """The expected score and bands for every row of a long frame (Polars or pandas;
        one row per episode and session): the frame with ``intake``, ``t`` (sessions since
        intake, intake = 1) and one column per band (``p10 … p90``; ``p50`` is the
        expected score) added. Bands are null at and before the intake."""
        self._check_fitted()
        canon = long_frame(
            data,
            episode=episode,
            session=session,
            score=score,
            definition=self.definition_,
            keep=self._feature_columns(),
        )
        return restore(
            self._bands(with_intake(canon)), episode=episode, session=session, score=score
        )

    def _feature_columns(self) -> tuple[str, ...]:
        return ()

    @abstractmethod
    def _bands(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (from :func:`with_intake`) with the band columns added."""

    def _finish(
        self, frame: pl.DataFrame, bands: Floats, judged: npt.NDArray[np.bool_]
    ) -> pl.DataFrame:
        """Sort each row's bands (quantiles never cross), clip to the score range, and put
        them in the frame (null where not ``judged``)."""
        bands = np.sort(bands, axis=1)
        if self.score_range_ is not None:
            bands = np.clip(bands, *self.score_range_)
        bands[~judged] = np.nan
        cols = [
            pl.Series(name, bands[:, j], nan_to_null=True)
            for j, name in enumerate(self.band_names())
        ]
        return frame.with_columns(cols)

    # ---------------------------------------------------------------- files
    def to_json(self) -> str:
        """The fitted model as versioned JSON text (see ``docs/trajectories.md``)."""
        self._check_fitted()
        d = self.definition_
        body = {
            "instrument": self.instrument_,
            "instrument_version": None if d is None else d.version,
            "better": self.better_,
            "quantiles": list(self.quantiles_),
            "score_range": None if self.score_range_ is None else list(self.score_range_),
            "reference": self.reference_.to_dict(),
            "params": {"better": self.better, **self._json_params()},
            "fitted": self._json_fitted(),
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
            model = cls(
                instrument=doc["instrument"],
                quantiles=tuple(doc["quantiles"]),
                **doc["params"],
            )
            problems: list[str] = []
            qs, d = model._validated_params(problems)
            if problems:
                raise TrajectoryError("the model file's parameters are invalid", problems)
            model._set_common(qs, d, Reference.from_dict(doc["reference"]))
            model._load_fitted(doc["fitted"])
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, TrajectoryError):
                raise
            raise TrajectoryError(f"the model file is incomplete or malformed: {exc!r}") from exc
        return model

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """A fitted model from a file written by :meth:`save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    @abstractmethod
    def _json_params(self) -> dict[str, Any]:
        """The constructor parameters a file must carry."""

    @abstractmethod
    def _json_fitted(self) -> dict[str, Any]:
        """The learned attributes, as plain JSON values."""

    @abstractmethod
    def _load_fitted(self, fitted: Mapping[str, Any]) -> None:
        """Set the learned attributes from :meth:`_json_fitted` values."""


def _reference(canon: pl.DataFrame, reference: str | Reference, synthetic: bool) -> Reference:
    if isinstance(reference, Reference):
        return reference
    scored = canon.filter(pl.col(SCORE).is_not_null())
    return Reference.make(
        reference,
        synthetic=synthetic,
        episodes=scored[EPISODE].n_unique(),
        sessions=scored.height,
    )


def _max_session(after: pl.DataFrame, min_episodes: int, cap: int | None) -> int:
    """The last session (counted from intake) with at least ``min_episodes`` episodes."""
    counts = after.group_by(T).len().filter(pl.col("len") >= min_episodes)
    last = _whole(counts[T].max()) if counts.height else 2
    return min(last, cap) if cap is not None else last


class ExpectedTreatmentResponse(_ETR):
    """Expected treatment response, log-linear in the session number (Finch, Lambert &
    Schaalje 2001), fitted by quantile regression.

    For each percentile *q* (default 10, 20, 25, 50, 75, 80, 90) the model is::

        score_q(t) = b0 + b1·intake + (b2 + b3·intake)·ln t

    where ``t`` counts sessions from the intake (intake = 1) and ``intake`` is the
    episode's first score. The 50th percentile is the *expected score*; the others are
    the bands a signal compares with.

    **Why quantile regression rather than a mixed model with prediction intervals.**
    Finch et al. fitted a multilevel model (random intercept and log-slope per client)
    and drew tolerance bands around each intake's curve. What a signal needs is the
    distribution of *a new client's* score at session *t* given the intake — exactly
    the conditional quantiles this model estimates, without assuming that distribution is
    normal or equally wide at every intake and session. Routine-care scores are not: they
    pile up at the floor of the scale when clients recover and spread upwards when some
    get worse, so Gaussian prediction intervals from a mixed model are too wide below
    and too narrow above. Quantile regression keeps the same log-linear mean structure
    and intake interaction, fits in seconds on hundreds of thousands of sessions, and the
    fitted model is 20 numbers, so a frame of a million episodes is scored by one matrix
    product. Crossing lines are prevented by sorting each row's bands (rearrangement,
    Chernozhukov, Fernández-Val & Galichon 2010) and bands are clipped to the score
    range. The price: no shrinkage of a client's own curve (the model predicts from the
    intake only, as the ETR of Finch et al. does).

    Parameters
    ----------
    instrument:
        The instrument the scores are totals of (its range, direction and reliable-change
        threshold are used); None for scores of no known instrument.
    quantiles:
        The percentiles to fit, whole percentages in (0, 1), increasing, including 0.5.
    better:
        ``"lower"`` or ``"higher"``; None takes it from the instrument (lower if none).
    min_episodes_per_session:
        Sessions later than the last one with at least this many reference episodes use
        that session's expectation (the curve is not extrapolated beyond the data).
    max_session:
        An upper limit on that last session (None: no limit).
    max_iter:
        Iteration limit of the quantile-regression solver (statsmodels ``QuantReg``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_quantiles, 4)
        ``b0, b1, b2, b3`` per quantile.
    quantiles_, instrument_, better_, score_range_, max_session_ :
        What the model was fitted with.
    reference_ : Reference
        What it was fitted on (``reference_.label`` is shown with every signal).
    n_iter_ : list of int
        Solver iterations per quantile (a value equal to ``max_iter`` means it stopped
        there).
    """

    kind: ClassVar[str] = "etr_loglinear_quantile"

    def __init__(
        self,
        instrument: str | None = "phq9",
        *,
        quantiles: Sequence[float] = QUANTILES,
        better: Better | None = None,
        min_episodes_per_session: int = 20,
        max_session: int | None = None,
        max_iter: int = 5000,
    ) -> None:
        self.instrument = instrument
        self.quantiles = quantiles
        self.better = better
        self.min_episodes_per_session = min_episodes_per_session
        self.max_session = max_session
        self.max_iter = max_iter

    def fit(
        self,
        data: object,
        y: None = None,
        *,
        episode: str = "episode_id",
        session: str = "session",
        score: str = "score",
        reference: str | Reference = "unnamed reference data",
        synthetic: bool = False,
    ) -> Self:
        """Fit on reference episodes: a long frame (Polars or pandas) with one row per
        episode and session. ``reference`` describes the data (it becomes the model's
        label); ``synthetic=True`` marks synthetic data in that label."""
        problems: list[str] = []
        qs, d = self._validated_params(problems)
        _positive_int(self.min_episodes_per_session, "min_episodes_per_session", problems)
        _positive_int(self.max_iter, "max_iter", problems)
        if self.max_session is not None:
            _positive_int(self.max_session, "max_session", problems, least=2)
        if problems:
            raise TrajectoryError(f"{type(self).__name__} cannot be fitted", problems)
        canon = long_frame(data, episode=episode, session=session, score=score, definition=d)
        frame = with_intake(canon)
        after = frame.filter(pl.col(SCORE).is_not_null() & (pl.col(T) >= 2))
        if after.height < 20 or after[T].n_unique() < 2 or after[INTAKE].n_unique() < 2:
            raise TrajectoryError(
                f"{type(self).__name__} needs reference episodes with scores after the "
                "intake: at least 20 such scores, at two or more different sessions and "
                f"intakes (got {after.height} after-intake scores)"
            )
        self._set_common(qs, d, _reference(canon, reference, synthetic))
        self.max_session_ = _max_session(after, self.min_episodes_per_session, self.max_session)
        x = _design(after[INTAKE].to_numpy(), after[T].to_numpy(), self.max_session_)
        yv = after[SCORE].to_numpy().astype(np.float64)
        from statsmodels.regression.quantile_regression import QuantReg  # only when fitting

        coefs, iters = [], []
        for q in qs:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                res = QuantReg(yv, x).fit(q=q, max_iter=self.max_iter)
            coefs.append(np.asarray(res.params, dtype=np.float64))
            iters.append(int(res.iterations))
        self.coef_: Floats = np.vstack(coefs)
        self.n_iter_ = iters
        return self

    def expected(self, intake: float, session: int) -> dict[str, float]:
        """The bands (``p10 … p90``) at ``session`` (counted from the intake, intake = 1)
        for a client whose intake score was ``intake``."""
        self._check_fitted()
        bands = self._matrix(np.array([float(intake)]), np.array([int(session)]))
        return dict(zip(self.band_names(), (float(v) for v in bands[0]), strict=True))

    def _matrix(self, intake: Floats, t: npt.NDArray[Any]) -> Floats:
        bands: Floats = _design(intake, t, self.max_session_) @ self.coef_.T
        bands = np.sort(bands, axis=1)
        if self.score_range_ is not None:
            bands = np.clip(bands, *self.score_range_)
        return bands

    def _bands(self, frame: pl.DataFrame) -> pl.DataFrame:
        t = frame[T].fill_null(0).to_numpy()
        intake = frame[INTAKE].fill_null(np.nan).to_numpy().astype(np.float64)
        judged = (t >= 2) & np.isfinite(intake)
        raw = _design(np.nan_to_num(intake), np.maximum(t, 1), self.max_session_) @ self.coef_.T
        return self._finish(frame, raw, judged)

    def _json_params(self) -> dict[str, Any]:
        return {
            "min_episodes_per_session": self.min_episodes_per_session,
            "max_session": self.max_session,
            "max_iter": self.max_iter,
        }

    def _json_fitted(self) -> dict[str, Any]:
        return {
            "formula": "score_q(t) = b0 + b1*intake + (b2 + b3*intake)*ln(min(t, max_session))",
            "max_session": self.max_session_,
            "coef": {
                quantile_name(q): list(map(float, c))
                for q, c in zip(self.quantiles_, self.coef_, strict=True)
            },
            "n_iter": self.n_iter_,
        }

    def _load_fitted(self, fitted: Mapping[str, Any]) -> None:
        self.max_session_ = int(fitted["max_session"])
        self.coef_ = np.array(
            [[float(v) for v in fitted["coef"][quantile_name(q)]] for q in self.quantiles_],
            dtype=np.float64,
        )
        if self.coef_.shape != (len(self.quantiles_), 4):
            raise TrajectoryError("the model file's coefficients are not 4 per quantile")
        self.n_iter_ = [int(i) for i in fitted.get("n_iter", [])]


def _design(intake: npt.NDArray[Any], t: npt.NDArray[Any], max_session: int) -> Floats:
    i = intake.astype(np.float64)
    lt = np.log(np.minimum(t.astype(np.float64), float(max_session)))
    return np.column_stack([np.ones_like(i), i, lt, i * lt])


def _whole(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 2


def _positive_int(value: object, name: str, problems: list[str], least: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        problems.append(f"{name} must be a whole number of at least {least}, not {value!r}")


class NearestNeighbourETR(_ETR):
    """Expected treatment response from the *k* most similar past episodes (the
    nearest-neighbour method of Lutz et al. 2005; Lutz et al. 2006).

    Past episodes are compared on intake characteristics — by default the intake score;
    add episode-level columns of the long frame (e.g. the GAD-7 intake, age) with
    ``features``. Each characteristic is standardised by the reference data's mean and
    SD, so the distance is Euclidean on z-scores. The expected course is then the
    neighbours' own observed scores, session by session: the band ``p50`` at session *t*
    is the median score at *t* of those of the *k* neighbours who were still in
    treatment at *t*, ``p10 … p90`` their other percentiles (linear interpolation). A
    session where fewer than ``min_observed`` neighbours have a score has no band.

    Lutz et al. fitted growth curves to the neighbours; this variant uses their observed
    scores directly, which is the same expectation without a curve shape and lets a
    practice check it by hand. The number of neighbours, distance and matching variables
    of the published method are not verified (``reference/trajectories.md`` §9.2): ``k``
    is a parameter (100 by default, within the 100–300 the reference suggests), to be
    chosen on the practice's own data. The model file keeps the reference episodes'
    standardised characteristics and scores (no identifiers), so it grows with the
    reference data.

    Attributes
    ----------
    feature_mean_, feature_scale_ : ndarray of shape (n_features,)
        Standardisation of the characteristics.
    reference_features_ : ndarray of shape (n_reference, n_features)
        Standardised characteristics of the reference episodes.
    reference_scores_ : ndarray of shape (n_reference, max_session_)
        Their scores by session since intake (column 0 is the intake), NaN if none.
    """

    kind: ClassVar[str] = "etr_nearest_neighbour"

    def __init__(
        self,
        instrument: str | None = "phq9",
        *,
        k: int = 100,
        features: Sequence[str] = ("intake",),
        quantiles: Sequence[float] = QUANTILES,
        better: Better | None = None,
        min_observed: int = 10,
        max_session: int | None = None,
    ) -> None:
        self.instrument = instrument
        self.k = k
        self.features = features
        self.quantiles = quantiles
        self.better = better
        self.min_observed = min_observed
        self.max_session = max_session

    def _feature_columns(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f != INTAKE)

    def fit(
        self,
        data: object,
        y: None = None,
        *,
        episode: str = "episode_id",
        session: str = "session",
        score: str = "score",
        reference: str | Reference = "unnamed reference data",
        synthetic: bool = False,
    ) -> Self:
        """Keep the reference episodes (a long frame, one row per episode and session;
        any ``features`` other than ``intake`` are columns of it, constant within an
        episode)."""
        problems: list[str] = []
        qs, d = self._validated_params(problems)
        _positive_int(self.k, "k", problems)
        _positive_int(self.min_observed, "min_observed", problems)
        if (
            isinstance(self.k, int)
            and isinstance(self.min_observed, int)
            and self.min_observed > self.k
        ):
            problems.append(f"min_observed ({self.min_observed}) must not exceed k ({self.k})")
        if isinstance(self.features, str) or not self.features:
            problems.append(f"features must be a non-empty list of names, not {self.features!r}")
        if self.max_session is not None:
            _positive_int(self.max_session, "max_session", problems, least=2)
        if problems:
            raise TrajectoryError(f"{type(self).__name__} cannot be fitted", problems)
        canon = long_frame(
            data,
            episode=episode,
            session=session,
            score=score,
            definition=d,
            keep=self._feature_columns(),
        )
        frame = with_intake(canon).filter(pl.col(SCORE).is_not_null())
        per_episode = self._episode_features(frame)
        if per_episode.height < self.k:
            raise TrajectoryError(
                f"{type(self).__name__} needs at least k = {self.k} reference episodes, "
                f"got {per_episode.height}"
            )
        self._set_common(qs, d, _reference(canon, reference, synthetic))
        last = _whole(frame[T].max())
        self.max_session_ = min(last, self.max_session) if self.max_session else last
        x = per_episode.drop(EPISODE).to_numpy().astype(np.float64)
        self.feature_mean_: Floats = x.mean(axis=0)
        sd = x.std(axis=0)
        self.feature_scale_: Floats = np.where(sd > 0, sd, 1.0)
        self.reference_features_: Floats = (x - self.feature_mean_) / self.feature_scale_
        index = {e: i for i, e in enumerate(per_episode[EPISODE].to_list())}
        scores = np.full((per_episode.height, self.max_session_), np.nan)
        kept = frame.filter(pl.col(T) <= self.max_session_)
        rows = np.array([index[e] for e in kept[EPISODE].to_list()], dtype=np.int64)
        scores[rows, kept[T].to_numpy() - 1] = kept[SCORE].to_numpy()
        self.reference_scores_: Floats = scores
        return self

    def _episode_features(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One row per episode: its characteristics, in ``features`` order."""
        cols = [
            (pl.col(INTAKE) if f == INTAKE else pl.col(f).drop_nulls())
            .first()
            .cast(pl.Float64)
            .alias(f)
            for f in self.features
        ]
        out = frame.group_by(EPISODE, maintain_order=True).agg(cols)
        missing = out.filter(pl.any_horizontal(pl.exclude(EPISODE).is_null()))
        if missing.height:
            raise TrajectoryError(
                "every episode needs all its intake characteristics",
                [
                    f"episode {e!r} lacks one of {list(self.features)}"
                    for e in missing[EPISODE].head(10)
                ],
            )
        return out

    def neighbours(self, features: Mapping[str, float]) -> npt.NDArray[np.int64]:
        """Row numbers (into ``reference_scores_``) of the ``k`` reference episodes nearest
        to one episode with these intake characteristics, nearest first."""
        self._check_fitted()
        missing = [f for f in self.features if f not in features]
        if missing:
            raise TrajectoryError(f"intake characteristics missing: {missing}")
        x = np.array([[float(features[f]) for f in self.features]])
        nearest: npt.NDArray[np.int64] = self._nearest(x)[0]
        return nearest

    def _nearest(self, x: Floats) -> npt.NDArray[np.int64]:
        from sklearn.neighbors import NearestNeighbors  # only for this variant

        z = (x - self.feature_mean_) / self.feature_scale_
        nn = NearestNeighbors(n_neighbors=self.k).fit(self.reference_features_)
        return np.asarray(nn.kneighbors(z, return_distance=False), dtype=np.int64)

    def _bands(self, frame: pl.DataFrame) -> pl.DataFrame:
        n_q = len(self.quantiles_)
        out = np.full((frame.height, n_q), np.nan)
        judged = np.zeros(frame.height, dtype=bool)
        per_episode = self._episode_features(frame.filter(pl.col(SCORE).is_not_null()))
        if per_episode.height:
            x = per_episode.drop(EPISODE).to_numpy().astype(np.float64)
            nearest = self._nearest(x)
            position = (
                frame.select(
                    pl.col(EPISODE).replace_strict(
                        per_episode[EPISODE],
                        pl.int_range(per_episode.height, eager=True),
                        default=-1,
                    )
                )
                .to_series()
                .to_numpy()
            )
            t = frame[T].fill_null(0).to_numpy()
            rows = np.flatnonzero((t >= 2) & (position >= 0))
            col = np.minimum(t[rows], self.max_session_) - 1
            for start in range(0, rows.shape[0], 50_000):
                r, c = rows[start : start + 50_000], col[start : start + 50_000]
                values = self.reference_scores_[nearest[position[r]], c[:, None]]
                enough = np.sum(~np.isnan(values), axis=1) >= self.min_observed
                if enough.any():
                    pct = np.nanpercentile(
                        values[enough], [100 * q for q in self.quantiles_], axis=1
                    )
                    out[r[enough]] = pct.T
                    judged[r[enough]] = True
        return self._finish(frame, out, judged & ~np.isnan(out).any(axis=1))

    def _json_params(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "features": list(self.features),
            "min_observed": self.min_observed,
            "max_session": self.max_session,
        }

    def _json_fitted(self) -> dict[str, Any]:
        return {
            "max_session": self.max_session_,
            "feature_mean": self.feature_mean_.tolist(),
            "feature_scale": self.feature_scale_.tolist(),
            "reference_features": self.reference_features_.tolist(),
            "reference_scores": [
                [None if math.isnan(v) else float(v) for v in row] for row in self.reference_scores_
            ],
        }

    def _load_fitted(self, fitted: Mapping[str, Any]) -> None:
        self.features = tuple(self.features)
        self.max_session_ = int(fitted["max_session"])
        self.feature_mean_ = np.array(fitted["feature_mean"], dtype=np.float64)
        self.feature_scale_ = np.array(fitted["feature_scale"], dtype=np.float64)
        self.reference_features_ = np.array(fitted["reference_features"], dtype=np.float64)
        self.reference_scores_ = np.array(
            [[np.nan if v is None else v for v in row] for row in fitted["reference_scores"]],
            dtype=np.float64,
        )
        n, f = self.reference_features_.shape
        if f != len(self.features) or self.reference_scores_.shape != (n, self.max_session_):
            raise TrajectoryError("the model file's reference arrays do not match its features")


ETRModel = ExpectedTreatmentResponse | NearestNeighbourETR
_KINDS: dict[str, type[ExpectedTreatmentResponse] | type[NearestNeighbourETR]] = {
    ExpectedTreatmentResponse.kind: ExpectedTreatmentResponse,
    NearestNeighbourETR.kind: NearestNeighbourETR,
}


def load_model(source: str | Path | bytes) -> ExpectedTreatmentResponse | NearestNeighbourETR:
    """An ETR model of either kind from a JSON file path, or from JSON text or bytes."""
    if isinstance(source, Path) or (
        isinstance(source, str) and not source.lstrip().startswith("{")
    ):
        text: str | bytes = Path(source).read_text(encoding="utf-8")
    else:
        text = source
    doc = read_envelope(text, tuple(_KINDS))
    return _KINDS[doc["kind"]].from_json(text)


@cache
def default_model(instrument: str = "phq9") -> ExpectedTreatmentResponse:
    """The shipped default ETR model of ``instrument`` (``phq9`` or ``gad7``), fitted on the
    SYNTHETIC registry — its ``label`` says so, and every signal made with it carries that
    label. Fit a practice's own with :class:`ExpectedTreatmentResponse` (or the CLI's
    ``fit-etr``) as soon as the practice has its own data."""
    name = DEFAULT_MODELS.get(instrument)
    if name is None:
        raise TrajectoryError(
            f"no default ETR model for {instrument!r}; shipped: {', '.join(DEFAULT_MODELS)}"
        )
    text = resources.files("commonfactors.trajectories").joinpath("models", name).read_text("utf-8")
    return ExpectedTreatmentResponse.from_json(text)


def describe_model(model: ExpectedTreatmentResponse | NearestNeighbourETR) -> str:
    """One line on how the model makes its expectation (for the explanation of a signal)."""
    if isinstance(model, ExpectedTreatmentResponse):
        return (
            "expected treatment response: percentiles of the score at each session given the "
            "intake score, log-linear in the session number (Finch, Lambert & Schaalje 2001), "
            f"by quantile regression; sessions after {model.max_session_} use session "
            f"{model.max_session_}'s expectation"
        )
    return (
        f"expected treatment response: percentiles of the scores of the {model.k} most similar "
        f"past episodes on {', '.join(model.features)} (nearest neighbours, Lutz et al. 2005), "
        f"at sessions where at least {model.min_observed} of them have a score"
    )
