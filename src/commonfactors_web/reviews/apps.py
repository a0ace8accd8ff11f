from __future__ import annotations

from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "commonfactors_web.reviews"
    label = "reviews"
    verbose_name = "Support reviews and adaptations"
