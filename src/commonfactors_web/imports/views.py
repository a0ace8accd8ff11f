"""The import pages: upload → dry-run report → confirm."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from commonfactors_web.accounts import access
from commonfactors_web.imports import services


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A CSV table, a zip of CSV tables (e.g. an export), or FHIR JSON.",
    )
    therapist = forms.TypedChoiceField(label="Into the caseload of", coerce=int, required=False)

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["therapist"].choices = [
            (t.pk, t.get_full_name() or t.get_username()) for t in services.therapists_for(user)
        ]


@require_http_methods(["GET", "POST"])
@login_required
def upload_page(request: HttpRequest) -> HttpResponse:
    if not services.may_import(request.user):
        raise PermissionDenied("you may not import")
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            therapist = services.target_therapist(request.user, form.cleaned_data["therapist"])
            if upload.size > services.MAX_BYTES:
                raise services.ImportRefusedError(["the file is larger than 20 MB"])
        except services.ImportRefusedError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            pending = services.upload(request.user, therapist, upload.name, upload.read())
            return redirect("import_report", pk=pending.pk)
    return render(
        request,
        "imports/upload.html",
        {"form": form, "is_admin": access.is_practice_admin(request.user)},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def report_page(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.may_import(request.user):
        raise PermissionDenied("you may not import")
    pending = services.pending_for(request.user, pk)
    files = services.files_of(pending)
    context = {"pending": pending, "kinds": services.KINDS}
    if request.method == "POST":
        try:
            report = services.run_import(files, pending.therapist, request.user)
        except services.ImportRefusedError as exc:
            report = services.Report(problems=list(exc.problems))
            return render(request, "imports/report.html", {**context, "report": report}, status=400)
        pending.delete()
        return render(request, "imports/done.html", {**context, "report": report})
    report = services.dry_run(files, pending.therapist, request.user)
    return render(request, "imports/report.html", {**context, "report": report})
