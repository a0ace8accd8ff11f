from __future__ import annotations

from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "commonfactors_web.practice"
    label = "practice"
    verbose_name = "Practice outcomes and therapist development"
