"""``{% trajectory_charts episode histories %}``: the trajectory charts on the client page."""

from __future__ import annotations

from typing import Any

from django import template

from commonfactors_web.clients.charts import episode_trajectories

register = template.Library()


@register.inclusion_tag("clients/_trajectory.html")
def trajectory_charts(episode: Any, histories: Any = None) -> dict[str, Any]:
    """One chart per outcome instrument of ``episode``; ``histories`` is the page's
    score history when it has it (then no further query is made)."""
    given = histories if isinstance(histories, list | tuple) else None
    return {"episode": episode, "charts": episode_trajectories(episode, given)}
