"""The API (``/api/v1/``) and the page where a person makes and revokes their tokens."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from commonfactors_web.api import views
from commonfactors_web.api.errors import json_not_found
from commonfactors_web.api.v1 import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", views.api_index, name="api_index"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", json_not_found),
    path("api/tokens/", views.tokens, name="api_tokens"),
    path("api/tokens/<int:token_id>/revoke/", views.token_revoke, name="api_token_revoke"),
]
