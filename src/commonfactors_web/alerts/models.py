"""Signals (an episode judged by the library after a session) and alerts (a signal shown to
a person until they resolve it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SignalKind(models.TextChoices):
    OUTCOME = "outcome", "Outcome (expected treatment response and reliable change)"
    ALLIANCE = "alliance", "Alliance"


class Signal(models.Model):
    """One instrument of one episode judged at one session, as the library judged it."""

    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="signals")
    checkin = models.ForeignKey(
        "checkins.CheckIn", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=SignalKind.choices)
    instrument = models.CharField(max_length=60)
    session_number = models.PositiveSmallIntegerField()
    score = models.FloatField()
    #: outcome: on_track / yellow / red / "" (not judged); alliance: stable / rupture / ...
    status = models.CharField(max_length=20, blank=True)
    intake = models.FloatField(null=True, blank=True)
    change = models.FloatField(null=True, blank=True)
    change_category = models.CharField(max_length=20, blank=True)
    recovered = models.BooleanField(null=True)
    reliable_deterioration = models.BooleanField(null=True)
    expected = models.FloatField(null=True, blank=True)
    yellow_threshold = models.FloatField(null=True, blank=True)
    red_threshold = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list)
    rule = models.TextField(blank=True)
    change_rule = models.TextField(blank=True)
    model_label = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("episode", "instrument", "session_number")
        constraints = (
            models.UniqueConstraint(
                fields=["episode", "instrument", "session_number"], name="signal_once"
            ),
        )

    def __str__(self) -> str:
        return f"{self.instrument} session {self.session_number}: {self.status or 'not judged'}"


class AlertKind(models.TextChoices):
    RISK = "risk", "Risk answer"
    NOT_ON_TRACK = "not_on_track", "Not on track (red)"
    ALLIANCE_RUPTURE = "alliance_rupture", "Alliance rupture"
    LESS_CHANGE = "less_change", "Less change than expected (yellow)"


#: Most urgent first: a risk answer, a red outcome signal, an alliance rupture, a yellow
#: outcome signal (the order of the alerts inbox and of the caseload's flags).
URGENCY: tuple[str, ...] = (
    AlertKind.RISK,
    AlertKind.NOT_ON_TRACK,
    AlertKind.ALLIANCE_RUPTURE,
    AlertKind.LESS_CHANGE,
)
#: Alerts answered by a support review (a risk alert is resolved on the client page, by a
#: person saying what was done).
REVIEWABLE: frozenset[str] = frozenset(
    {AlertKind.NOT_ON_TRACK, AlertKind.LESS_CHANGE, AlertKind.ALLIANCE_RUPTURE}
)


class AlertQuerySet(models.QuerySet["Alert"]):
    def open(self) -> AlertQuerySet:
        return self.filter(resolved_at__isnull=True)

    def by_urgency(self) -> AlertQuerySet:
        """Most urgent kind first (:data:`URGENCY`), then the newest."""
        rank = models.Case(
            *(models.When(kind=k, then=models.Value(n)) for n, k in enumerate(URGENCY)),
            default=models.Value(len(URGENCY)),
            output_field=models.IntegerField(),
        )
        return self.alias(urgency=rank).order_by("urgency", "-created_at", "-pk")


class Alert(models.Model):
    """A signal shown to the therapist until a person resolves it, saying why."""

    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="alerts")
    checkin = models.ForeignKey(
        "checkins.CheckIn", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    instrument = models.CharField(max_length=60, blank=True)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, help_text="Why it was resolved, what was done.")

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = (
            # One risk alert per instrument per check-in, however often the form is sent.
            models.UniqueConstraint(
                fields=["checkin", "kind", "instrument"],
                condition=models.Q(checkin__isnull=False),
                name="alert_once_per_checkin",
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def is_reviewable(self) -> bool:
        """Resolved through a support review (red, yellow, alliance rupture)."""
        return self.kind in REVIEWABLE

    @property
    def signal_id(self) -> int | None:
        """The signal that raised the alert (none for a risk answer)."""
        value = self.evidence.get("signal") if isinstance(self.evidence, dict) else None
        return value if isinstance(value, int) else None

    @property
    def badge(self) -> str:
        """The CSS badge of the kind."""
        return {
            AlertKind.RISK: "badge-risk",
            AlertKind.LESS_CHANGE: "badge-yellow",
        }.get(self.kind, "badge-red")
