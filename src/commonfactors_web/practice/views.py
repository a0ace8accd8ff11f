"""The practice pages: the supervisor's dashboard, a therapist's own profile and log, and
a team therapist's profile for their supervisor."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from commonfactors_web.accounts.models import User
from commonfactors_web.practice import services
from commonfactors_web.practice.forms import EntryForm, PeriodForm


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not services.is_supervisor(request.user):
        raise PermissionDenied("the practice dashboard is for supervisors")
    form = PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "practice/dashboard.html", {"form": form}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    board = services.dashboard(cast(User, request.user), data.get("since"), data.get("until"))
    return render(request, "practice/dashboard.html", {"form": form, "board": board})


@require_http_methods(["GET", "POST"])
@login_required
def my_profile(request: HttpRequest) -> HttpResponse:
    if not services.is_therapist(request.user):
        raise PermissionDenied("a profile is for therapists")
    form = EntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.add_entry(cast(User, request.user), **form.cleaned_data)
        messages.success(request, "Added to your development log.")
        return redirect("practice_me")
    view = services.own_profile(cast(User, request.user), cast(User, request.user))
    return render(
        request,
        "practice/profile.html",
        {"view": view, "form": form, "own": True},
        status=400 if form.errors else 200,
    )


@require_GET
@login_required
def therapist_profile(request: HttpRequest, therapist_id: int) -> HttpResponse:
    therapist = services.therapist_for_supervisor(request.user, therapist_id)
    view = services.own_profile(therapist, cast(User, request.user))
    return render(request, "practice/profile.html", {"view": view, "own": False})
