"""The import pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.imports import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("imports/", views.upload_page, name="imports"),
    path("imports/<int:pk>/", views.report_page, name="import_report"),
]
