"""An episode's dropout risk, read from its stored records and handed to the library
(:mod:`commonfactors.trajectories.dropout`), which decides the features and the risk. This
module only maps records: the outcome instrument's totals, the alliance and expectancy
scores put on the model's scales (by their instruments' score ranges), the homework
completion known at each session, and the client's age in the year of the second attended
session.

The model is the shipped SYNTHETIC one unless the setting ``DROPOUT_MODEL`` names a model
file — one fitted on the practice's own ended episodes by ``python -m commonfactors_web
fit_dropout`` (:func:`training_frame` gives it the same features the page uses; see
:mod:`commonfactors_web.own_models`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from statistics import fmean

import polars as pl

import commonfactors
from commonfactors.homework import completion as homework_completion
from commonfactors.trajectories import TrajectoryError
from commonfactors.trajectories.dropout import (
    FEATURE_LABELS,
    OUTCOME_INSTRUMENT,
    Appointment,
    DropoutRisk,
    episode_dropout_risk,
    episode_features,
    on_model_scale,
)
from commonfactors_web.checkins.models import Score
from commonfactors_web.clients.models import Attendance, Episode, EpisodeStatus
from commonfactors_web.homework.services import assignment_records
from commonfactors_web.own_models import DROPOUT_AFTER as AFTER
from commonfactors_web.own_models import dropout_model

#: Ages outside this range are taken as a typing error and left out (the model saw 18-75).
PLAUSIBLE_AGE = (16, 100)

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
        return self.risk is not None and self.risk.synthetic


@dataclass(frozen=True)
class Inputs:
    """An episode's records as the library's plain values, and the alliance as measured
    (instrument, its mean over the first sessions on its own scale) for the page."""

    appointments: list[Appointment]
    expectancy: float | None
    age: float | None
    alliance_measured: tuple[str, float] | None = None


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


def _alliance_text(value: str, measured: tuple[str, float] | None) -> str:
    """The model-scale alliance with the score it came from, when that scale differs."""
    if measured is None:
        return value
    instrument, mean = measured
    d = commonfactors.default_registry().definition(instrument)
    lo, hi = d.score_range
    if (lo, hi) == (1.0, 5.0):
        return value
    return f"{value} (from {d.short_name} {mean:.2g} on {lo:g}–{hi:g}, put on 1–5)"


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
    expectancy, attended, when = None, 0, None
    early_alliance: list[tuple[str, float]] = []
    for session_id, number, day, attendance in sessions:
        here = scores.get(session_id, [])
        went = attendance == Attendance.ATTENDED
        attended += went
        allied = [_scaled("alliance", i, t) for i, t in here if i in alliance]
        if went and attended <= AFTER:
            early_alliance += [(i, t) for i, t in here if i in alliance]
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
        if went and attended == 1:  # the expectancy at intake: the first attended session
            hoped = [_scaled("expectancy", i, t) for i, t in here if i in expecting]
            expectancy = hoped[0] if hoped else None
        if went and attended == AFTER:
            when = day
    measured = None
    if early_alliance and len({i for i, _ in early_alliance}) == 1:
        measured = (early_alliance[0][0], fmean(t for _, t in early_alliance))
    return Inputs(appointments, expectancy, _age(episode.client.birth_year, when), measured)


def _age(birth_year: int | None, on: date | None) -> float | None:
    """Years in the year of ``on``; None when unknown or implausible (a typing error)."""
    if birth_year is None or on is None:
        return None
    age = on.year - birth_year
    lo, hi = PLAUSIBLE_AGE
    return float(age) if lo <= age <= hi else None


def dropout_risk(episode: Episode) -> Shown:
    """The episode's dropout risk from its first two attended sessions (None before them)."""
    try:
        given = inputs(episode)
        risk = episode_dropout_risk(
            given.appointments,
            expectancy=given.expectancy,
            age=given.age,
            model=dropout_model(),
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
            _alliance_text(_text(c.feature, c.value, c.assumed), given.alliance_measured)
            if c.feature == "alliance" and c.value is not None
            else _text(c.feature, c.value, c.assumed),
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
    left_out["no PHQ-9 at the first attended session"] = 0
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
            left_out["no PHQ-9 at the first attended session"] += 1
            continue
        if feats is None:
            left_out["fewer than two attended sessions"] += 1
            continue
        rows.append(
            feats.with_columns(pl.lit(episode.status == EpisodeStatus.DROPPED_OUT).alias("dropout"))
        )
    frame = pl.concat(rows, how="vertical_relaxed") if rows else pl.DataFrame()
    return frame, left_out
