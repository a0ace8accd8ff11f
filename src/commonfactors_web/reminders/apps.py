from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "commonfactors_web.reminders"
    label = "reminders"
    verbose_name = "Check-in schedule and reminders"
