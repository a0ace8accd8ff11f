"""Treatment plans: goals agreed with the client, modality and techniques, preferences, the
cultural formulation; every change versioned."""

from __future__ import annotations

from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "commonfactors_web.plans"
    label = "plans"
    verbose_name = "Treatment plans: goals, techniques, preferences, cultural formulation"
