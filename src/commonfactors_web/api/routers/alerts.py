"""Alerts: list and read them; the client's own therapist acknowledges and resolves them.

As on the web pages (``alerts.views``): red, yellow and alliance-rupture alerts are resolved
by a support review in the web app (409 here); a risk alert is resolved by a person saying
what was done (``alerts.services.resolve``).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Query, Router

from commonfactors_web.accounts import access
from commonfactors_web.alerts import services
from commonfactors_web.alerts.models import Alert
from commonfactors_web.api import output, schemas
from commonfactors_web.api.auth import audit, user_of
from commonfactors_web.api.errors import READ_ERRORS, WRITE_ERRORS, ConflictError, InputError
from commonfactors_web.api.pagination import page

router = Router(tags=["alerts"])

REVIEWED = (
    "Red, yellow and alliance-rupture alerts are resolved by a support review: "
    "open the alert in the web app."
)


def _out(request: HttpRequest, alert: Alert) -> schemas.AlertOut:
    return output.alert(alert, access.can_change_client(user_of(request), alert.episode.client))


@router.get("/alerts", response={200: schemas.Page[schemas.AlertOut], **READ_ERRORS})
def list_alerts(
    request: HttpRequest, filters: Query[schemas.AlertFilters], paging: Query[schemas.Paging]
) -> schemas.Page[schemas.AlertOut]:
    """The alerts of every client this token's owner may see: open ones most urgent first
    (risk, red, rupture, yellow), others the newest first."""
    user = user_of(request)
    clients = access.visible_clients(user)
    if filters.client_id is not None:
        clients = clients.filter(pk=access.client_for_view(user, filters.client_id).pk)
    alerts = Alert.objects.filter(episode__client__in=clients.values("pk")).select_related(
        "episode__client", "acknowledged_by", "resolved_by"
    )
    if filters.state == "open":
        alerts = alerts.open().by_urgency()
    else:
        if filters.state == "resolved":
            alerts = alerts.filter(resolved_at__isnull=False)
        alerts = alerts.order_by("-created_at", "-pk")
    rows, count = page(alerts, paging)
    audit(
        request,
        "alert.list",
        alerts=[a.pk for a in rows],
        clients=sorted({a.episode.client_id for a in rows}),
    )
    return schemas.Page[schemas.AlertOut](
        count=count,
        limit=paging.limit,
        offset=paging.offset,
        items=[_out(request, a) for a in rows],
    )


def _alert_for_view(request: HttpRequest, alert_id: int) -> Alert:
    alert = (
        Alert.objects.select_related("episode__client", "acknowledged_by", "resolved_by")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise Http404("no such alert")
    access.client_for_view(user_of(request), alert.episode.client_id)
    return alert


def _alert_for_change(request: HttpRequest, alert_id: int) -> Alert:
    alert = _alert_for_view(request, alert_id)
    access.client_for_change(user_of(request), alert.episode.client_id)
    return alert


@router.get("/alerts/{alert_id}", response={200: schemas.AlertOut, **READ_ERRORS})
def get_alert(request: HttpRequest, alert_id: schemas.AlertId) -> schemas.AlertOut:
    """One alert, with the evidence it was raised on."""
    alert = _alert_for_view(request, alert_id)
    audit(request, "alert.view", client=alert.episode.client, obj=alert)
    return _out(request, alert)


@router.post("/alerts/{alert_id}/acknowledge", response={200: schemas.AlertOut, **WRITE_ERRORS})
def acknowledge_alert(request: HttpRequest, alert_id: schemas.AlertId) -> schemas.AlertOut:
    """Mark the alert as seen (it stays open). Seeing it again changes nothing."""
    alert = _alert_for_change(request, alert_id)
    return _out(request, services.acknowledge(alert, user_of(request)))


@router.post(
    "/alerts/{alert_id}/resolve",
    response={200: schemas.AlertOut, 409: schemas.Error, **WRITE_ERRORS},
)
def resolve_alert(
    request: HttpRequest, alert_id: schemas.AlertId, body: schemas.ResolveIn
) -> schemas.AlertOut:
    """Close a risk alert, saying what was done. An alert resolved already stays as it was
    resolved (a repeated request changes nothing)."""
    alert = _alert_for_change(request, alert_id)
    if alert.is_reviewable:
        raise ConflictError(REVIEWED)
    try:
        resolved = services.resolve(alert, user_of(request), body.resolution)
    except ValueError as exc:
        raise InputError([(["body", "resolution"], str(exc))]) from None
    return _out(request, resolved)
