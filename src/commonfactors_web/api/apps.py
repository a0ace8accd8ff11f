from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "commonfactors_web.api"
    label = "api"
    verbose_name = "REST API and API tokens"
