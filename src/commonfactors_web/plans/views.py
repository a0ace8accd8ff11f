"""The treatment plan pages of a client, and the practice's technique catalogue.

Who may do what is decided in ``accounts.access``: the client's therapist reads and
changes the plan, a supervisor of the team reads it, everyone else gets 404. Every page
that shows client data is audited; every change goes through ``plans.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonfactors_web.accounts import access
from commonfactors_web.accounts.models import Practice
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.instruments import short_name
from commonfactors_web.checkins.models import MeasurementPlan
from commonfactors_web.checkins.services import default_plan
from commonfactors_web.clients.models import Client, Episode
from commonfactors_web.clients.services import current_episode
from commonfactors_web.plans import forms, services
from commonfactors_web.plans.models import GAS_FIELDS, Goal, GoalStatus, PracticeTechnique
from commonfactors_web.plans.progress import GOALS, gas_history, goal_progress
from commonfactors_web.plans.versions import GAS_LABELS, PLAN_FIELDS


def _episode(client: Client) -> Episode:
    episode = current_episode(client)
    if episode is None:
        raise Http404("no episode")
    return episode


def _goal(client: Client, goal_id: int) -> Goal:
    goal = Goal.objects.filter(pk=goal_id, episode__client=client).select_related("episode")
    return get_object_or_404(goal)


def schedule_text(plan: MeasurementPlan | None) -> list[str]:
    """The measurement plan's schedule in words, one line per instrument."""
    if plan is None:
        return []
    lines = []
    for e in plan.schedule:
        every = int(e.get("every", 1))
        often = "every session" if every == 1 else f"every {every} sessions"
        name = short_name(str(e["instrument"]))
        lines.append(f"{name}: from session {int(e.get('first_session', 1))}, {often}")
    return lines


def _plan_choices(plan: Any) -> dict[str, Any]:
    """The plan's fields as label → value to show, section by section."""
    shown: dict[str, list[tuple[str, str]]] = {"Preferences": [], "Cultural formulation": []}
    for field, (section, label, choices) in PLAN_FIELDS.items():
        if section not in shown:
            continue
        value = getattr(plan, field)
        text = str(choices(value).label) if choices is not None and value else value
        shown[section].append((label, text))
    return shown


@require_GET
@login_required
def plan_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_view(request.user, client_id)
    episode = _episode(client)
    plan = services.plan_of(episode)
    goals = list(episode.goals.prefetch_related("attainments").order_by("position", "created_at"))
    active = [g for g in goals if g.status == GoalStatus.ACTIVE]
    closed = sorted(
        (g for g in goals if g.status != GoalStatus.ACTIVE),
        key=lambda g: g.closed_at or g.created_at,
        reverse=True,
    )
    progress = {p.goal.pk: p for p in goal_progress(episode, goals)}
    techniques = {t.slug: t for t in services.catalogue(client.practice_id, active_only=False)}
    measurement = episode.measurement_plan or default_plan(client.practice)
    can_change = access.can_change_client(request.user, client)
    room = len(active) < services.MAX_GOALS
    record(request.user, "plan.view", client=client, obj=plan if plan.pk else None)
    return render(
        request,
        "plans/plan_detail.html",
        {
            "client": client,
            "episode": episode,
            "plan": plan,
            "can_change": can_change,
            "active_goals": [progress[g.pk] for g in active],
            "closed_goals": [progress[g.pk] for g in closed],
            "gas": gas_history(goals),
            "goal_form": forms.GoalForm() if can_change and room else None,
            "max_goals": services.MAX_GOALS,
            "planned": services.grouped(techniques[s] for s in plan.techniques if s in techniques),
            "measurement": measurement,
            "measurement_is_default": episode.measurement_plan_id is None,
            "schedule": schedule_text(measurement),
            "rates_goals": measurement is not None
            and any(e.get("instrument") == GOALS for e in measurement.schedule),
            "sessions": [
                (s, [techniques[t].name if t in techniques else t for t in s.techniques])
                for s in episode.sessions.order_by("-number")
            ],
            "shown": _plan_choices(plan),
            "version_count": episode.plan_versions.count(),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def plan_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    episode = _episode(client)
    plan = services.plan_of(episode)
    offered = services.catalogue(client.practice_id)
    planned_off = [
        t
        for t in services.catalogue(client.practice_id, active_only=False)
        if not t.active and t.slug in plan.techniques
    ]
    initial = {f: getattr(plan, f) for f in PLAN_FIELDS} | {
        "modality": episode.modality,
        "measurement_plan": episode.measurement_plan_id,
    }
    form = forms.PlanForm(
        request.POST or None,
        initial=initial,
        plans=MeasurementPlan.objects.filter(practice=client.practice).order_by("name"),
        techniques=offered + planned_off,
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = services.update_plan(episode, request.user, form.cleaned_data)
        except services.PlanError as exc:
            forms.show_problems(form, exc.problems)
        else:
            messages.success(
                request,
                f"Plan saved as version {version.number}." if version else "Nothing changed.",
            )
            return redirect("plan_detail", client.pk)
    else:
        record(request.user, "plan.view", client=client, obj=plan if plan.pk else None, form=True)
    return render(
        request,
        "plans/plan_edit.html",
        {
            "client": client,
            "form": form,
            "technique_groups": services.grouped(offered + planned_off),
            "modalities": services.modality_names().values(),
        },
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def goal_add(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    episode = _episode(client)
    form = forms.GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            goal = services.add_goal(
                episode, request.user, form.cleaned_data["text"], form.cleaned_data["agreed_on"]
            )
        except services.PlanError as exc:
            forms.show_problems(form, exc.problems)
        else:
            messages.success(request, f"Goal {goal.position} agreed.")
            return redirect("plan_detail", client.pk)
    elif request.method == "GET":
        record(request.user, "goal.new.view", client=client, obj=episode)
    return render(
        request,
        "plans/goal_form.html",
        {"client": client, "form": form, "goal": None},
        status=422 if form.errors else 200,
    )


def _goal_initial(goal: Goal) -> dict[str, Any]:
    return {
        "text": goal.text,
        "agreed_on": goal.agreed_on,
        "status": goal.status,
        "gas_weight": goal.gas_weight,
    } | {name: getattr(goal, name) for name in GAS_FIELDS.values()}


@require_http_methods(["GET", "POST"])
@login_required
def goal_edit(request: HttpRequest, client_id: int, goal_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    goal = _goal(client, goal_id)
    form = forms.GoalEditForm(request.POST or None, initial=_goal_initial(goal))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_goal(
                goal,
                request.user,
                text=data["text"],
                agreed_on=data["agreed_on"],
                status=data["status"],
                gas=form.gas(),
                gas_weight=data["gas_weight"],
            )
        except services.PlanError as exc:
            forms.show_problems(form, exc.problems)
        else:
            messages.success(request, f"Goal {goal.position} saved.")
            return redirect("plan_detail", client.pk)
    else:
        record(request.user, "goal.view", client=client, obj=goal)
    return render(
        request,
        "plans/goal_form.html",
        {
            "client": client,
            "form": form,
            "goal": goal,
            "attainment_form": forms.AttainmentForm() if goal.scaled else None,
            "levels": [(v, GAS_LABELS[v], text) for v, text in goal.gas_levels.items()],
            "attainments": goal.attainments.order_by("-rated_on"),
        },
        status=422 if form.errors else 200,
    )


@require_POST
@login_required
def goal_attainment(request: HttpRequest, client_id: int, goal_id: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    goal = _goal(client, goal_id)
    form = forms.AttainmentForm(request.POST)
    problems: tuple[str, ...] = ()
    if form.is_valid():
        try:
            services.rate_attainment(
                goal, request.user, form.cleaned_data["level"], form.cleaned_data["rated_on"]
            )
        except services.PlanError as exc:
            problems = exc.problems
    else:
        problems = tuple(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
    for p in problems:
        messages.error(request, p)
    if not problems:
        messages.success(request, f"Attainment of goal {goal.position} recorded.")
    return redirect("goal_edit", client.pk, goal.pk)


@require_http_methods(["GET", "POST"])
@login_required
def session_techniques(request: HttpRequest, client_id: int, number: int) -> HttpResponse:
    client = access.client_for_change(request.user, client_id)
    episode = _episode(client)
    session = get_object_or_404(episode.sessions, number=number)
    catalogue = services.catalogue(client.practice_id, active_only=False)
    offered = [t for t in catalogue if t.active or t.slug in session.techniques]
    plan = services.plan_of(episode)
    form = forms.TechniquesForm(
        request.POST or None, initial={"techniques": session.techniques}, techniques=offered
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_session_techniques(session, request.user, form.cleaned_data["techniques"])
        except services.PlanError as exc:
            forms.show_problems(form, exc.problems)
        else:
            messages.success(request, f"Techniques of session {number} saved.")
            return redirect("plan_detail", client.pk)
    else:
        record(request.user, "session.techniques.view", client=client, obj=session)
    planned = [t for t in offered if t.slug in plan.techniques]
    others = [t for t in offered if t.slug not in plan.techniques]
    return render(
        request,
        "plans/session_techniques.html",
        {
            "client": client,
            "session": session,
            "form": form,
            "selected": set(form["techniques"].value() or []),
            "planned": planned,
            "other_groups": services.grouped(others),
            "others_chosen": any(t.slug in (form["techniques"].value() or []) for t in others),
        },
        status=422 if form.errors else 200,
    )


@require_GET
@login_required
def plan_history(request: HttpRequest, client_id: int) -> HttpResponse:
    client = access.client_for_view(request.user, client_id)
    episode = _episode(client)
    record(request.user, "plan.history.view", client=client, obj=episode)
    return render(
        request,
        "plans/plan_history.html",
        {
            "client": client,
            "episode": episode,
            "versions": episode.plan_versions.select_related("created_by").order_by("-number"),
        },
    )


# ------------------------------------------------------------------ the practice catalogue


def _practice_for_admin(user: Any) -> Practice:
    """The practice whose catalogue ``user`` manages: its admins only."""
    if not access.is_practice_admin(user):
        raise PermissionDenied("the practice's admins manage its techniques")
    return Practice.objects.get(pk=user.practice_id)


@require_http_methods(["GET", "POST"])
@login_required
def practice_techniques(request: HttpRequest) -> HttpResponse:
    practice = _practice_for_admin(request.user)
    modalities = services.modality_names()
    form = forms.TechniqueForm(request.POST or None, modalities=modalities, new=True)
    if request.method == "POST" and form.is_valid():
        try:
            technique = services.save_technique(practice, request.user, **form.cleaned_data)
        except services.PlanError as exc:
            forms.show_problems(form, exc.problems)
        else:
            messages.success(request, f"“{technique.name}” added.")
            return redirect("practice_techniques")
    techniques = services.catalogue(practice, active_only=False)
    return render(
        request,
        "plans/practice_techniques.html",
        {
            "practice": practice,
            "groups": services.grouped(techniques),
            "form": form,
            "missing_defaults": services.missing_defaults(practice),
        },
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def practice_technique_edit(request: HttpRequest, technique_id: int) -> HttpResponse:
    practice = _practice_for_admin(request.user)
    technique = get_object_or_404(PracticeTechnique, pk=technique_id, practice=practice)
    initial = {
        "name": technique.name,
        "modality": technique.modality,
        "description": technique.description,
        "source": technique.source,
        "active": technique.active,
    }
    form = forms.TechniqueForm(
        request.POST or None, initial=initial, modalities=services.modality_names(), new=False
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_technique(
                practice, request.user, technique=technique, **form.cleaned_data
            )
        except services.PlanError as exc:
            forms.show_problems(form, exc.problems)
        else:
            messages.success(request, f"“{technique.name}” saved.")
            return redirect("practice_techniques")
    return render(
        request,
        "plans/technique_form.html",
        {"practice": practice, "technique": technique, "form": form},
        status=422 if form.errors else 200,
    )


@require_POST
@login_required
def practice_techniques_defaults(request: HttpRequest) -> HttpResponse:
    practice = _practice_for_admin(request.user)
    added = services.seed_techniques(practice)
    record(request.user, "technique.defaults", obj=practice, added=added)
    messages.success(
        request,
        f"{added} default technique(s) added." if added else "All defaults are in the list.",
    )
    return redirect("practice_techniques")
