"""The table of an import's counts."""

from __future__ import annotations

from typing import Any

from django import template

from commonfactors_web.imports.services import KINDS, Report

register = template.Library()


@register.inclusion_tag("imports/_counts.html")
def import_counts(report: Report, caption: str) -> dict[str, Any]:
    rows = [(kind, report.new[kind], report.present[kind]) for kind in KINDS]
    return {"rows": rows, "caption": caption}
