from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


def pdf_engine_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The PDF reports need WeasyPrint and Debian's pango libraries (``manage.py check
    --deploy``: loading pango is left out of every start-up)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        return [
            checks.Error(
                f"PDF reports cannot be made: WeasyPrint does not load ({exc})",
                hint="install the web extras and Debian's libpango-1.0-0 and libpangoft2-1.0-0",
                id="commonfactors.E901",
            )
        ]
    return []


class ReportsConfig(AppConfig):
    name = "commonfactors_web.reports"
    label = "reports"
    verbose_name = "Reports: client progress and practice reports as PDF"

    def ready(self) -> None:
        checks.register(pdf_engine_check, checks.Tags.compatibility, deploy=True)
