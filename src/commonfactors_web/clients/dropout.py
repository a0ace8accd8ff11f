"""An episode's dropout risk, read from its stored records and handed to the library
(:func:`commonfactors.trajectories.dropout.episode_dropout_risk`), which decides the features
and the risk. This module only maps records: the outcome instrument's totals, the alliance
and expectancy scores put on the model's scales (by their instruments' score ranges), the
homework completion known at each session, and the client's age in the year of the session
the risk is taken at."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

import commonfactors
from commonfactors.homework import completion as homework_completion
from commonfactors.trajectories import TrajectoryError
from commonfactors.trajectories.dropout import (
    FEATURE_LABELS,
    OUTCOME_INSTRUMENT,
    Appointment,
    DropoutRisk,
    episode_dropout_risk,
    on_model_scale,
)
from commonfactors_web.checkins.models import Score
from commonfactors_web.clients.models import Attendance, Episode
from commonfactors_web.homework.services import assignment_records

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


def dropout_risk(episode: Episode) -> Shown:
    """The episode's dropout risk from its first two attended sessions (None before them)."""
    sessions = list(
        episode.sessions.order_by("number").values_list("id", "number", "date", "attendance")
    )
    wanted = {OUTCOME_INSTRUMENT} | _instruments("alliance") | _instruments("expectancy")
    scores: dict[int, list[tuple[str, float]]] = {}
    for session_id, instrument, total in Score.objects.filter(
        administration__session__episode=episode, instrument__in=wanted
    ).values_list("administration__session_id", "instrument", "total"):
        scores.setdefault(session_id, []).append((instrument, float(total)))
    homework = assignment_records(episode)
    alliance, expectancy_ids = _instruments("alliance"), _instruments("expectancy")
    appointments, expectancy, attended = [], None, 0
    age_at = None
    for session_id, number, day, attendance in sessions:
        here = scores.get(session_id, [])
        went = attendance == Attendance.ATTENDED
        attended += went
        allied = [_scaled("alliance", i, t) for i, t in here if i in alliance]
        outcome = [t for i, t in here if i == OUTCOME_INSTRUMENT]
        done = homework_completion(homework, today=day).rate if went and attended > 1 else None
        appointments.append(
            Appointment(
                number=number,
                attended=went,
                outcome=outcome[0] if outcome else None,
                alliance=fmean(allied) if allied else None,
                homework=done,
            )
        )
        if expectancy is None and went and attended <= 2:
            hoped = [_scaled("expectancy", i, t) for i, t in here if i in expectancy_ids]
            expectancy = hoped[0] if hoped else None
        if went and attended == 2:
            age_at = day.year
    birth = episode.client.birth_year
    age = age_at - birth if age_at is not None and birth else None
    try:
        risk = episode_dropout_risk(appointments, expectancy=expectancy, age=age)
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
