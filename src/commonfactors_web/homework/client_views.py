"""The client's side: ``/h/<token>/``. No account: the long-lived private link is the key.

Unknown, expired and revoked links (and links of an ended episode) all get the same plain
page (status 404) that reveals nothing; an address that sends too many bad links is
throttled (429) — the same counter as bad check-in links. The journal is saved as the client
types (``journal/save/``, a JSON endpoint called by ``homework/journal.js``) and by a plain
Save button that works without JavaScript.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonfactors import homework as library
from commonfactors_web.audit.services import CLIENT_VIA_LINK, record
from commonfactors_web.homework import display, services
from commonfactors_web.homework.models import (
    Assignment,
    AssignmentStatus,
    ClientLink,
    JournalEntry,
)
from commonfactors_web.throttle import Throttle, client_address

SAVED_KEY = "cf_journal_saved"

View = Callable[..., HttpResponse]


def _bad_links() -> Throttle:
    # one counter with bad check-in links: two kinds of link do not double the guesses
    return Throttle(
        "bad-link", settings.CF_BAD_TOKEN_ATTEMPTS, settings.CF_BAD_TOKEN_WINDOW_SECONDS
    )


def _unavailable(request: HttpRequest, *, status: int = 404) -> HttpResponse:
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"error": "This link is not available."}, status=status)
    return render(
        request, "homework/client/unavailable.html", {"throttled": status == 429}, status=status
    )


def with_link(view: View) -> View:
    """Resolve ``token`` to a working link (or the plain page), counting bad tokens."""

    @wraps(view)
    def wrapped(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        address = client_address(request)
        if _bad_links().blocked(address):
            return _unavailable(request, status=429)
        link = services.find_link(token)
        if link is None:
            _bad_links().hit(address)
            return _unavailable(request)
        return view(request, link, token, *args, **kwargs)

    return wrapped


def _crisis(link: ClientLink) -> str:
    return link.episode.client.practice.crisis_text or settings.CF_DEFAULT_CRISIS_TEXT


def _scope(link: ClientLink) -> str:
    """A stable, non-secret name for this client's drafts in the browser's storage."""
    return salted_hmac("homework.journal.scope", str(link.episode_id)).hexdigest()[:16]


# ------------------------------------------------------------------ the client's page


@never_cache
@require_GET
@with_link
def home(request: HttpRequest, link: ClientLink, token: str) -> HttpResponse:
    services.link_opened(link)
    episode = link.episode
    done = Assignment.objects.filter(episode=episode, status=AssignmentStatus.COMPLETED).order_by(
        "-completed_at"
    )[:10]
    todo = [(a, library.get_form(a.form_id)) for a in services.open_assignments(episode)]
    return render(
        request,
        "homework/client/home.html",
        {
            "token": token,
            "todo": todo,
            "done": [(a, library.get_form(a.form_id)) for a in done],
            "journal": services.journal_of(link)[:50],
            "saved_key": request.session.pop(SAVED_KEY, ""),
            "scope": _scope(link),
            "crisis": _crisis(link),
            "today": timezone.localdate(),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@with_link
def homework_form(
    request: HttpRequest, link: ClientLink, token: str, assignment_id: int
) -> HttpResponse:
    assignment = Assignment.objects.filter(pk=assignment_id, episode_id=link.episode_id).first()
    if assignment is None:
        return _unavailable(request)
    form = library.get_form(assignment.form_id)
    if assignment.status != AssignmentStatus.ASSIGNED:
        messages.info(request, f"“{form.title}” is not waiting for you any more.")
        return redirect("homework_client_home", token)
    context: dict[str, Any] = {
        "token": token,
        "assignment": assignment,
        "form": form,
        "crisis": _crisis(link),
    }
    if request.method == "GET":
        record(
            CLIENT_VIA_LINK,
            "homework.open",
            client=link.episode.client,
            obj=assignment,
            form=assignment.form_id,
        )
        context["fields"] = display.form_fields(form)
        return render(request, "homework/client/form.html", context)
    given = display.entry_from_post(form, request.POST)
    add_row = str(request.POST.get("add_row", ""))
    if add_row:  # "add another row": show the form again with one more empty row
        context["fields"] = display.form_fields(form, given, add_row=add_row)
        context["focus_row"] = add_row
        return render(request, "homework/client/form.html", context)
    result = services.submit(link, assignment.pk, given)
    if result.status == "invalid":
        context["fields"] = display.form_fields(form, given, result.by_field)
        context["problems"] = display.problem_links(result.by_field)
        return render(request, "homework/client/form.html", context, status=422)
    if result.status == "gone":
        messages.info(request, f"“{form.title}” had been sent already.")
    else:
        messages.success(
            request, f"Thank you. Your {form.title.lower()} was sent to your therapist."
        )
    return redirect("homework_client_home", token)


# ------------------------------------------------------------------ the journal


def _editor(
    request: HttpRequest,
    link: ClientLink,
    token: str,
    *,
    key: uuid.UUID,
    text: str,
    shared: bool,
    entry: JournalEntry | None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "homework/client/journal.html",
        {
            "token": token,
            "key": key,
            "text": text,
            "shared": shared,
            "entry": entry,
            "error": error,
            "scope": _scope(link),
            "max_chars": library.JOURNAL_MAX_CHARS,
            "crisis": _crisis(link),
        },
        status=status,
    )


def _posted(request: HttpRequest) -> tuple[uuid.UUID | None, str, bool]:
    try:
        key = uuid.UUID(str(request.POST.get("key", "")))
    except ValueError:
        key = None
    return key, str(request.POST.get("text", "")), request.POST.get("shared") == "1"


def _save_from_form(
    request: HttpRequest, link: ClientLink, token: str, entry: JournalEntry | None
) -> HttpResponse:
    key, text, shared = _posted(request)
    if key is None or (entry is not None and key != entry.key):
        return _unavailable(request)
    try:
        saved = services.save_journal(link, key, text, shared)
    except library.JournalError as exc:
        return _editor(
            request,
            link,
            token,
            key=key,
            text=text,
            shared=shared,
            entry=entry,
            error=str(exc),
            status=422,
        )
    except services.JournalKeyError:
        return _unavailable(request)
    if saved.entry is None:
        return _editor(
            request,
            link,
            token,
            key=key,
            text=text,
            shared=shared,
            entry=entry,
            error="Write something first: an empty entry is not kept.",
            status=422,
        )
    request.session[SAVED_KEY] = str(key)
    who = "you and your therapist" if shared else "only you"
    messages.success(request, f"Your journal entry is saved. It can be read by {who}.")
    return redirect("homework_client_home", token)


@never_cache
@require_http_methods(["GET", "POST"])
@with_link
def journal_new(request: HttpRequest, link: ClientLink, token: str) -> HttpResponse:
    if request.method == "POST":
        return _save_from_form(request, link, token, None)
    return _editor(request, link, token, key=uuid.uuid4(), text="", shared=False, entry=None)


@never_cache
@require_http_methods(["GET", "POST"])
@with_link
def journal_edit(
    request: HttpRequest, link: ClientLink, token: str, key: uuid.UUID
) -> HttpResponse:
    entry = JournalEntry.objects.filter(key=key, episode_id=link.episode_id).first()
    if entry is None:
        return _unavailable(request)
    if request.method == "POST":
        return _save_from_form(request, link, token, entry)
    record(CLIENT_VIA_LINK, "journal.open", client=link.episode.client, obj=entry)
    return _editor(
        request,
        link,
        token,
        key=entry.key,
        text=entry.text,
        shared=entry.shared_with_therapist,
        entry=entry,
    )


@never_cache
@require_POST
@with_link
def journal_save(request: HttpRequest, link: ClientLink, token: str) -> HttpResponse:
    """The autosave endpoint: JSON back, never a page."""
    key, text, shared = _posted(request)
    if key is None:
        return JsonResponse({"error": "The entry has no key."}, status=400)
    try:
        saved = services.save_journal(link, key, text, shared)
    except library.JournalError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except services.JournalKeyError:
        return JsonResponse({"error": "This link is not available."}, status=404)
    entry = saved.entry
    if entry is None:
        return JsonResponse({"saved": False, "key": str(key)})
    return JsonResponse(
        {
            "saved": True,
            "key": str(entry.key),
            "shared": entry.shared_with_therapist,
            "updated_at": timezone.localtime(entry.updated_at).strftime("%H:%M"),
            "edit_url": reverse("homework_journal_edit", args=[token, entry.key]),
        }
    )
