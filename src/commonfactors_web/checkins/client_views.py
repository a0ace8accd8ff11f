"""The client's side: ``/c/<token>/``. No account, nothing but the form.

Unknown, expired and used links all get the same plain page (status 404); an address that
sends too many bad links is throttled (429, the same page). After the last instrument the
client is sent to ``/c/done/``, which shows crisis information at once when an answer
raised a risk item; what it shows comes from the client's own browser session, never from
the (now used) link.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from commonfactors_web.audit.services import CLIENT_VIA_LINK, record
from commonfactors_web.checkins import services
from commonfactors_web.checkins.instruments import GOALS, Form, goal_form, only_asked, parse_answers
from commonfactors_web.checkins.instruments import form as instrument_form
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.plans.services import goal_texts
from commonfactors_web.throttle import Throttle, client_address

DONE_KEY = "cf_checkin_done"


def _bad_links() -> Throttle:
    return Throttle(
        "bad-link", settings.CF_BAD_TOKEN_ATTEMPTS, settings.CF_BAD_TOKEN_WINDOW_SECONDS
    )


def _unavailable(request: HttpRequest, *, count: bool = True) -> HttpResponse:
    if count:
        _bad_links().hit(client_address(request))
    return render(request, "checkins/client/unavailable.html", status=404)


def _throttled(request: HttpRequest) -> HttpResponse:
    return render(request, "checkins/client/unavailable.html", {"throttled": True}, status=429)


def crisis_text(checkin: CheckIn) -> str:
    practice = checkin.episode.client.practice
    return practice.crisis_text or settings.CF_DEFAULT_CRISIS_TEXT


def _shown(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _form(checkin: CheckIn, instrument: str) -> Form:
    form = instrument_form(instrument, checkin.episode.client.preferred_language)
    if instrument == GOALS:  # the client's own goals, and only those agreed
        form = goal_form(form, goal_texts(checkin.episode))
    return form


def _page(
    request: HttpRequest,
    checkin: CheckIn,
    instrument: str,
    *,
    values: dict[str, Any] | None = None,
    problems: tuple[str, ...] = (),
    risk: bool = False,
    status: int = 200,
) -> HttpResponse:
    total = len(checkin.instruments)
    step = checkin.instruments.index(instrument) + 1
    form = _form(checkin, instrument)
    given = values or {}
    questions = [(q, _shown(given.get(q.id))) for q in form.questions]
    return render(
        request,
        "checkins/client/form.html",
        {
            "form": form,
            "questions": questions,
            "problems": problems,
            "step": step,
            "total": total,
            "last": step == total,
            "crisis": crisis_text(checkin) if risk or services.risk_in_draft(checkin) else "",
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def checkin_form(request: HttpRequest, token: str) -> HttpResponse:
    if _bad_links().blocked(client_address(request)):
        return _throttled(request)
    checkin = services.find_open(token)
    if checkin is None:
        done = request.session.get(DONE_KEY)
        if request.method == "POST" and done and done.get("hash") == services.hash_token(token):
            return redirect("checkin_done")  # a repeated final submit: nothing stored twice
        return _unavailable(request)
    instrument = services.next_instrument(checkin)
    if instrument is None:  # cannot happen: the last answer submits
        return _unavailable(request, count=False)
    if request.method == "GET":
        record(
            CLIENT_VIA_LINK,
            "checkin.open",
            client=checkin.episode.client,
            obj=checkin,
            instrument=instrument,
        )
        return _page(request, checkin, instrument)
    posted = request.POST.get("instrument", "")
    if posted != instrument:
        return redirect("checkin_form", token)  # a refresh or the back button: show the next
    answers = parse_answers(instrument, request.POST)
    if instrument == GOALS:
        answers = only_asked(answers, _form(checkin, instrument))
        if all(v is None for v in answers.values()):
            problems = ("Please rate at least one of your goals.",)
            return _page(request, checkin, instrument, problems=problems, status=422)
    result = services.answer(checkin.pk, instrument, answers)
    if result.status == "invalid":
        return _page(
            request,
            checkin,
            instrument,
            values=answers,
            problems=result.problems,
            risk=result.risk,
            status=422,
        )
    if result.status == "gone":
        return _unavailable(request, count=False)
    if result.status == "submitted":
        request.session[DONE_KEY] = {
            "hash": services.hash_token(token),
            "risk": result.risk,
            "crisis": crisis_text(checkin) if result.risk else "",
        }
        return redirect("checkin_done")
    return redirect("checkin_form", token)


@never_cache
@require_GET
def checkin_done(request: HttpRequest) -> HttpResponse:
    done = request.session.get(DONE_KEY)
    if not done:
        return _unavailable(request, count=False)
    return render(request, "checkins/client/done.html", {"crisis": done.get("crisis", "")})
