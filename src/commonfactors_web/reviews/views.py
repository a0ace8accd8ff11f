"""The support review of an alert: the structured form, the suggested adaptations, saving
(which resolves the alert), the questionnaire sent to the client, and the saved review with
its closed loop.

Who may do what (``accounts.access``): the client's therapist reviews; a supervisor of the
team sees the review and the saved record read-only; anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from commonfactors import support
from commonfactors_web.accounts import access
from commonfactors_web.alerts.models import Alert
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.instruments import short_name
from commonfactors_web.clients.models import Client
from commonfactors_web.homework.services import completion
from commonfactors_web.reviews import forms, services
from commonfactors_web.reviews.explain import explain_all
from commonfactors_web.reviews.models import SupportReview


def _qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (segno's own markup; no script, no user input)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    return svg.replace(
        "<svg ", '<svg role="img" aria-label="QR code of the questionnaire link" ', 1
    )


def _reviewable_alert(request: HttpRequest, alert_id: int) -> tuple[Alert, Client]:
    """The alert and its client, if the user may see the client (else 404); 404 too for a
    risk alert, which is resolved on the client page and never through a review."""
    alert = (
        Alert.objects.select_related("episode__client__therapist", "resolved_by")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise Http404("no such alert")
    client = access.client_for_view(request.user, alert.episode.client_id)
    if not alert.is_reviewable:
        raise Http404("risk alerts are resolved on the client page")
    return alert, client


def _saved_context(review: SupportReview) -> dict[str, Any]:
    factors = [services.FactorRow.from_dict(f) for f in review.factors]
    return {
        "review": review,
        "domains": forms.domain_forms(review.answers, factors),
        "answers": [
            (support.default_review().question(q), v)
            for q, v in review.answers.items()
            if q in {x.id for x in support.default_review().questions}
        ],
        "adaptations": list(review.adaptations.select_related("created_by")),
        "answered": list(review.answered_alerts.all()),
        "loop": services.closed_loop(review),
        "factor_name": short_name(review.factor) if review.factor else "",
    }


def _page(
    request: HttpRequest,
    alert: Alert,
    client: Client,
    *,
    answers: dict[str, Any] | None = None,
    suggestions: list[support.Suggestion] | None = None,
    posted: forms.PostedChoices | None = None,
    problems: tuple[str, ...] = (),
    new_link: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    can_change = access.can_change_client(request.user, client)
    [why] = explain_all([alert])
    context: dict[str, Any] = {
        "alert": alert,
        "client": client,
        "why": why,
        "can_change": can_change,
        "problems": problems,
        "new_link": new_link,
    }
    review = services.review_of(alert)
    if review is not None:
        context.update(_saved_context(review))
        return render(request, "reviews/review.html", context, status=status)
    factors = services.latest_factors(alert.episode)
    context.update(
        domains=forms.domain_forms(answers or {}, factors),
        factors=factors,
        suggested=suggestions is not None,
        suggestions=forms.suggestion_fields(suggestions or [], posted),
        own=forms.own_fields(posted),
        notes=posted.notes if posted else "",
        others=[
            (a, posted is None or a.pk in posted.also) for a in services.other_open_alerts(alert)
        ],
        questionnaires=services.questionnaires_of(alert),
        homework=completion(alert.episode),
        questionnaire_names=[short_name(i) for i in services.questionnaire_instruments()],
    )
    return render(request, "reviews/review.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def review(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert, client = _reviewable_alert(request, alert_id)
    if request.method == "GET":
        record(request.user, "review.view", client=client, obj=alert)
        return _page(request, alert, client)
    access.client_for_change(request.user, client.pk)
    if not alert.is_open:
        messages.error(request, "This alert is resolved already.")
        return redirect("support_review", alert.pk)
    answers = forms.posted_answers(request.POST)
    posted = forms.posted_choices(request.POST)
    try:
        _, suggestions = services.suggestions_for(alert, answers)
    except support.SupportError as exc:
        record(request.user, "review.suggest", client=client, obj=alert, valid=False)
        return _page(request, alert, client, answers=answers, problems=exc.problems, status=400)
    if request.POST.get("action") != "save":
        record(
            request.user,
            "review.suggest",
            client=client,
            obj=alert,
            rules=[s.rule for s in suggestions],
        )
        return _page(request, alert, client, answers=answers, suggestions=suggestions)
    try:
        if not posted.also_ok:
            raise services.ReviewError("the support review cannot be saved", ["unknown alert"])
        services.save_review(
            alert,
            request.user,
            answers,
            chosen=posted.chosen,
            own=posted.own,
            notes=posted.notes,
            also=posted.also,
        )
    except services.ReviewError as exc:
        return _page(
            request,
            alert,
            client,
            answers=answers,
            suggestions=suggestions,
            posted=posted,
            problems=exc.problems,
            status=400,
        )
    messages.success(request, "Support review saved; the alert is resolved.")
    return redirect("support_review", alert.pk)


@require_POST
@login_required
def review_questionnaire(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert, client = _reviewable_alert(request, alert_id)
    access.client_for_change(request.user, client.pk)
    try:
        link = services.send_questionnaire(alert, request.user)
    except services.ReviewError as exc:
        messages.error(request, str(exc.problems[0]))
        return redirect("support_review", alert.pk)
    url = request.build_absolute_uri(reverse("checkin_form", args=[link.token]))
    # Rendered, not redirected: the token exists in clear only in this response.
    new_link = {
        "url": url,
        "qr": mark_safe(_qr_svg(url)),  # segno's own SVG markup
        "checkin": link.checkin,
    }
    return _page(request, alert, client, new_link=new_link)
