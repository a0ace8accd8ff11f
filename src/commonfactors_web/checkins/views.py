"""Therapist side of check-ins: create a link (shown once, with a QR code) and look at one."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from commonfactors_web.accounts import access
from commonfactors_web.audit.services import record
from commonfactors_web.checkins import services
from commonfactors_web.checkins.instruments import short_name
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.clients.services import current_episode


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (segno; no script, no external image)."""
    svg = segno.make(url, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code of the check-in link" ', 1)


@require_POST
@login_required
def checkin_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    episode = current_episode(client)
    if episode is None:
        raise Http404("no episode")
    chosen = request.POST.getlist("instruments")
    try:
        link = services.create_checkin(episode, request.user, chosen or None)
    except services.CheckInError as exc:
        messages.error(request, str(exc))
        return redirect("client_detail", client.pk)
    url = request.build_absolute_uri(reverse("checkin_form", args=[link.token]))
    emailed = False
    if request.POST.get("email") == "1":
        emailed = services.email_link(link.checkin, url, request.user)
    # Rendered, not redirected: the token exists in clear only in this response.
    return render(
        request,
        "checkins/created.html",
        {
            "client": client,
            "checkin": link.checkin,
            "url": url,
            "qr": mark_safe(qr_svg(url)),  # segno's own SVG markup: no user input in it
            "emailed": emailed,
            "wanted_email": request.POST.get("email") == "1",
            "names": [short_name(i) for i in link.checkin.instruments],
        },
    )


@require_GET
@login_required
def checkin_detail(request: HttpRequest, checkin_id: int) -> HttpResponse:
    checkin = CheckIn.objects.select_related("episode__client").filter(pk=checkin_id).first()
    if checkin is None:
        raise Http404("no such check-in")
    client = access.client_for_view(request.user, checkin.episode.client_id)
    record(request.user, "checkin.view", client=client, obj=checkin)
    return render(
        request,
        "checkins/detail.html",
        {
            "client": client,
            "checkin": checkin,
            "names": [short_name(i) for i in checkin.instruments],
            "administrations": checkin.administrations.select_related("score", "session"),
        },
    )
