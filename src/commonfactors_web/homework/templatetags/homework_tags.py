"""``{% homework_panel client episode %}``: the homework section of the client page.

Shows the completion summary (the library's), the homework set and its status, the client's
link (make, e-mail, revoke), and the journal entries the client shared. Forms that change
anything appear only for the client's own therapist (``accounts.access``); the page that
includes this panel already audits the view of the client.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from commonfactors import homework as library
from commonfactors_web.accounts import access
from commonfactors_web.homework import services

register = template.Library()

#: How many shared journal entries the panel shows (the rest are one click away).
SHARED_SHOWN = 3


@register.inclusion_tag("homework/panel.html", takes_context=True)
def homework_panel(context: template.Context, client: Any, episode: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    panel: dict[str, Any] = {
        "client": client,
        "episode": episode,
        "can_change": access.can_change_client(user, client),
        "csrf_token": context.get("csrf_token"),
    }
    if episode is None:
        return panel
    titles = {f.id: f.title for f in library.all_forms()}
    assignments = list(services.assignments_of(episode)[:30])
    shared = services.shared_journal(episode)
    panel.update(
        summary=services.completion(episode),
        assignments=[(a, titles.get(a.form_id, a.form_id)) for a in assignments],
        forms=library.all_forms(),
        link=services.active_link(episode),
        link_days=services.link_days(),
        shared=list(shared[:SHARED_SHOWN]),
        shared_count=shared.count(),
        default_due=timezone.localdate() + timedelta(days=library.DEFAULT_DUE_DAYS),
        today=timezone.localdate(),
        active=episode.status == "active",
    )
    return panel
