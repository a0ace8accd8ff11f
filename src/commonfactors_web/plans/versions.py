"""Snapshots of a treatment plan and the field-level difference between two of them.

A snapshot flattens everything the plan is made of — the episode's modality and
measurement plan, the plan's own fields, each goal (with its Goal Attainment Scaling levels
and ratings) and the techniques used in each session — into ``key → [label, value]``, with
values as people read them. Two snapshots differ field by field: that is what the history
page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from commonfactors_web.clients.models import Episode
from commonfactors_web.plans.models import (
    GAS_FIELDS,
    Directiveness,
    EmotionalIntensity,
    FamilyInvolvement,
    Goal,
    GoalStatus,
    PracticeTechnique,
    SessionFormat,
    SupportChallenge,
    TimeFocus,
    TreatmentPlan,
)

Snapshot = dict[str, list[str]]

#: The plan's own fields: field → (section, label, choices or None). Forms use these labels.
PLAN_FIELDS: dict[str, tuple[str, str, Any]] = {
    "rationale": ("Approach", "Shared understanding and rationale", None),
    "techniques": ("Approach", "Planned techniques", None),
    "pref_directiveness": ("Preferences", "Who leads", Directiveness),
    "pref_time_focus": ("Preferences", "Past or present", TimeFocus),
    "pref_emotional_intensity": ("Preferences", "Emotional intensity", EmotionalIntensity),
    "pref_support_challenge": ("Preferences", "Support or challenge", SupportChallenge),
    "pref_format": ("Preferences", "Format", SessionFormat),
    "pref_notes": ("Preferences", "Other preferences, in the client's words", None),
    "cultural_identity": ("Cultural formulation", "Cultural identity", None),
    "explanation": (
        "Cultural formulation",
        "The client's explanation of the problem",
        None,
    ),
    "stressors_supports": ("Cultural formulation", "Stressors and supports", None),
    "family_involvement": ("Cultural formulation", "Involving family", FamilyInvolvement),
    "family_notes": ("Cultural formulation", "Whether and how to involve family", None),
    "relationship": (
        "Cultural formulation",
        "What matters in the relationship with the therapist",
        None,
    ),
}

GAS_LABELS = {-2: "−2", -1: "−1", 0: "0", 1: "+1", 2: "+2"}


def label_of(field: str) -> str:
    section, label, _ = PLAN_FIELDS[field]
    return f"{section} · {label}"


def technique_names(practice_id: int) -> dict[str, str]:
    """Slug → name of every technique in the practice's catalogue (switched off ones too)."""
    return dict(
        PracticeTechnique.objects.filter(practice_id=practice_id).values_list("slug", "name")
    )


def _names(slugs: Any, names: Mapping[str, str]) -> str:
    return "; ".join(names.get(s, s) for s in slugs or [])


def _plan_value(plan: TreatmentPlan, field: str, names: Mapping[str, str]) -> str:
    value = getattr(plan, field)
    if field == "techniques":
        return _names(value, names)
    choices = PLAN_FIELDS[field][2]
    if choices is not None and value:
        return str(choices(value).label)
    return str(value or "")


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _goal_entries(goal: Goal) -> Snapshot:
    key = f"goal.{goal.pk}"
    name = f"Goal {goal.position}"
    out: Snapshot = {
        f"{key}.text": [f"{name} · text", goal.text],
        f"{key}.agreed_on": [f"{name} · agreed on", _day(goal.agreed_on)],
        f"{key}.status": [f"{name} · status", str(GoalStatus(goal.status).label)],
    }
    if not any(getattr(goal, f).strip() for f in GAS_FIELDS.values()):
        return out  # not scaled: no attainment levels, weight or ratings to show
    for level, field in GAS_FIELDS.items():
        out[f"{key}.{field}"] = [
            f"{name} · attainment level {GAS_LABELS[level]}",
            getattr(goal, field),
        ]
    out[f"{key}.gas_weight"] = [f"{name} · attainment weight", f"{goal.gas_weight:g}"]
    for a in goal.attainments.all():
        out[f"{key}.attainment.{a.rated_on.isoformat()}"] = [
            f"{name} · attainment rated on {_day(a.rated_on)}",
            GAS_LABELS[a.level],
        ]
    return out


def snapshot(episode: Episode) -> Snapshot:
    """Everything the plan of ``episode`` is made of, as people read it."""
    names = technique_names(episode.client.practice_id)
    plan = TreatmentPlan.objects.filter(episode=episode).first() or TreatmentPlan(episode=episode)
    out: Snapshot = {
        "episode.modality": ["Approach · Modality", episode.modality],
        "episode.measurement_plan": [
            "Approach · Measurement plan",
            episode.measurement_plan.name if episode.measurement_plan else "",
        ],
    }
    out |= {f"plan.{f}": [label_of(f), _plan_value(plan, f, names)] for f in PLAN_FIELDS}
    for goal in episode.goals.prefetch_related("attainments").order_by("position", "created_at"):
        out |= _goal_entries(goal)
    for number, techniques in episode.sessions.values_list("number", "techniques"):
        if not techniques:
            continue
        out[f"session.{number}.techniques"] = [
            f"Session {number} · techniques used",
            _names(techniques, names),
        ]
    return out


def diff(before: Mapping[str, list[str]], after: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """The fields whose value changed, in the order of ``after`` (then removed ones)."""
    changes = []
    for key, (label, new) in after.items():
        old = before.get(key, [label, ""])[1]
        if old != new:
            changes.append({"key": key, "label": label, "old": old, "new": new})
    for key, (label, old) in before.items():
        if key not in after and old:
            changes.append({"key": key, "label": label, "old": old, "new": ""})
    return changes
