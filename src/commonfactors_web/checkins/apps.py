from __future__ import annotations

from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "commonfactors_web.checkins"
    label = "checkins"
    verbose_name = "Check-ins, administrations and scores"
