"""The export page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.exports import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("exports/", views.export_page, name="exports"),
]
