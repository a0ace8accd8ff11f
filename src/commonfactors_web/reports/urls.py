"""The reports: each a page of options that answers with the PDF."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.reports import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("clients/<int:client_id>/report/", views.client_report, name="client_report"),
    path("reports/practice/", views.practice_report, name="practice_report"),
]
