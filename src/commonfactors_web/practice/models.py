"""A therapist's development log: supervision, training and deliberate-practice goals."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EntryKind(models.TextChoices):
    SUPERVISION = "supervision", "Supervision"
    TRAINING = "training", "Training"
    GOAL = "goal", "Deliberate-practice goal"


class DevelopmentEntry(models.Model):
    """One entry of a therapist's log. Written only by the therapist; read by them and by
    the supervisor of their team (``practice.services``)."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="development_entries"
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    date = models.DateField()
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-date", "-pk")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"
