"""The plans pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.plans import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("clients/<int:client_id>/plan/", views.plan_detail, name="plan_detail"),
    path("clients/<int:client_id>/plan/edit/", views.plan_edit, name="plan_edit"),
    path("clients/<int:client_id>/plan/history/", views.plan_history, name="plan_history"),
    path("clients/<int:client_id>/plan/goals/new/", views.goal_add, name="goal_add"),
    path("clients/<int:client_id>/plan/goals/<int:goal_id>/", views.goal_edit, name="goal_edit"),
    path(
        "clients/<int:client_id>/plan/goals/<int:goal_id>/attainment/",
        views.goal_attainment,
        name="goal_attainment",
    ),
    path(
        "clients/<int:client_id>/plan/sessions/<int:number>/techniques/",
        views.session_techniques,
        name="session_techniques",
    ),
    path("practice/techniques/", views.practice_techniques, name="practice_techniques"),
    path(
        "practice/techniques/<int:technique_id>/",
        views.practice_technique_edit,
        name="practice_technique_edit",
    ),
    path(
        "practice/techniques/defaults/",
        views.practice_techniques_defaults,
        name="practice_techniques_defaults",
    ),
]
