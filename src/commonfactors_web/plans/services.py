"""The only functions that create or change treatment plans, goals, Goal Attainment Scaling
ratings, the techniques used in sessions and a practice's technique catalogue.

Every change to an episode's plan runs in one transaction that locks the episode, compares
a snapshot of the plan before and after (``plans.versions``) and, when anything changed,
writes a :class:`PlanVersion` (who, when, which fields, old and new values) and an audit
event. Bad input raises :class:`PlanError` naming every problem; nothing is half-written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

import commonfactors
from commonfactors.goals import GAS_LEVELS
from commonfactors.techniques import SLUG, default_catalogue
from commonfactors_web.accounts.models import Practice
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.models import CheckIn, MeasurementPlan
from commonfactors_web.clients.models import Episode, Session
from commonfactors_web.clients.services import set_episode_plan_fields
from commonfactors_web.plans import versions
from commonfactors_web.plans.models import (
    GAS_FIELDS,
    Goal,
    GoalAttainment,
    GoalStatus,
    PlanVersion,
    PracticeTechnique,
    TreatmentPlan,
)
from commonfactors_web.plans.progress import GOALS

#: At most this many goals are active at once: the ``goals`` instrument has one item per
#: goal (Law & Jacob 2015: up to three goals agreed together).
MAX_GOALS = len(commonfactors.default_registry().definition(GOALS).items)
TEXT_LIMIT = 5000
GOAL_TEXT_LIMIT = 300
MODALITY_LIMIT = 100
#: Fields of the plan page that live on the episode (``clients``), not the plan record.
EPISODE_FIELDS = ("modality", "measurement_plan")


class PlanError(ValueError):
    """A change to a plan that cannot be made as asked; ``problems`` names every problem."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        super().__init__(message if not problems else f"{message}: {'; '.join(problems)}")


# ------------------------------------------------------------------ the practice catalogue


def seed_techniques(practice: Practice) -> int:
    """Add the library's default techniques the practice does not have yet (by slug);
    returns how many were added. Techniques the practice edited are left as they are."""
    have = set(PracticeTechnique.objects.filter(practice=practice).values_list("slug", flat=True))
    new = [
        PracticeTechnique(
            practice=practice,
            slug=t.id,
            modality=t.modality,
            name=t.name,
            description=t.description,
            source=t.source,
            from_library=True,
        )
        for t in default_catalogue()
        if t.id not in have
    ]
    PracticeTechnique.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def missing_defaults(practice: Practice) -> int:
    """How many of the library's default techniques the practice's catalogue lacks."""
    have = set(PracticeTechnique.objects.filter(practice=practice).values_list("slug", flat=True))
    return sum(1 for t in default_catalogue() if t.id not in have)


def modality_order() -> dict[str, int]:
    return {m.id: i for i, m in enumerate(default_catalogue().modalities)}


def modality_names() -> dict[str, str]:
    return {m.id: m.name for m in default_catalogue().modalities}


def catalogue(practice: Practice | int, *, active_only: bool = True) -> list[PracticeTechnique]:
    """The practice's techniques in catalogue order (modality, then name); a practice with
    none yet starts from the library's defaults."""
    practice_id = practice if isinstance(practice, int) else practice.pk
    techniques = PracticeTechnique.objects.filter(practice_id=practice_id)
    if not techniques.exists():
        seed_techniques(Practice.objects.get(pk=practice_id))
    if active_only:
        techniques = techniques.filter(active=True)
    order = modality_order()
    return sorted(techniques, key=lambda t: (order.get(t.modality, len(order)), t.name.lower()))


def grouped(techniques: Iterable[PracticeTechnique]) -> list[tuple[str, list[PracticeTechnique]]]:
    """(modality name, techniques) in catalogue order."""
    names = modality_names()
    groups: dict[str, list[PracticeTechnique]] = {}
    for t in techniques:
        groups.setdefault(names.get(t.modality, t.modality), []).append(t)
    return list(groups.items())


def _technique_problems(fields: Mapping[str, Any], slug_taken: bool) -> list[str]:
    problems = []
    if slug_taken:
        problems.append(f"the practice has a technique '{fields.get('slug')}' already")
    if fields.get("modality") not in modality_order():
        problems.append(f"modality: '{fields.get('modality')}' is not one of the catalogue's")
    for key, limit in (("name", 120), ("description", TEXT_LIMIT)):
        text = str(fields.get(key) or "").strip()
        if not text:
            problems.append(f"{key}: required")
        elif len(text) > limit:
            problems.append(f"{key}: at most {limit} characters")
    return problems


@transaction.atomic
def save_technique(
    practice: Practice,
    user: Any,
    *,
    technique: PracticeTechnique | None = None,
    slug: str = "",
    modality: str,
    name: str,
    description: str,
    source: str = "",
    active: bool = True,
) -> PracticeTechnique:
    """Add a technique to the practice's catalogue, or change one (its slug stays)."""
    if technique is not None and technique.practice_id != practice.pk:
        raise PlanError("the technique belongs to another practice")
    if technique is None:
        slug = slug.strip().lower().replace("-", "_").replace(" ", "_")
        slug_problem = [] if SLUG.match(slug) else ["short name: a-z, digits and _, 2-60 long"]
        taken = PracticeTechnique.objects.filter(practice=practice, slug=slug).exists()
    else:
        slug_problem, taken = [], False
    fields = {"slug": slug, "modality": modality, "name": name, "description": description}
    problems = slug_problem + _technique_problems(fields, taken)
    if problems:
        raise PlanError("the technique cannot be saved", problems)
    if technique is None:
        technique = PracticeTechnique(practice=practice, slug=slug)
    technique.modality = modality
    technique.name = name.strip()
    technique.description = description.strip()
    technique.source = source.strip()
    technique.active = active
    technique.save()
    record(user, "technique.save", obj=technique, slug=technique.slug, active=active)
    return technique


# ------------------------------------------------------------------ versioning


def _lock(episode: Episode) -> Episode:
    return (
        Episode.objects.select_for_update(of=("self",))  # PostgreSQL: not the nullable joins
        .select_related("client", "measurement_plan")
        .get(pk=episode.pk)
    )


def _commit(
    episode: Episode,
    user: Any,
    before: versions.Snapshot,
    summary: str,
    action: str,
    now: datetime,
    obj: Any = None,
) -> PlanVersion | None:
    """Inside the caller's transaction: a new version when anything changed, and the audit
    event (field labels only: the audit log holds no clinical text)."""
    episode.refresh_from_db(fields=["modality", "measurement_plan"])
    after = versions.snapshot(episode)
    changes = versions.diff(before, after)
    if not changes:
        return None
    number = (PlanVersion.objects.filter(episode=episode).aggregate(n=Max("number"))["n"] or 0) + 1
    event = record(
        user,
        action,
        client=episode.client,
        obj=obj,
        version=number,
        fields=[c["label"] for c in changes],
    )
    return PlanVersion.objects.create(
        episode=episode,
        number=number,
        created_at=now,
        created_by=event.actor,
        actor_label=event.actor_label,
        summary=summary,
        changes=changes,
        snapshot=after,
    )


# ------------------------------------------------------------------ the plan


def plan_of(episode: Episode) -> TreatmentPlan:
    """The episode's plan (an unsaved empty one when none is written yet)."""
    return TreatmentPlan.objects.filter(episode=episode).first() or TreatmentPlan(episode=episode)


def _catalogue_slugs(practice_id: int) -> tuple[set[str], set[str]]:
    """The slugs switched on, and all slugs, of the practice's catalogue."""
    active = {t.slug for t in catalogue(practice_id)}
    return active, set(versions.technique_names(practice_id))


def _slug_problems(
    slugs_of: tuple[set[str], set[str]], slugs: Any, keep: Iterable[str], what: str
) -> tuple[list[str], list[str]]:
    """The slugs as a clean list, and the problems: each must be in the practice's catalogue
    (``slugs_of``) and switched on, unless it is already recorded (``keep``)."""
    if not isinstance(slugs, list | tuple) or not all(isinstance(s, str) for s in slugs):
        return [], [f"{what}: a list of technique names is expected"]
    active, known = slugs_of
    kept = set(keep)
    problems = [
        f"{what}: '{s}' is not in the practice's catalogue"
        if s not in known
        else f"{what}: '{s}' is switched off in the practice's catalogue"
        for s in slugs
        if s not in active and s not in kept
    ]
    return list(dict.fromkeys(slugs)), problems


def _plan_problems(
    episode: Episode, plan: TreatmentPlan, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    unknown = sorted(set(changes) - set(versions.PLAN_FIELDS) - set(EPISODE_FIELDS))
    problems = [f"unknown field '{k}'" for k in unknown]
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if field in unknown:
            continue
        label = versions.PLAN_FIELDS[field][1] if field in versions.PLAN_FIELDS else field
        if field == "techniques":
            clean[field], found = _slug_problems(
                _catalogue_slugs(episode.client.practice_id),
                value,
                plan.techniques,
                "planned techniques",
            )
            problems += found
        elif field == "measurement_plan":
            if value is not None and (
                not isinstance(value, MeasurementPlan)
                or value.practice_id != episode.client.practice_id
            ):
                problems.append("measurement plan: choose one of the practice's plans")
            clean[field] = value
        elif field == "modality":
            text = str(value or "").strip()
            if len(text) > MODALITY_LIMIT:
                problems.append(f"modality: at most {MODALITY_LIMIT} characters")
            clean[field] = text
        elif (choices := versions.PLAN_FIELDS[field][2]) is not None:
            if value and value not in choices.values:
                problems.append(f"{label}: '{value}' is not one of the choices")
            clean[field] = value or ""
        else:
            text = str(value or "").strip()
            if len(text) > TEXT_LIMIT:
                problems.append(f"{label}: at most {TEXT_LIMIT} characters")
            clean[field] = text
    return clean, problems


def update_plan(
    episode: Episode,
    user: Any,
    changes: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> PlanVersion | None:
    """Change the plan fields given in ``changes`` (others stay): the plan's own fields
    (``versions.PLAN_FIELDS``), ``modality`` and ``measurement_plan`` (a MeasurementPlan of
    the practice, or None for the practice default). Returns the new version, or None when
    nothing changed."""
    now = now or timezone.now()
    with transaction.atomic():
        episode = _lock(episode)
        plan = plan_of(episode)
        clean, problems = _plan_problems(episode, plan, changes)
        if problems:
            raise PlanError("the plan cannot be saved", problems)
        before = versions.snapshot(episode)
        own = {k: v for k, v in clean.items() if k in versions.PLAN_FIELDS}
        for field, value in own.items():
            setattr(plan, field, value)
        if own or plan.pk is None:
            plan.updated_at = now
            plan.save()
        episode_fields: dict[str, Any] = {k: clean[k] for k in EPISODE_FIELDS if k in clean}
        if episode_fields:
            set_episode_plan_fields(episode, **episode_fields)
        return _commit(episode, user, before, "Plan changed", "plan.update", now, obj=plan)


# ------------------------------------------------------------------ goals


def agreed_goals(episode: Episode) -> list[Goal]:
    """The goals the client rates at check-ins now (the active ones), by position."""
    return list(episode.goals.filter(status=GoalStatus.ACTIVE).order_by("position"))


def goal_texts(episode: Episode) -> dict[int, str]:
    """Position → the client's own words, for each goal the client rates now."""
    return {g.position: g.text for g in agreed_goals(episode)}


def _goal_problems(
    episode: Episode, text: str, agreed_on: Any, gas: Mapping[int, str], weight: Any
) -> list[str]:
    problems = []
    if not text:
        problems.append("goal: write the goal in the client's own words")
    elif len(text) > GOAL_TEXT_LIMIT:
        problems.append(f"goal: at most {GOAL_TEXT_LIMIT} characters")
    if not isinstance(agreed_on, date):
        problems.append("agreed on: a date is needed")
    elif agreed_on > timezone.localdate():
        problems.append("agreed on: the date is in the future")
    elif agreed_on < episode.started_on:
        problems.append(f"agreed on: before the episode started ({episode.started_on.isoformat()})")
    unknown = sorted(set(gas) - set(GAS_LEVELS))
    problems += [f"attainment level {k}: not one of −2 … +2" for k in unknown]
    filled = [k for k in GAS_LEVELS if (gas.get(k) or "").strip()]
    if filled and len(filled) != len(GAS_LEVELS):
        missing = ", ".join(versions.GAS_LABELS[k] for k in GAS_LEVELS if k not in filled)
        problems.append(
            f"attainment scaling: describe all five levels or none (missing: {missing})"
        )
    if any(len(v or "") > GOAL_TEXT_LIMIT for v in gas.values()):
        problems.append(f"attainment levels: at most {GOAL_TEXT_LIMIT} characters each")
    if not isinstance(weight, int | float) or not math.isfinite(weight) or not 0 < weight <= 10:
        problems.append("attainment weight: a number above 0 and at most 10")
    return problems


def _set_gas(goal: Goal, gas: Mapping[int, str], weight: float) -> None:
    for level, field in GAS_FIELDS.items():
        setattr(goal, field, (gas.get(level) or "").strip())
    goal.gas_weight = float(weight)


def add_goal(
    episode: Episode,
    user: Any,
    text: str,
    agreed_on: date,
    *,
    gas: Mapping[int, str] | None = None,
    gas_weight: float = 1.0,
    now: datetime | None = None,
) -> Goal:
    """Agree a new goal: it takes the first free position (1–3) and is rated from the next
    check-in on."""
    now = now or timezone.now()
    text = " ".join((text or "").split())
    with transaction.atomic():
        episode = _lock(episode)
        problems = _goal_problems(episode, text, agreed_on, gas or {}, gas_weight)
        taken = set(
            episode.goals.filter(status=GoalStatus.ACTIVE).values_list("position", flat=True)
        )
        free = [p for p in range(1, MAX_GOALS + 1) if p not in taken]
        if not free:
            problems.append(
                f"{MAX_GOALS} goals are active already: mark one achieved or dropped first"
            )
        if problems:
            raise PlanError("the goal cannot be added", problems)
        before = versions.snapshot(episode)
        goal = Goal(episode=episode, position=free[0], text=text, agreed_on=agreed_on)
        goal.created_at = now
        _set_gas(goal, gas or {}, gas_weight)
        goal.save()
        _commit(episode, user, before, f"Goal {goal.position} agreed", "goal.add", now, obj=goal)
    return goal


def _open_checkin_asks_goals(episode: Episode, now: datetime) -> bool:
    return any(
        GOALS in c.instruments
        for c in CheckIn.objects.filter(episode=episode, used_at__isnull=True, expires_at__gt=now)
    )


def update_goal(
    goal: Goal,
    user: Any,
    *,
    text: str,
    agreed_on: date,
    status: str,
    gas: Mapping[int, str] | None = None,
    gas_weight: float = 1.0,
    now: datetime | None = None,
) -> PlanVersion | None:
    """Change a goal's wording, date, status or attainment scale. Closing a goal (achieved
    or dropped) frees its position; reopening needs the position free again."""
    now = now or timezone.now()
    text = " ".join((text or "").split())
    with transaction.atomic():
        episode = _lock(goal.episode)
        goal = Goal.objects.select_for_update().get(pk=goal.pk)
        problems = _goal_problems(episode, text, agreed_on, gas or {}, gas_weight)
        if status not in GoalStatus.values:
            problems.append(f"status: '{status}' is not one of {', '.join(GoalStatus.values)}")
        others = episode.goals.filter(status=GoalStatus.ACTIVE).exclude(pk=goal.pk)
        reopening = status == GoalStatus.ACTIVE and goal.status != GoalStatus.ACTIVE
        later = episode.goals.filter(position=goal.position, created_at__gt=goal.created_at)
        if reopening and later.exists():
            problems.append(
                f"status: a later goal has held position {goal.position}; "
                "agree this goal again as a new goal"
            )
        if not any((v or "").strip() for v in (gas or {}).values()) and goal.attainments.exists():
            problems.append(
                "attainment scaling: the goal has attainment ratings; its levels can be "
                "reworded but not removed"
            )
        closing = goal.status == GoalStatus.ACTIVE and status != GoalStatus.ACTIVE
        if closing and not others.exists() and _open_checkin_asks_goals(episode, now):
            problems.append(
                "status: an open check-in link asks the client to rate their goals; keep one "
                "goal active until it is answered or expires, or agree a new goal first"
            )
        if problems:
            raise PlanError("the goal cannot be saved", problems)
        before = versions.snapshot(episode)
        if closing:
            goal.closed_at = now
        elif status == GoalStatus.ACTIVE:
            goal.closed_at = None
        goal.text, goal.agreed_on, goal.status = text, agreed_on, status
        _set_gas(goal, gas or {}, gas_weight)
        goal.save()
        return _commit(
            episode, user, before, f"Goal {goal.position} changed", "goal.update", now, obj=goal
        )


def rate_attainment(
    goal: Goal, user: Any, level: int, rated_on: date, *, now: datetime | None = None
) -> GoalAttainment:
    """Record how far a scaled goal was attained (−2 … +2) on a day, once per day."""
    now = now or timezone.now()
    with transaction.atomic():
        episode = _lock(goal.episode)
        goal = Goal.objects.get(pk=goal.pk)
        problems = []
        if not goal.scaled:
            problems.append("describe the five attainment levels of this goal first")
        if level not in GAS_LEVELS:
            problems.append(f"level: {level!r} is not one of −2, −1, 0, +1, +2")
        if not isinstance(rated_on, date):
            problems.append("rated on: a date is needed")
        elif rated_on > timezone.localdate():
            problems.append("rated on: the date is in the future")
        elif rated_on < goal.agreed_on:
            problems.append("rated on: before the goal was agreed")
        elif goal.attainments.filter(rated_on=rated_on).exists():
            problems.append(f"rated on: this goal was rated on {rated_on.isoformat()} already")
        if problems:
            raise PlanError("the attainment cannot be recorded", problems)
        before = versions.snapshot(episode)
        attainment = GoalAttainment.objects.create(
            goal=goal,
            level=level,
            rated_on=rated_on,
            rated_by=user if getattr(user, "pk", None) else None,
            created_at=now,
        )
        _commit(
            episode,
            user,
            before,
            f"Goal {goal.position} attainment rated",
            "goal.attainment",
            now,
            obj=attainment,
        )
    return attainment


# ------------------------------------------------------------------ sessions


def set_session_techniques(
    session: Session, user: Any, slugs: Sequence[str], *, now: datetime | None = None
) -> PlanVersion | None:
    """Record which techniques of the practice's catalogue were used in ``session``."""
    return record_session_techniques(session.episode, user, {session.number: slugs}, now=now)


def record_session_techniques(
    episode: Episode,
    user: Any,
    by_session: Mapping[int, Sequence[str]],
    *,
    now: datetime | None = None,
) -> PlanVersion | None:
    """Record the techniques used in several sessions of ``episode`` at once (session
    number → technique slugs), as one version."""
    now = now or timezone.now()
    with transaction.atomic():
        episode = _lock(episode)
        current = dict(
            Session.objects.filter(episode=episode, number__in=list(by_session)).values_list(
                "number", "techniques"
            )
        )
        problems = [f"session {n} does not exist" for n in by_session if n not in current]
        clean: dict[int, list[str]] = {}
        slugs_of = _catalogue_slugs(episode.client.practice_id)
        for number, slugs in by_session.items():
            clean[number], found = _slug_problems(
                slugs_of,
                list(slugs),
                current.get(number) or [],
                f"techniques used in session {number}",
            )
            problems += found
        if problems:
            raise PlanError("the techniques cannot be saved", problems)
        before = versions.snapshot(episode)
        set_episode_plan_fields(episode, session_techniques=clean)
        numbers = ", ".join(str(n) for n in sorted(clean))
        return _commit(
            episode,
            user,
            before,
            f"Techniques of session{'s' if len(clean) > 1 else ''} {numbers} recorded",
            "session.techniques",
            now,
            obj=Session.objects.get(episode=episode, number=min(clean)) if clean else None,
        )
