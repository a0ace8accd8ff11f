"""The therapist's side of homework: assign a form, make or revoke the client's link (shown
once, with a QR code), read a completed entry and the journal entries the client shared.

Access is decided by ``accounts.access`` only: the client's therapist changes; their
supervisor reads; everyone else gets 404. Every read is audited.
"""

from __future__ import annotations

from datetime import date

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from commonfactors import homework as library
from commonfactors_web.accounts import access
from commonfactors_web.audit.services import record
from commonfactors_web.clients.models import Client, Episode
from commonfactors_web.clients.services import current_episode
from commonfactors_web.homework import display, services
from commonfactors_web.homework.models import Assignment


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (segno; no script, no external image)."""
    svg = segno.make(url, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")
    return svg.replace(
        "<svg ", '<svg role="img" aria-label="QR code of the homework and journal link" ', 1
    )


def _episode(client: Client) -> Episode:
    episode = current_episode(client)
    if episode is None:
        raise Http404("no episode")
    return episode


def _due(raw: str) -> tuple[date | None, list[str]]:
    if not raw.strip():
        return None, []
    try:
        return date.fromisoformat(raw.strip()), []
    except ValueError:
        return None, [f"“{raw.strip()}” is not a date"]


@require_POST
@login_required
def assignment_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    episode = _episode(client)
    due_on, problems = _due(str(request.POST.get("due_on", "")))
    form_id = str(request.POST.get("form_id", ""))
    try:
        if problems:
            raise services.HomeworkServiceError(problems)
        assignment = services.assign(
            episode,
            request.user,
            form_id,
            instructions=str(request.POST.get("instructions", "")),
            due_on=due_on,
        )
    except services.HomeworkServiceError as exc:
        messages.error(request, "The homework was not set: " + "; ".join(exc.problems) + ".")
    else:
        title = library.get_form(assignment.form_id).title
        messages.success(request, f"Homework set: {title}. The client sees it on their page.")
    return redirect(reverse("client_detail", args=[client.pk]) + "#homework-h")


def _assignment(request: HttpRequest, assignment_id: int) -> tuple[Assignment, Client]:
    assignment = (
        Assignment.objects.select_related("episode__client", "assigned_by")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise Http404("no such homework")
    client = access.client_for_view(request.user, assignment.episode.client_id)
    return assignment, client


@require_GET
@login_required
def assignment_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment, client = _assignment(request, assignment_id)
    form = library.get_form(assignment.form_id)
    entry = getattr(assignment, "entry", None) if assignment.status == "completed" else None
    record(request.user, "homework.view", client=client, obj=assignment)
    return render(
        request,
        "homework/assignment_detail.html",
        {
            "client": client,
            "assignment": assignment,
            "form": form,
            "entry": entry,
            "readable": display.readable(form, entry.data) if entry else [],
            "can_change": access.can_change_client(request.user, client),
        },
    )


@require_POST
@login_required
def assignment_withdraw(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment, client = _assignment(request, assignment_id)
    access.client_for_change(request.user, client.pk)
    if services.withdraw(assignment, request.user):
        messages.success(request, "The homework was withdrawn; the client no longer sees it.")
    else:
        messages.error(request, "Only homework still to do can be withdrawn.")
    return redirect(reverse("client_detail", args=[client.pk]) + "#homework-h")


@require_POST
@login_required
def link_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    episode = _episode(client)
    try:
        new = services.create_link(episode, request.user)
    except services.HomeworkServiceError as exc:
        messages.error(request, "; ".join(exc.problems))
        return redirect("client_detail", client.pk)
    url = request.build_absolute_uri(reverse("homework_client_home", args=[new.token]))
    wanted_email = request.POST.get("email") == "1"
    emailed = services.email_link(new.link, url, request.user) if wanted_email else False
    # Rendered, not redirected: the token exists in clear only in this response.
    return render(
        request,
        "homework/link_created.html",
        {
            "client": client,
            "link": new.link,
            "url": url,
            "qr": mark_safe(qr_svg(url)),  # segno's own SVG markup: no user input in it
            "emailed": emailed,
            "wanted_email": wanted_email,
        },
    )


@require_POST
@login_required
def link_revoke(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    link = services.active_link(_episode(client))
    if link is not None and services.revoke_link(link, request.user):
        messages.success(request, "The client's link was revoked: it no longer opens anything.")
    else:
        messages.error(request, "There is no working link to revoke.")
    return redirect(reverse("client_detail", args=[client.pk]) + "#homework-h")


@require_GET
@login_required
def shared_journal(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_view(request.user, client_id)
    episode = _episode(client)
    entries = list(services.shared_journal(episode))
    record(
        request.user,
        "journal.view_shared",
        client=client,
        entries=[e.pk for e in entries],
    )
    return render(
        request,
        "homework/shared_journal.html",
        {"client": client, "entries": entries},
    )
