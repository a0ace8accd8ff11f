"""Homework assignments and their entries, the client's journal, and the client's link.

* :class:`Assignment` — a homework form set by the therapist for an episode, with their
  instructions and a due date; withdrawn, never deleted.
* :class:`HomeworkEntry` — the completed form as checked by the library: written once, in the
  transaction that completes the assignment, and never edited (like raw answers).
* :class:`JournalEntry` — the client's own writing; private to the client unless they share it.
  ``key`` is made by the client's page, so that repeated saves of one entry (autosave, a
  reload, a plain form post) all land on the same row.
* :class:`ClientLink` — the client's long-lived private link for homework and journal: only the
  SHA-256 hash of its random token is stored; it stops working when revoked, when it expires,
  or when the episode ends. A new link revokes the old one.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImmutableEntryError(Exception):
    """A homework entry is written once and never changed."""


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "To do"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Assignment(models.Model):
    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="homework"
    )
    form_id = models.CharField(max_length=60)
    instructions = models.TextField(blank=True, help_text="The therapist's own instructions.")
    due_on = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = (models.Index(fields=["episode", "status"]),)

    def __str__(self) -> str:
        return f"{self.form_id} for {self.episode_id} ({self.status})"

    @property
    def overdue(self) -> bool:
        return (
            self.status == AssignmentStatus.ASSIGNED
            and self.due_on is not None
            and self.due_on < timezone.localdate()
        )

    @property
    def display_status(self) -> str:
        return "Overdue" if self.overdue else self.get_status_display()


class HomeworkEntry(models.Model):
    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="entry")
    form_version = models.CharField(max_length=20)
    data = models.JSONField(help_text="The completed form as checked by the library.")
    submitted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"entry of {self.assignment}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableEntryError("a completed homework entry is never edited")
        super().save(*args, **kwargs)


class JournalEntry(models.Model):
    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="journal_entries"
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    text = models.TextField(blank=True)
    shared_with_therapist = models.BooleanField(default=False)
    shared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"journal entry {self.pk} ({'shared' if self.shared_with_therapist else 'private'})"


class ClientLink(models.Model):
    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="client_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"homework link {self.pk} ({self.state})"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        if self.episode.status != "active":
            return "episode ended"
        return "active"
