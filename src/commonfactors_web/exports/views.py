"""The export page: a form that answers with a download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from commonfactors_web.audit.services import record
from commonfactors_web.exports import services
from commonfactors_web.exports.forms import ExportForm


@require_http_methods(["GET", "POST"])
@login_required
def export_page(request: HttpRequest) -> HttpResponse:
    if not services.scopes_for(request.user):
        raise PermissionDenied("nothing you may export")
    form = ExportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = services.export_for(
                request.user,
                scope=data["scope"],
                fmt=data["format"],
                since=data["since"],
                until=data["until"],
                client_id=data["client"] if data["scope"] == "client" else None,
                identified=data["identified"],
            )
        except services.ExportRefusedError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            response = HttpResponse(export.content, content_type=export.content_type)
            response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
            response["Cache-Control"] = "no-store"
            return response
    listed = [pk for pk, _ in form.fields["client"].choices if pk != ""]
    record(request.user, "exports.view", clients=listed)
    return render(
        request,
        "exports/export.html",
        {
            "form": form,
            "recent": services.recent_exports(request.user),
            "is_admin": services.may_identify(request.user),
        },
        status=400 if form.errors else 200,
    )
