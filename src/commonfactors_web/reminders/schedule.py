"""When each episode's next check-in is due, from its measurement plan.

The rule (``docs/reminders.md``): the next session is expected ``interval_days`` (the plan's
session cadence, default 7) after the last recorded session, or on the day the episode
started when it has no session yet. The check-in is due on the day of the first coming
session at which the plan asks for any instrument (``MeasurementPlan.next_due_session``),
with those instruments. It is *overdue* when that day has passed and no check-in was
created after the last session. An episode that is not active, or has no plan (its own or
the practice's default), has nothing due.

:func:`next_due` answers for a whole caseload in three queries, however many episodes;
:func:`due_for` is the same for one episode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from commonfactors_web.checkins.instruments import administrable
from commonfactors_web.checkins.models import CheckIn, MeasurementPlan
from commonfactors_web.clients.models import Episode, EpisodeStatus, Session


@dataclass(frozen=True)
class Due:
    """The next check-in of one episode."""

    date: dt.date
    session_number: int
    instruments: tuple[str, ...]
    overdue: bool
    open_checkin: CheckIn | None

    @property
    def days_late(self) -> int:
        """Days since the due date (0 when not overdue)."""
        return max((timezone.localdate() - self.date).days, 0) if self.overdue else 0


def _ids(episodes: Iterable[Episode | int]) -> list[int]:
    return [e if isinstance(e, int) else int(e.pk) for e in episodes]


def _episode_rows(ids: list[int], now: dt.datetime) -> list[dict[str, Any]]:
    """Each active episode with its last session, its latest check-in and its newest open
    check-in: one query (correlated subqueries, no join that multiplies rows)."""
    sessions = Session.objects.filter(episode=OuterRef("pk")).order_by("-number")
    checkins = CheckIn.objects.filter(episode=OuterRef("pk")).order_by("-created_at", "-pk")
    open_checkins = checkins.filter(used_at__isnull=True, expires_at__gt=now)
    return list(
        Episode.objects.filter(pk__in=ids, status=EpisodeStatus.ACTIVE)
        .annotate(
            last_number=Subquery(sessions.values("number")[:1]),
            last_date=Subquery(sessions.values("date")[:1]),
            last_checkin_at=Subquery(checkins.values("created_at")[:1]),
            open_checkin_id=Subquery(open_checkins.values("pk")[:1]),
        )
        .values(
            "pk",
            "started_on",
            "measurement_plan_id",
            "client__practice_id",
            "last_number",
            "last_date",
            "last_checkin_at",
            "open_checkin_id",
        )
        .order_by()
    )


def _plans(rows: list[dict[str, Any]]) -> tuple[dict[int, MeasurementPlan], dict[int, int]]:
    """Plans by id, and each practice's default plan id: one query."""
    own = {r["measurement_plan_id"] for r in rows if r["measurement_plan_id"] is not None}
    practices = {r["client__practice_id"] for r in rows if r["measurement_plan_id"] is None}
    plans: dict[int, MeasurementPlan] = {}
    defaults: dict[int, int] = {}
    if not own and not practices:
        return plans, defaults
    for plan in MeasurementPlan.objects.filter(
        Q(pk__in=own) | Q(practice_id__in=practices, is_default=True)
    ).order_by("pk"):
        plans[plan.pk] = plan
        if plan.is_default:
            defaults.setdefault(plan.practice_id, plan.pk)
    return plans, defaults


def _due(row: dict[str, Any], plan: MeasurementPlan, today: dt.date) -> Due | None:
    last_number = int(row["last_number"] or 0)
    last_date: dt.date = row["last_date"] or row["started_on"]
    known = set(administrable())
    found = plan.next_due_session(last_number)
    if found is None:
        return None
    number, instruments = found
    instruments = [i for i in instruments if i in known]
    if not instruments:
        return None
    # The first session comes on the day the episode starts; later ones a cadence apart.
    steps = number - last_number if last_number else number - 1
    date = last_date + dt.timedelta(days=plan.interval_days * steps)
    created: dt.datetime | None = row["last_checkin_at"]
    if created is None:
        since = False
    elif last_number:
        since = timezone.localdate(created) > last_date
    else:
        since = timezone.localdate(created) >= last_date
    return Due(
        date=date,
        session_number=number,
        instruments=tuple(instruments),
        overdue=date < today and not since,
        open_checkin=None,
    )


def next_due(
    episodes: Iterable[Episode | int], *, now: dt.datetime | None = None
) -> dict[int, Due]:
    """Episode id → its next check-in, for every active episode in ``episodes`` (episodes
    or their ids) that has one due; in at most three queries, however many episodes."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = _ids(episodes)
    if not ids:
        return {}
    rows = _episode_rows(ids, now)
    plans, defaults = _plans(rows)
    result: dict[int, Due] = {}
    open_ids: dict[int, int] = {}
    for row in rows:
        plan_id = row["measurement_plan_id"] or defaults.get(row["client__practice_id"])
        plan = plans.get(plan_id) if plan_id is not None else None
        due = _due(row, plan, today) if plan is not None else None
        if due is None:
            continue
        result[row["pk"]] = due
        if row["open_checkin_id"] is not None:
            open_ids[row["pk"]] = row["open_checkin_id"]
    if open_ids:
        found = CheckIn.objects.in_bulk(list(open_ids.values()))
        for episode_id, checkin_id in open_ids.items():
            result[episode_id] = replace(result[episode_id], open_checkin=found.get(checkin_id))
    return result


def due_for(episode: Episode | int, *, now: dt.datetime | None = None) -> Due | None:
    """The next check-in of one episode, or None when nothing is due (not active, no plan)."""
    return next_due([episode], now=now).get(episode if isinstance(episode, int) else episode.pk)
