"""The homework pages: the therapist's (assign, the client's link, entries, shared journal)
and the client's own pages under ``/h/<token>/`` (no account; the link is the key)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from commonfactors_web.homework import client_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "clients/<int:client_id>/homework/assign/",
        views.assignment_create,
        name="homework_assign",
    ),
    path(
        "clients/<int:client_id>/homework/link/",
        views.link_create,
        name="homework_link_create",
    ),
    path(
        "clients/<int:client_id>/homework/link/revoke/",
        views.link_revoke,
        name="homework_link_revoke",
    ),
    path(
        "clients/<int:client_id>/journal/",
        views.shared_journal,
        name="homework_shared_journal",
    ),
    path("homework/<int:assignment_id>/", views.assignment_detail, name="homework_assignment"),
    path(
        "homework/<int:assignment_id>/withdraw/",
        views.assignment_withdraw,
        name="homework_withdraw",
    ),
    # the client's pages
    path("h/<str:token>/", client_views.home, name="homework_client_home"),
    path(
        "h/<str:token>/homework/<int:assignment_id>/",
        client_views.homework_form,
        name="homework_client_form",
    ),
    path("h/<str:token>/journal/new/", client_views.journal_new, name="homework_journal_new"),
    path("h/<str:token>/journal/save/", client_views.journal_save, name="homework_journal_save"),
    path(
        "h/<str:token>/journal/<uuid:key>/",
        client_views.journal_edit,
        name="homework_journal_edit",
    ),
]
