"""The reminders pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.reminders import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("reminders/", views.reminders, name="reminders"),
]
