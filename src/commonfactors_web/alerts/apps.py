from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "commonfactors_web.alerts"
    label = "alerts"
    verbose_name = "Signals and alerts"
