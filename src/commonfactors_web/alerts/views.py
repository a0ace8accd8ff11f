"""The alerts inbox (every open alert of the clients a person may see, most urgent first,
each saying why it fired), and acknowledging and resolving alerts (the client's own
therapist only). Red, yellow and rupture alerts are resolved through a support review
(``reviews``); a risk alert by a person saying what was done."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from commonfactors_web.accounts import access
from commonfactors_web.alerts import services
from commonfactors_web.alerts.models import Alert
from commonfactors_web.audit.services import record
from commonfactors_web.reviews.explain import explain_all


@require_GET
@login_required
def alert_inbox(request: HttpRequest) -> HttpResponse:
    alerts = list(
        Alert.objects.open()
        .filter(episode__client__in=access.visible_clients(request.user).values("pk"))
        .select_related("episode__client__therapist", "acknowledged_by")
        .by_urgency()
    )
    rows = [
        (why, access.can_change_client(request.user, why.alert.episode.client))
        for why in explain_all(alerts)
    ]
    record(
        request.user,
        "alert.inbox.view",
        alerts=[a.pk for a in alerts],
        clients=sorted({a.episode.client_id for a in alerts}),
    )
    return render(
        request,
        "alerts/inbox.html",
        {"rows": rows, "show_therapist": access.is_team_supervisor(request.user)},
    )


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
    if alert.is_reviewable:
        messages.error(
            request, "Red, yellow and alliance-rupture alerts are resolved by a support review."
        )
        return redirect("support_review", alert.pk)
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
