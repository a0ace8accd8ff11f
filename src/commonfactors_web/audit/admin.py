from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from commonfactors_web.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only."""

    list_display = ("created_at", "actor_label", "action", "client", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("actor_label", "action", "object_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
