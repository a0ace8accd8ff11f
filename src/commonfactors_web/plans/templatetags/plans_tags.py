"""``{% plan_summary client episode %}``: the treatment plan in brief on the client page."""

from __future__ import annotations

from typing import Any

from django import template

from commonfactors_web.plans import services
from commonfactors_web.plans.progress import goal_progress

register = template.Library()


@register.inclusion_tag("plans/plan_summary.html")
def plan_summary(client: Any, episode: Any, can_change: bool = False) -> dict[str, Any]:
    """Goals with their latest rating, the modality and the planned techniques, and a link
    to the plan (the client page that shows it is audited as a whole)."""
    if episode is None:
        return {"client": client, "episode": None}
    plan = services.plan_of(episode)
    names = {t.slug: t.name for t in services.catalogue(client.practice_id, active_only=False)}
    return {
        "client": client,
        "episode": episode,
        "can_change": can_change,
        "plan": plan,
        "goals": goal_progress(episode, services.agreed_goals(episode)),
        "techniques": [names.get(s, s) for s in plan.techniques],
    }
