from __future__ import annotations

from django.apps import AppConfig


class CommonFactorsWebConfig(AppConfig):
    """The project itself: registers the start-up system checks."""

    name = "commonfactors_web"
    label = "commonfactors_web"
    verbose_name = "commonfactors"

    def ready(self) -> None:
        from commonfactors_web import checks  # noqa: F401  (registers the checks)
