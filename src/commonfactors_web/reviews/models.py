"""Support reviews (the structured look at the common factors after an alert), the
adaptations of the treatment chosen in answer, and the short questionnaires sent to the
client from a review.

A review and its adaptations are written once, in the transaction that resolves the alert
(``reviews.services.save_review``); they are the record of what was seen and decided at the
time, so saving them again raises :class:`ReviewRecordError`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ReviewRecordError(Exception):
    """A support review and its adaptations are written once and never changed."""


class _WrittenOnce(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ReviewRecordError(f"a {type(self).__name__} is written once")
        super().save(*args, **kwargs)


class SupportReview(_WrittenOnce):
    """One support review of an episode, answering one or more alerts.

    ``answers``: question id → answer, as the library's review definition
    (``definition_version``) checked them; ``factors``: the latest measured factors shown
    (instrument, value, session, date; value None when not measured); ``suggestions``: the
    library's suggestions shown for those answers; the outcome status and the factor to follow
    at the time, for the closed loop (``session_number``: the episode's latest session then)."""

    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="support_reviews"
    )
    alert = models.ForeignKey(
        "alerts.Alert", on_delete=models.PROTECT, related_name="support_reviews"
    )
    answered_alerts = models.ManyToManyField("alerts.Alert", related_name="answering_reviews")
    definition_version = models.CharField(max_length=20)
    rules_version = models.CharField(max_length=20)
    answers = models.JSONField(default=dict)
    factors = models.JSONField(default=list)
    signals = models.JSONField(default=dict)
    suggestions = models.JSONField(default=list)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome_instrument = models.CharField(max_length=60, blank=True)
    outcome_status = models.CharField(max_length=20, blank=True)
    factor = models.CharField(max_length=60, blank=True, help_text="The factor to follow.")
    factor_value = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"support review {self.pk} of {self.episode}"


class Adaptation(_WrittenOnce):
    """A change to the treatment plan, with its reason, the review that chose it and the
    alert it answers; ``rule`` is the adaptation rule's id, or ``own`` when the therapist
    wrote it."""

    OWN = "own"

    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="adaptations"
    )
    review = models.ForeignKey(SupportReview, on_delete=models.PROTECT, related_name="adaptations")
    alert = models.ForeignKey("alerts.Alert", on_delete=models.PROTECT, related_name="adaptations")
    text = models.TextField()
    reason = models.TextField()
    rule = models.CharField(max_length=60)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"adaptation {self.pk} ({self.rule})"

    @property
    def is_own(self) -> bool:
        return self.rule == self.OWN


class ReviewQuestionnaire(models.Model):
    """A short questionnaire (a check-in of practice questions) sent to the client from the
    support review of ``alert``."""

    alert = models.ForeignKey(
        "alerts.Alert", on_delete=models.PROTECT, related_name="review_questionnaires"
    )
    checkin = models.OneToOneField(
        "checkins.CheckIn", on_delete=models.PROTECT, related_name="review_questionnaire"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"questionnaire {self.checkin_id} for alert {self.alert_id}"
