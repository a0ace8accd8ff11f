from __future__ import annotations

from django.contrib import admin

from commonfactors_web.clients.models import Client, Episode, Session


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("code", "practice", "therapist", "created_at")
    list_filter = ("practice",)
    search_fields = ("code",)


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ("client", "therapist", "started_on", "status")
    list_filter = ("status",)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("episode", "number", "date", "attendance")
