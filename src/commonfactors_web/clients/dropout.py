"""An episode's dropout risk, read from its stored records and handed to the library
(:mod:`commonfactors.trajectories.dropout`), which decides the features and the risk. This
module only maps records: the outcome instrument's totals, the alliance and expectancy
scores put on the model's scales (by their instruments' score ranges), the homework
completion known at each session, and the client's age in the year of the second attended
session.

The model is the shipped SYNTHETIC one unless the setting ``DROPOUT_MODEL`` names a model
file — one fitted on the practice's own ended episodes by ``python -m commonfactors_web
fit_dropout`` (:func:`training_frame` gives it the same features the page uses)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from statistics import fmean

import polars as pl
from django.conf import settings

import commonfactors
from commonfactors.homework import completion as homework_completion
from commonfactors.trajectories import TrajectoryError
from commonfactors.trajectories.dropout import (
    FEATURE_LABELS,
    OUTCOME_INSTRUMENT,
    Appointment,
    DropoutModel,
    DropoutRisk,
    default_dropout_model,
    episode_dropout_risk,
    episode_features,
    on_model_scale,
)
from commonfactors_web.checkins.models import Score
from commonfactors_web.clients.models import Attendance, Episode, EpisodeStatus
from commonfactors_web.homework.services import assignment_records

#: The model is fitted on and applied at the second attended session.
AFTER = 2

#: Features shown as a percentage.
PERCENT = frozenset({"attendance", "homework"})


@dataclass(frozen=True)
class Row:
    """One feature as the page shows it."""

    label: str
    value: str
    direction: str  # "raises", "lowers", "little effect"


@dataclass(frozen=True)
class Shown:
    """What the client page shows: the risk and its features, or why there is none yet."""

    risk: DropoutRisk | None
    waiting: str = ""
    rows: tuple[Row, ...] = ()

    @property
    def synthetic(self) -> bool:
        return self.risk is not None and "SYNTHETIC" in self.risk.model


@dataclass(frozen=True)
class Inputs:
    """An episode's records as the library's plain values."""

    appointments: list[Appointment]
    expectancy: float | None
    age: float | None


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> DropoutModel:
    return DropoutModel.load(path)


def model() -> DropoutModel:
    """The practice's model file (setting ``DROPOUT_MODEL``) or the shipped SYNTHETIC one;
    a changed file is read anew."""
    path = settings.CF_DROPOUT_MODEL
    if not path:
        return default_dropout_model()
    return _load(path, Path(path).stat().st_mtime)


def _text(feature: str, value: float | None, assumed: float) -> str:
    def fmt(x: float) -> str:
        if feature in PERCENT:
            return f"{round(100 * x)} %"
        if feature in ("age", "intake_severity"):
            return f"{x:.0f}"
        return f"{x:+.0f}" if feature == "early_change" else f"{x:.1f}"

    if value is None:
        return f"not recorded (taken as typical: {fmt(assumed)})"
    return fmt(value)


def _instruments(measures: str) -> set[str]:
    registry = commonfactors.default_registry()
    return {i for i in registry.ids() if registry.definition(i).measures == measures}


def _scaled(feature: str, instrument: str, total: float) -> float:
    span = commonfactors.default_registry().definition(instrument).score_range
    return on_model_scale(feature, total, span)


def inputs(episode: Episode) -> Inputs:
    """``episode``'s appointments with their outcome, alliance and homework completion, its
    intake expectancy and the client's age, as the library takes them."""
    sessions = list(
        episode.sessions.order_by("number").values_list("id", "number", "date", "attendance")
    )
    alliance, expecting = _instruments("alliance"), _instruments("expectancy")
    scores: dict[int, list[tuple[str, float]]] = {}
    for session_id, instrument, total in Score.objects.filter(
        administration__session__episode=episode,
        instrument__in={OUTCOME_INSTRUMENT} | alliance | expecting,
    ).values_list("administration__session_id", "instrument", "total"):
        scores.setdefault(session_id, []).append((instrument, float(total)))
    homework = assignment_records(episode)
    appointments: list[Appointment] = []
    expectancy, attended, year = None, 0, None
    for session_id, number, day, attendance in sessions:
        here = scores.get(session_id, [])
        went = attendance == Attendance.ATTENDED
        attended += went
        allied = [_scaled("alliance", i, t) for i, t in here if i in alliance]
        outcome = [t for i, t in here if i == OUTCOME_INSTRUMENT]
        done = (
            homework_completion(homework, today=day, at_session=True).rate
            if went and attended > 1
            else None
        )
        appointments.append(
            Appointment(
                number=number,
                attended=went,
                outcome=outcome[0] if outcome else None,
                alliance=fmean(allied) if allied else None,
                homework=done,
            )
        )
        if expectancy is None and went and attended <= AFTER:
            hoped = [_scaled("expectancy", i, t) for i, t in here if i in expecting]
            expectancy = hoped[0] if hoped else None
        if went and attended == AFTER:
            year = day.year
    birth = episode.client.birth_year
    age = float(year - birth) if year is not None and birth else None
    return Inputs(appointments, expectancy, age)


def dropout_risk(episode: Episode) -> Shown:
    """The episode's dropout risk from its first two attended sessions (None before them)."""
    given = inputs(episode)
    try:
        risk = episode_dropout_risk(
            given.appointments,
            expectancy=given.expectancy,
            age=given.age,
            model=model(),
            after=AFTER,
        )
    except TrajectoryError as exc:
        return Shown(None, waiting=f"No dropout risk: {exc}.")
    if risk is None:
        return Shown(
            None, waiting="The dropout risk is estimated after the second attended session."
        )
    rows = tuple(
        Row(
            FEATURE_LABELS.get(c.feature, c.feature),
            _text(c.feature, c.value, c.assumed),
            c.direction,
        )
        for c in risk.contributions
    )
    return Shown(risk, rows=rows)


def training_frame(episodes: Iterable[Episode]) -> tuple[pl.DataFrame, dict[str, int]]:
    """The features of every *ended* episode with two attended sessions and an intake
    score, with ``dropout`` (ended as dropped out), for fitting a practice's own model; and
    how many episodes were left out, by reason."""
    rows, left_out = [], {"still active": 0, "fewer than two attended sessions": 0}
    left_out["no outcome score at the first attended session"] = 0
    for episode in episodes:
        if episode.status == EpisodeStatus.ACTIVE:
            left_out["still active"] += 1
            continue
        given = inputs(episode)
        try:
            feats = episode_features(
                given.appointments, expectancy=given.expectancy, age=given.age, after=AFTER
            )
        except TrajectoryError:
            left_out["no outcome score at the first attended session"] += 1
            continue
        if feats is None:
            left_out["fewer than two attended sessions"] += 1
            continue
        rows.append(
            feats.with_columns(pl.lit(episode.status == EpisodeStatus.DROPPED_OUT).alias("dropout"))
        )
    frame = pl.concat(rows, how="vertical_relaxed") if rows else pl.DataFrame()
    return frame, left_out
