"""Treatment plans: goals agreed with the client, modality and techniques, preferences, the
cultural formulation; every change versioned."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import pre_save


class PlansConfig(AppConfig):
    name = "commonfactors_web.plans"
    label = "plans"
    verbose_name = "Treatment plans: goals, techniques, preferences, cultural formulation"

    def ready(self) -> None:
        from commonfactors_web.checkins.models import CheckIn
        from commonfactors_web.plans.signals import leave_out_goals_without_goals

        pre_save.connect(
            leave_out_goals_without_goals, sender=CheckIn, dispatch_uid="plans.goals_guard"
        )
