from __future__ import annotations

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "commonfactors_web.exports"
    label = "exports"
    verbose_name = "Exports: tidy tables and FHIR bundles"
