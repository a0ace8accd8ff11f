"""The practice view."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.practice import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("practice/", views.dashboard, name="practice_dashboard"),
    path("practice/me/", views.my_profile, name="practice_me"),
    path(
        "practice/therapists/<int:therapist_id>/",
        views.therapist_profile,
        name="practice_therapist",
    ),
]
