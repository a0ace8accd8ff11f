"""Acknowledging and resolving alerts (the client's own therapist only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from commonfactors_web.accounts import access
from commonfactors_web.alerts import services
from commonfactors_web.alerts.models import Alert


def _alert_for_change(request: HttpRequest, alert_id: int) -> Alert:
    alert = Alert.objects.select_related("episode").filter(pk=alert_id).first()
    if alert is None:
        raise Http404("no such alert")
    access.client_for_change(request.user, alert.episode.client_id)
    return alert


@require_POST
@login_required
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert_for_change(request, alert_id)
    services.acknowledge(alert, request.user)
    return redirect("client_detail", alert.episode.client_id)


@require_POST
@login_required
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert_for_change(request, alert_id)
    why = request.POST.get("resolution", "")
    try:
        services.resolve(alert, request.user, why)
    except ValueError:
        messages.error(
            request, "Say why the alert is resolved (what was done) before resolving it."
        )
    else:
        messages.success(request, "Alert resolved.")
    return redirect("client_detail", alert.episode.client_id)
