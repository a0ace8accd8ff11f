"""The report pages: each shows its options and answers with the PDF once they are given
(a read of records, so a GET)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from commonfactors_web.accounts import access
from commonfactors_web.audit.services import record
from commonfactors_web.clients.services import current_episode
from commonfactors_web.reports import practice, services
from commonfactors_web.reports.forms import PeriodForm, ReportForm


@require_GET
@login_required
def client_report(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_view(request.user, client_id)
    asked = "audience" in request.GET
    form = ReportForm(request.GET if asked else None, initial={"audience": services.CLIENT})
    if asked and form.is_valid():
        report = services.client_report(
            request.user,
            client,
            audience=form.cleaned_data["audience"],
            include_private=form.cleaned_data["include_private"],
        )
        response = HttpResponse(report.content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
        response["Cache-Control"] = "no-store"
        return response
    record(request.user, "report.options", client=client, obj=client)
    return render(
        request,
        "reports/options.html",
        {"client": client, "episode": current_episode(client), "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
@login_required
def practice_report(request: HttpRequest) -> HttpResponse:
    if not practice.may_make(request.user):
        raise PermissionDenied("the practice report is for supervisors")
    asked = "period" in request.GET
    form = PeriodForm(request.GET if asked else None)
    if asked and form.is_valid():
        report = practice.practice_report(
            request.user, since=form.cleaned_data["since"], until=form.cleaned_data["until"]
        )
        response = HttpResponse(report.content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "reports/practice_options.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
