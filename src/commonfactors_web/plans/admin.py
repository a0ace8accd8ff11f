"""The practice's technique catalogue in the Django admin: its admins edit it there too.

Plans, goals and versions are client records and are not in the admin (an admin sees no
client records). An admin sees and edits only their own practice's techniques.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.http import HttpRequest

from commonfactors.techniques import SLUG
from commonfactors_web.accounts import access
from commonfactors_web.accounts.models import Practice
from commonfactors_web.plans.models import PracticeTechnique
from commonfactors_web.plans.services import catalogue, modality_names


def _manages(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(
        user.is_active and user.is_staff and (user.is_superuser or access.is_practice_admin(user))
    )


@admin.register(PracticeTechnique)
class PracticeTechniqueAdmin(admin.ModelAdmin):
    list_display = ("name", "modality", "slug", "active", "practice")
    list_filter = ("modality", "active")
    search_fields = ("name", "slug", "description")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        practice_id = getattr(request.user, "practice_id", None)
        if practice_id is not None and _manages(request):
            catalogue(practice_id)  # a practice starts from the library's defaults
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PracticeTechnique]:
        techniques = super().get_queryset(request)
        user: Any = request.user
        return techniques if user.is_superuser else techniques.filter(practice=user.practice_id)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        user: Any = request.user
        if db_field.name == "practice" and not user.is_superuser:
            kwargs["queryset"] = Practice.objects.filter(pk=user.practice_id)
            kwargs["initial"] = user.practice_id
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "modality":
            return forms.ChoiceField(choices=list(modality_names().items()))
        if db_field.name == "slug":
            kwargs["validators"] = [RegexValidator(SLUG, "a-z, digits and _, 2-60 long")]
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["slug", "practice"] if obj is not None else []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _manages(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _manages(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _manages(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _manages(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # plans and sessions keep the slug: switch a technique off instead
