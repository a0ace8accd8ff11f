"""Reminders and e-mails sent by the background worker, each recorded so it is sent once.

A :class:`Reminder` (one per episode and session) and an :class:`AlertEmail` (one per
alert) move through the same states. A worker *claims* the record with a conditional
UPDATE (``pending`` → ``sending``) before it sends anything; only the one whose UPDATE
changed the row sends. Nothing ever moves a record back to ``pending``, so a message is
sent at most once, whatever restarts or however many workers run. A record left in
``sending`` means a worker stopped after claiming it and before confirming: the message
may or may not have gone out, and the therapist sees it as unconfirmed
(``docs/reminders.md``).

:class:`Clock` holds when the next reminder scan is due, shared by every worker.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Delivery(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending (not confirmed)"
    SENT = "sent", "Sent"
    FAILED = "failed", "Could not be sent"
    NO_ADDRESS = "no_address", "No e-mail address"


class DeliveryRecord(models.Model):
    """What every sent-once record has: its state and when it moved."""

    status = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(
        max_length=80, blank=True, help_text="The worker (process) that claimed it."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(
        max_length=300, blank=True, help_text="Why it could not be sent (no client data)."
    )

    class Meta:
        abstract = True

    @property
    def unconfirmed(self) -> bool:
        """Claimed long enough ago that the worker must have stopped while sending."""
        return (
            self.status == Delivery.SENDING
            and self.claimed_at is not None
            and self.claimed_at < timezone.now() - timedelta(minutes=5)
        )


class Reminder(DeliveryRecord):
    """The e-mail that brings a client a new check-in link before a session: at most one
    per episode and session."""

    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="reminders"
    )
    session_number = models.PositiveSmallIntegerField(help_text="The session it prepares.")
    due_on = models.DateField(help_text="When the check-in was due.")
    instruments = models.JSONField(default=list)
    checkin = models.ForeignKey(
        "checkins.CheckIn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reminders",
    )

    class Meta:
        ordering = ("-due_on", "-pk")
        constraints = (
            models.UniqueConstraint(
                fields=["episode", "session_number"], name="reminder_once_per_session"
            ),
        )

    def __str__(self) -> str:
        return f"reminder for session {self.session_number} ({self.status})"


class AlertEmail(DeliveryRecord):
    """The e-mail that tells a therapist about a new alert: at most one per alert."""

    alert = models.OneToOneField(
        "alerts.Alert", on_delete=models.PROTECT, related_name="email_delivery"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"e-mail about alert {self.alert_id} ({self.status})"


class Clock(models.Model):
    """When a periodic job (by name) is next due; a worker that moves ``next_at`` forward
    with a conditional UPDATE is the one that runs it."""

    name = models.CharField(max_length=60, unique=True)
    next_at = models.DateTimeField()
    last_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: next at {self.next_at:%Y-%m-%d %H:%M}"
