"""Measurement plans, check-ins (private links), administrations (raw answers) and scores.

Raw answers are the source of truth and are never edited: an administration and its score
are written once, in the transaction that submits the check-in, and saving them again
raises :class:`ImmutableRecordError`. Scores are derived by the library and carry the
instrument definition's version.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone


class ImmutableRecordError(Exception):
    """Raw answers and their scores are written once and never changed."""


class MeasurementPlan(models.Model):
    """Which instruments are due at which sessions.

    ``schedule`` is a list of ``{"instrument": id, "first_session": n, "every": k}``: the
    instrument is due at session n and every k sessions after it. ``interval_days`` is the
    session cadence: the next session (and its check-in) is expected this many days after
    the last one (``reminders.schedule``).
    """

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    schedule = models.JSONField(default=list)
    interval_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1)],
        help_text="Days from one session to the next: when the next check-in is due.",
    )

    def __str__(self) -> str:
        return self.name

    def next_due_session(self, after: int) -> tuple[int, list[str]] | None:
        """The first session after session ``after`` at which any instrument is due, with
        those instruments; None when the schedule asks for nothing."""
        if not self.schedule:
            return None
        # every pattern repeats within the largest first_session + every sessions
        horizon = max(
            int(e.get("first_session", 1)) + max(int(e.get("every", 1)), 1) for e in self.schedule
        )
        for number in range(after + 1, after + 1 + horizon):
            due = self.due_at(number)
            if due:
                return number, due
        return None

    def due_at(self, session_number: int) -> list[str]:
        due = []
        for entry in self.schedule:
            first = int(entry.get("first_session", 1))
            every = max(int(entry.get("every", 1)), 1)
            if session_number >= first and (session_number - first) % every == 0:
                due.append(str(entry["instrument"]))
        return due


class CheckIn(models.Model):
    """One client visit to the form, through a private link.

    The link's token is never stored: only its SHA-256 hash. The link works until
    ``expires_at`` and once: ``used_at`` is set by the transaction that stores the answers.
    ``draft`` holds the answers of instruments already answered in this visit (validated by
    the library) until the final submission moves them into administrations.
    """

    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="checkins"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    instruments = models.JSONField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    draft = models.JSONField(default=dict, blank=True)
    session = models.ForeignKey(
        "clients.Session", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"check-in {self.pk} ({self.state})"

    @property
    def state(self) -> str:
        if self.used_at is not None:
            return "used"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class Administration(models.Model):
    """One instrument answered once: the raw answers as given, never edited."""

    checkin = models.ForeignKey(
        CheckIn, on_delete=models.PROTECT, null=True, blank=True, related_name="administrations"
    )
    session = models.ForeignKey(
        "clients.Session", on_delete=models.PROTECT, related_name="administrations"
    )
    instrument = models.CharField(max_length=60)
    definition_version = models.CharField(max_length=20)
    answers = models.JSONField(help_text="item id → value as given (null: left blank)")
    answered_at = models.DateTimeField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("session__number", "instrument")
        constraints = (
            models.UniqueConstraint(
                fields=["session", "instrument"], name="administration_once_per_session"
            ),
        )

    def __str__(self) -> str:
        return f"{self.instrument} at {self.session}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecordError("raw answers are never edited")
        super().save(*args, **kwargs)


class Score(models.Model):
    """The library's score of one administration, with its rules and definition version."""

    administration = models.OneToOneField(
        Administration, on_delete=models.PROTECT, related_name="score"
    )
    instrument = models.CharField(max_length=60)
    total = models.FloatField()
    subscales = models.JSONField(default=dict)
    band = models.CharField(max_length=60, blank=True)
    caseness = models.BooleanField(null=True)
    risk_items = models.JSONField(default=list)
    risk_unanswered = models.JSONField(default=list)
    prorated = models.BooleanField(default=False)
    missing_items = models.JSONField(default=list)
    definition_version = models.CharField(max_length=20)
    rules = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.instrument} {self.total:g}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecordError("scores are derived once; rescore into a new record")
        super().save(*args, **kwargs)
