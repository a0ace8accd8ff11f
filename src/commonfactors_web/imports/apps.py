from __future__ import annotations

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "commonfactors_web.imports"
    label = "imports"
    verbose_name = "Imports: a practice's history from CSV and FHIR"
