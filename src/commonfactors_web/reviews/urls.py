"""The alerts inbox and the support review of an alert."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.alerts import views as alert_views
from commonfactors_web.reviews import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("alerts/", alert_views.alert_inbox, name="alert_inbox"),
    path("alerts/<int:alert_id>/review/", views.review, name="support_review"),
    path(
        "alerts/<int:alert_id>/review/questionnaire/",
        views.review_questionnaire,
        name="review_questionnaire",
    ),
]
