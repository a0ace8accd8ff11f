"""Reading goal progress: each goal's 0–10 ratings from the check-ins, its change
(``commonfactors.goals.goal_change``) and the Goal Attainment Scaling T-score
(``commonfactors.goals.gas_t_score``). The rules are the library's; this module only
gathers the data they need.

The client rates goal n as item ``goals_n`` of the ``goals`` instrument. Which goal that
was follows from when it was answered: the goal holding position n from its ``created_at``
until its ``closed_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from commonfactors.goals import GoalChange, gas_t_score, goal_change
from commonfactors_web.checkins.models import Administration
from commonfactors_web.clients.models import Episode
from commonfactors_web.plans.models import Goal, GoalStatus

#: The instrument the client rates their goals with.
GOALS = "goals"


@dataclass(frozen=True)
class Rating:
    """One 0–10 rating of one goal at one session."""

    session_number: int
    date: date
    value: float


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    ratings: tuple[Rating, ...]
    change: GoalChange | None  # None with fewer than two ratings

    @property
    def latest(self) -> Rating | None:
        return self.ratings[-1] if self.ratings else None


def _holds(goal: Goal, moment: datetime) -> bool:
    return goal.created_at <= moment and (goal.closed_at is None or moment < goal.closed_at)


def goal_progress(episode: Episode, goals: Sequence[Goal] | None = None) -> list[GoalProgress]:
    """Each goal of ``episode`` (or of ``goals``) with its ratings, oldest first."""
    goals = list(goals if goals is not None else episode.goals.all())
    rows = (
        Administration.objects.filter(session__episode=episode, instrument=GOALS)
        .order_by("session__number")
        .values_list("session__number", "session__date", "answered_at", "answers")
    )
    found: dict[int, list[Rating]] = {g.pk: [] for g in goals}
    for number, day, answered_at, answers in rows:
        for goal in goals:
            value = answers.get(f"{GOALS}_{goal.position}")
            if value is not None and _holds(goal, answered_at):
                found[goal.pk].append(Rating(int(number), day, float(value)))
    out = []
    for goal in goals:
        ratings = tuple(found[goal.pk])
        changes = goal_change([[r.value] for r in ratings])
        out.append(GoalProgress(goal, ratings, changes[0] if changes else None))
    return out


@dataclass(frozen=True)
class GasPoint:
    """The Goal Attainment Scaling T-score on one rating day."""

    rated_on: date
    t_score: float
    goals: int


def gas_history(goals: Iterable[Goal]) -> list[GasPoint]:
    """The GAS T-score on each day any scaled goal was rated, from each scaled goal's latest
    rating on or before that day (dropped goals are left out; Kiresuk & Sherman 1968)."""
    scaled = [g for g in goals if g.scaled and g.status != GoalStatus.DROPPED]
    ratings = {g.pk: sorted(g.attainments.all(), key=lambda a: a.rated_on) for g in scaled}
    days = sorted({a.rated_on for rs in ratings.values() for a in rs})
    points = []
    for day in days:
        levels, weights = [], []
        for g in scaled:
            upto = [a for a in ratings[g.pk] if a.rated_on <= day]
            if upto:
                levels.append(upto[-1].level)
                weights.append(g.gas_weight)
        points.append(GasPoint(day, gas_t_score(levels, weights), len(levels)))
    return points
