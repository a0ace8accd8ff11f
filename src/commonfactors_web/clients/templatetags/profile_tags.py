"""``{% common_factors_profile episode %}`` and ``{% dropout_risk_panel episode %}``: the
common-factors profile and the dropout risk on the client page."""

from __future__ import annotations

from typing import Any

from django import template

from commonfactors_web.clients.dropout import dropout_risk
from commonfactors_web.clients.models import EpisodeStatus
from commonfactors_web.clients.profile import episode_profile

register = template.Library()


@register.inclusion_tag("clients/_profile.html")
def common_factors_profile(episode: Any) -> dict[str, Any]:
    return {"episode": episode, "standings": episode_profile(episode) if episode else []}


@register.inclusion_tag("clients/_dropout.html")
def dropout_risk_panel(episode: Any) -> dict[str, Any]:
    """Shown for an active episode only: once it has ended the risk has no use."""
    active = episode is not None and episode.status == EpisodeStatus.ACTIVE
    return {
        "episode": episode if active else None,
        "shown": dropout_risk(episode) if active else None,
    }
