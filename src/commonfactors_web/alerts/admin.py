from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from commonfactors_web.alerts.models import Alert, Signal


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    list_display = ("episode", "instrument", "session_number", "status", "score")
    list_filter = ("kind", "status", "instrument")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Alerts are resolved on the client page (with a reason), not edited here."""

    list_display = ("summary", "kind", "created_at", "resolved_at")
    list_filter = ("kind",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
