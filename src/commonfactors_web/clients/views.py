"""The therapist's caseload, a client's page and adding a client."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from commonfactors_web.accounts import access
from commonfactors_web.accounts.models import User
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.instruments import administrable, short_name
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.checkins.services import instruments_due, next_session_number
from commonfactors_web.clients import caseload_rows, overview, services
from commonfactors_web.clients.forms import ClientForm
from commonfactors_web.clients.models import EpisodeStatus
from commonfactors_web.reminders.schedule import next_due


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    if access.can_read_audit(request.user) and not access.can_add_clients(request.user):
        return redirect("audit_log")
    return redirect("caseload")


#: The caseload's filters: which episodes are shown.
EPISODE_FILTERS = (("active", "Active episodes"), ("ended", "Ended episodes"), ("all", "All"))


@require_GET
@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    clients = access.visible_clients(request.user)
    q = request.GET.get("q", "").strip()[:100]
    flag = request.GET.get("flag", "")
    episodes = request.GET.get("episodes", "active")
    therapist = request.GET.get("therapist", "")
    is_supervisor = access.is_team_supervisor(request.user)
    therapists = (
        list(User.objects.filter(pk__in=clients.values("therapist_id")).order_by("first_name"))
        if is_supervisor
        else []
    )
    if q:
        clients = clients.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if is_supervisor and therapist.isdigit():
        clients = clients.filter(therapist_id=int(therapist))
    rows = overview.caseload(clients, due=next_due)
    if episodes == "active":
        rows = [r for r in rows if r.episode_status == EpisodeStatus.ACTIVE]
    elif episodes == "ended":
        rows = [r for r in rows if r.episode_status not in ("", EpisodeStatus.ACTIVE)]
    if flag == "attention":
        rows = [r for r in rows if r.flags]
    elif flag in overview.FLAG_LABELS and flag != "rest":
        rows = [r for r in rows if flag in r.flags]
    elif flag == "rest":
        rows = [r for r in rows if not r.flags]
    record(request.user, "caseload.view", clients=[r.client.pk for r in rows])
    return render(
        request,
        "clients/caseload.html",
        {
            "rows": rows,
            "rows_html": caseload_rows.rows_html(rows, show_therapist=is_supervisor),
            "can_add": access.can_add_clients(request.user),
            "show_therapist": is_supervisor,
            "therapists": therapists,
            "model_label": overview.primary_model_label(),
            "primary": short_name(settings.CF_PRIMARY_OUTCOME),
            "urgency": overview.URGENCY,
            "episode_filters": EPISODE_FILTERS,
            "filters": {"q": q, "flag": flag, "episodes": episodes, "therapist": therapist},
            "filtered": bool(q or flag or therapist or episodes != "active"),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def client_new(request: HttpRequest) -> HttpResponse:
    if not access.can_add_clients(request.user):
        raise PermissionDenied("only therapists add clients")
    user = request.user
    form = ClientForm(request.POST or None, practice_id=user.practice_id)  # type: ignore[union-attr]
    if request.method == "POST" and form.is_valid():
        client = services.create_client(user, **form.cleaned_data)  # type: ignore[arg-type]
        return redirect("client_detail", client.pk)
    return render(request, "clients/client_form.html", {"form": form})


@require_GET
@login_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_view(request.user, client_id)
    episode = services.current_episode(client)
    can_change = access.can_change_client(request.user, client)
    context: dict[str, object] = {
        "client": client,
        "episode": episode,
        "can_change": can_change,
        "histories": [],
        "open_alerts": [],
        "resolved_alerts": [],
        "checkins": [],
    }
    if episode is not None:
        open_alerts, resolved = overview.alerts_of(episode)
        due = instruments_due(episode)
        context.update(
            histories=overview.history(episode),
            open_alerts=open_alerts,
            resolved_alerts=resolved,
            checkins=CheckIn.objects.filter(episode=episode)[:10],
            choices=[(i, short_name(i), True) for i in due]
            + [(i, short_name(i), False) for i in administrable() if i not in due],
            next_session=next_session_number(episode),
        )
    record(request.user, "client.view", client=client, obj=client)
    return render(request, "clients/client_detail.html", context)
