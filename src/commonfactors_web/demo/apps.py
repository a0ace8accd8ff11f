from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "commonfactors_web.demo"
    label = "demo"
    verbose_name = "Demo practice"
