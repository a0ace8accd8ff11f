"""Goal ratings are asked only of a client with agreed goals.

The ``goals`` instrument shows the client their own goals; with none agreed there is
nothing to rate, and a check-in that asked for it could never be completed. So when a new
check-in (made by a therapist or by a measurement plan's schedule) includes ``goals`` while
the episode has no active goal, ``goals`` is left out of it before it is stored, and the
audit log says so. A check-in asking for nothing else is refused with the usual
``CheckInError`` ("agree goals on the treatment plan first").
"""

from __future__ import annotations

from typing import Any

from commonfactors_web.audit.services import SYSTEM, record
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.checkins.services import CheckInError
from commonfactors_web.plans.models import GoalStatus
from commonfactors_web.plans.progress import GOALS


def leave_out_goals_without_goals(
    sender: Any, instance: CheckIn, raw: bool = False, **_: Any
) -> None:
    if raw or instance.pk is not None or GOALS not in (instance.instruments or []):
        return
    episode = instance.episode
    if episode.goals.filter(status=GoalStatus.ACTIVE).exists():
        return
    rest = [i for i in instance.instruments if i != GOALS]
    if not rest:
        raise CheckInError(
            "goal ratings need at least one agreed goal: agree goals on the treatment plan first"
        )
    instance.instruments = rest
    record(SYSTEM, "checkin.goals_left_out", client=episode.client, reason="no agreed goals")
