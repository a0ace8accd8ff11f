from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from commonfactors_web.checkins.models import Administration, CheckIn, MeasurementPlan, Score


class ReadOnlyAdmin(admin.ModelAdmin):
    """Raw answers and scores are never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MeasurementPlan)
class MeasurementPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "practice", "is_default")


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("pk", "episode", "created_at", "expires_at", "used_at")
    exclude = ("token_hash", "draft")


@admin.register(Administration)
class AdministrationAdmin(ReadOnlyAdmin):
    list_display = ("instrument", "session", "definition_version", "submitted_at")
    list_filter = ("instrument",)


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ("instrument", "total", "band", "definition_version")
    list_filter = ("instrument",)
