from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

from commonfactors_web.accounts.views import LoginView
from commonfactors_web.alerts import views as alert_views
from commonfactors_web.audit import views as audit_views
from commonfactors_web.checkins import client_views
from commonfactors_web.checkins import views as checkin_views
from commonfactors_web.clients import views as client_pages

admin.site.site_header = "commonfactors administration"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", client_pages.home, name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clients/", client_pages.caseload, name="caseload"),
    path("clients/new/", client_pages.client_new, name="client_new"),
    path("clients/<int:client_id>/", client_pages.client_detail, name="client_detail"),
    path("clients/<int:client_id>/checkins/", checkin_views.checkin_create, name="checkin_create"),
    path("checkins/<int:checkin_id>/", checkin_views.checkin_detail, name="checkin_detail"),
    path(
        "alerts/<int:alert_id>/acknowledge/",
        alert_views.alert_acknowledge,
        name="alert_acknowledge",
    ),
    path("alerts/<int:alert_id>/resolve/", alert_views.alert_resolve, name="alert_resolve"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("", include("commonfactors_web.plans.urls")),
    path("", include("commonfactors_web.reviews.urls")),
    path("", include("commonfactors_web.homework.urls")),
    path("", include("commonfactors_web.reminders.urls")),
    path("", include("commonfactors_web.exports.urls")),
    path("", include("commonfactors_web.practice.urls")),
    path("", include("commonfactors_web.imports.urls")),
    path("", include("commonfactors_web.reports.urls")),
    path("", include("commonfactors_web.api.urls")),
    path("c/done/", client_views.checkin_done, name="checkin_done"),
    path("c/<str:token>/", client_views.checkin_form, name="checkin_form"),
    path("admin/", admin.site.urls),
]

if settings.SERVE_STATIC:
    urlpatterns.append(
        re_path(
            r"^static/(?P<path>.*)$",
            serve,
            {"document_root": settings.PACKAGE_DIR / "static"},
        )
    )
