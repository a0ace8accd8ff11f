"""Clients, their episodes of care and the sessions of an episode."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Client(models.Model):
    """A client, known by a pseudonymous code; a name and contact e-mail are optional."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clients"
    )
    code = models.CharField(max_length=40, help_text="Pseudonymous code, unique in the practice.")
    name = models.CharField(max_length=200, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=60, blank=True)
    preferred_language = models.CharField(max_length=10, default="en")
    cultural_background = models.TextField(blank=True, help_text="In the client's own words.")
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("code",)
        constraints = (
            models.UniqueConstraint(fields=["practice", "code"], name="client_code_unique"),
        )

    def __str__(self) -> str:
        return self.code


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FINISHED = "finished", "Finished"
    DROPPED_OUT = "dropped_out", "Dropped out"


class Episode(models.Model):
    """One course of care of a client with one therapist."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="episodes"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE
    )
    presenting_concerns = models.TextField(blank=True)
    modality = models.CharField(max_length=100, blank=True)
    measurement_plan = models.ForeignKey(
        "checkins.MeasurementPlan", on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        ordering = ("-started_on", "-pk")

    def __str__(self) -> str:
        return f"{self.client} from {self.started_on}"


class Attendance(models.TextChoices):
    ATTENDED = "attended", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    DID_NOT_ATTEND = "did_not_attend", "Did not attend"


class Session(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    date = models.DateField()
    attendance = models.CharField(
        max_length=20, choices=Attendance.choices, default=Attendance.ATTENDED
    )
    techniques = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("episode", "number")
        constraints = (
            models.UniqueConstraint(fields=["episode", "number"], name="session_number_unique"),
        )

    def __str__(self) -> str:
        return f"{self.episode.client} session {self.number}"
