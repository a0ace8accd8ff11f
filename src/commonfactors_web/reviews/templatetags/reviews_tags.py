"""Template tags of the support reviews, for pages other apps own.

* ``{% adaptation_log episode %}`` — the episode's adaptation log (on the treatment plan);
* ``{% alert_review alert %}`` — under a resolved alert on the client page: its support
  review and the closed loop since;
* ``{% alert_why alert as why %}`` — why an alert fired, for ``alerts/_why.html``;
* ``{% loop_lines loop as lines %}`` — the closed loop's sentences with their badges.

The pages that use them have checked access already (they show a client the user may see);
the adaptation log is audited here as a read of its own.
"""

from __future__ import annotations

from typing import Any

from django import template

from commonfactors import support
from commonfactors_web.alerts.models import Alert
from commonfactors_web.audit.services import record
from commonfactors_web.reviews import services
from commonfactors_web.reviews.explain import AlertWhy, explain_all

register = template.Library()

_FACTOR_BADGES = {
    "improved": ("badge-ok", "Factor improved"),
    "no clear change": ("badge-yellow", "No clear change"),
    "worse": ("badge-red", "Factor worse"),
    "not measured before": ("badge-neutral", "Not comparable"),
    "not measured since": ("badge-neutral", "Not measured yet"),
}
_OUTCOME_BADGES = {
    "back on track": ("badge-ok", "Back on track"),
    "still on track": ("badge-ok", "On track"),
    "closer to track": ("badge-yellow", "Closer to track"),
    "not yet on track": ("badge-red", "Not yet on track"),
    "further off track": ("badge-red", "Further off track"),
    "not judged since": ("badge-neutral", "Not judged yet"),
}


@register.simple_tag
def loop_lines(loop: support.ClosedLoop) -> list[tuple[str, str, str]]:
    """(badge class, short label, sentence) for the factor (if any) and the outcome."""
    lines = []
    sentences = list(loop.summary)
    if loop.factor is not None and sentences:
        badge, label = _FACTOR_BADGES[loop.factor_verdict]
        lines.append((badge, label, sentences.pop(0)))
    if sentences:
        badge, label = _OUTCOME_BADGES[loop.outcome_verdict]
        lines.append((badge, label, sentences[0]))
    return lines


@register.simple_tag
def alert_why(alert: Alert) -> AlertWhy:
    [why] = explain_all([alert])
    return why


@register.inclusion_tag("reviews/alert_review.html")
def alert_review(alert: Alert) -> dict[str, Any]:
    review = services.review_of(alert)
    if review is None:
        return {"alert": alert, "review": None}
    return {
        "alert": alert,
        "review": review,
        "adaptations": list(review.adaptations.all()),
        "loop": services.closed_loop(review),
    }


@register.inclusion_tag("reviews/adaptation_log.html", takes_context=True)
def adaptation_log(context: template.Context, episode: Any) -> dict[str, Any]:
    if episode is None:
        return {"adaptations": []}
    adaptations = services.adaptations_of(episode)
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is not None:
        record(
            user,
            "adaptation.log.view",
            client=episode.client,
            obj=episode,
            adaptations=[a.pk for a in adaptations],
        )
    return {"adaptations": adaptations}
