"""``{% common_factors_profile episode %}``: the common-factors profile on the client page."""

from __future__ import annotations

from typing import Any

from django import template

from commonfactors_web.clients.profile import episode_profile

register = template.Library()


@register.inclusion_tag("clients/_profile.html")
def common_factors_profile(episode: Any) -> dict[str, Any]:
    return {"episode": episode, "standings": episode_profile(episode) if episode else []}
