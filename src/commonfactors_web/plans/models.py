"""The treatment plan of an episode: goals agreed with the client, the planned techniques,
the client's preferences and the cultural formulation; every change kept as a version.

The modality, the measurement plan and the techniques used in each session live on the
episode and its sessions (``clients``); the plans app writes them through
``clients.services.set_episode_plan_fields`` and versions them with the rest of the plan.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ImmutableVersionError(Exception):
    """Plan versions are the history of the plan: written once, never changed."""


class PracticeTechnique(models.Model):
    """One technique in a practice's own catalogue, seeded from the library's defaults
    (``commonfactors.techniques``) and edited by the practice's admins. Plans and session
    records store the ``slug``, which never changes; a technique no longer used is switched
    off (``active``), not deleted."""

    practice = models.ForeignKey(
        "accounts.Practice", on_delete=models.CASCADE, related_name="techniques"
    )
    slug = models.SlugField(max_length=60)
    modality = models.CharField(max_length=60, help_text="A modality of the catalogue.")
    name = models.CharField(max_length=120)
    description = models.TextField()
    source = models.TextField(blank=True, help_text="Where the technique is described.")
    active = models.BooleanField(
        default=True, help_text="Offered in plans and session records (switched off: kept only)."
    )
    from_library = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ("practice", "name")
        constraints = (
            models.UniqueConstraint(fields=["practice", "slug"], name="technique_slug_unique"),
        )

    def __str__(self) -> str:
        return self.name


class Directiveness(models.TextChoices):
    THERAPIST_LEADS = "therapist_leads", "The therapist gives structure and suggests tasks"
    SHARED = "shared", "We decide structure and tasks together"
    CLIENT_LEADS = "client_leads", "The client sets the direction; the therapist follows"


class TimeFocus(models.TextChoices):
    PAST = "past", "Understanding the past"
    BOTH = "both", "Past and present alike"
    PRESENT = "present", "The present and the future"


class EmotionalIntensity(models.TextChoices):
    GENTLE = "gentle", "Gentle: feelings at a pace that stays manageable"
    BALANCED = "balanced", "Some of both"
    INTENSE = "intense", "Going into strong feelings in the session"


class SupportChallenge(models.TextChoices):
    SUPPORT = "support", "Mostly warm support"
    BALANCED = "balanced", "Some of both"
    CHALLENGE = "challenge", "Being challenged and pushed"


class SessionFormat(models.TextChoices):
    INDIVIDUAL = "individual", "Individual sessions"
    PARTNER = "partner", "With a partner"
    FAMILY = "family", "With family members"
    GROUP = "group", "In a group"


class FamilyInvolvement(models.TextChoices):
    NONE = "none", "The client does not want family involved"
    INFORMED = "informed", "Family kept informed, as far as the client agrees"
    CONSULTED = "consulted", "Family consulted on decisions the client chooses"
    JOINS = "joins", "Family members join some sessions"


class TreatmentPlan(models.Model):
    """One per episode. Choices left empty mean "not discussed yet", never a default."""

    episode = models.OneToOneField(
        "clients.Episode", on_delete=models.PROTECT, related_name="treatment_plan"
    )
    rationale = models.TextField(
        blank=True,
        help_text="How we understand the problem and how the work will help, as agreed "
        "with the client.",
    )
    techniques = models.JSONField(default=list, blank=True, help_text="Planned technique slugs.")
    # preferences (our own structured fields; a C-NIP result can be noted until it is shipped)
    pref_directiveness = models.CharField(max_length=20, choices=Directiveness.choices, blank=True)
    pref_time_focus = models.CharField(max_length=20, choices=TimeFocus.choices, blank=True)
    pref_emotional_intensity = models.CharField(
        max_length=20, choices=EmotionalIntensity.choices, blank=True
    )
    pref_support_challenge = models.CharField(
        max_length=20, choices=SupportChallenge.choices, blank=True
    )
    pref_format = models.CharField(max_length=20, choices=SessionFormat.choices, blank=True)
    pref_notes = models.TextField(blank=True)
    # cultural formulation
    cultural_identity = models.TextField(blank=True)
    explanation = models.TextField(blank=True)
    stressors_supports = models.TextField(blank=True)
    family_involvement = models.CharField(
        max_length=20, choices=FamilyInvolvement.choices, blank=True
    )
    family_notes = models.TextField(blank=True)
    relationship = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"plan of {self.episode}"


#: Goal Attainment Scaling level → the Goal field describing it.
GAS_FIELDS = {-2: "gas_minus2", -1: "gas_minus1", 0: "gas_0", 1: "gas_plus1", 2: "gas_plus2"}


class GoalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ACHIEVED = "achieved", "Achieved"
    DROPPED = "dropped", "Dropped"


class Goal(models.Model):
    """A goal agreed with the client, in the client's own words.

    ``position`` (1–3) is the goal's place in the check-in: the client rates goal n as item
    ``goals_n``. At most one active goal holds a position; a closed goal (achieved or
    dropped) frees it. A rating belongs to the goal whose time from ``created_at`` to
    ``closed_at`` contains the moment it was answered.
    """

    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="goals")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300, help_text="In the client's own words.")
    agreed_on = models.DateField()
    status = models.CharField(max_length=20, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Goal Attainment Scaling (optional): what each level would look like for this goal
    gas_minus2 = models.TextField(blank=True)
    gas_minus1 = models.TextField(blank=True)
    gas_0 = models.TextField(blank=True)
    gas_plus1 = models.TextField(blank=True)
    gas_plus2 = models.TextField(blank=True)
    gas_weight = models.FloatField(default=1.0)

    class Meta:
        ordering = ("episode", "position", "created_at")
        constraints = (
            models.UniqueConstraint(
                fields=["episode", "position"],
                condition=Q(status="active"),
                name="one_active_goal_per_position",
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=3), name="goal_position_1_to_3"
            ),
        )

    def __str__(self) -> str:
        return f"goal {self.position} of {self.episode}"

    @property
    def gas_levels(self) -> dict[int, str]:
        return {level: getattr(self, f) for level, f in GAS_FIELDS.items()}

    @property
    def scaled(self) -> bool:
        """True when all five Goal Attainment Scaling levels are described."""
        return all(v.strip() for v in self.gas_levels.values())


class GoalAttainment(models.Model):
    """A Goal Attainment Scaling rating of one goal on one day (−2 … +2)."""

    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="attainments")
    level = models.SmallIntegerField()
    rated_on = models.DateField()
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("goal", "rated_on")
        constraints = (
            models.UniqueConstraint(fields=["goal", "rated_on"], name="attainment_once_a_day"),
            models.CheckConstraint(
                condition=Q(level__gte=-2) & Q(level__lte=2), name="attainment_level_range"
            ),
        )

    def __str__(self) -> str:
        return f"{self.goal}: {self.level:+d} on {self.rated_on}"


class PlanVersion(models.Model):
    """One change to an episode's plan, goals or session techniques: who, when, what.

    ``changes`` lists ``{"key", "label", "old", "new"}`` per field changed (values as shown
    to people); ``snapshot`` is the whole plan after the change (key → [label, value]).
    Versions are written once and never edited.
    """

    episode = models.ForeignKey(
        "clients.Episode", on_delete=models.PROTECT, related_name="plan_versions"
    )
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    actor_label = models.CharField(max_length=200)
    summary = models.CharField(max_length=200)
    changes = models.JSONField(default=list)
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ("episode", "-number")
        constraints = (
            models.UniqueConstraint(fields=["episode", "number"], name="plan_version_unique"),
        )

    def __str__(self) -> str:
        return f"version {self.number} of the plan of {self.episode}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableVersionError("a plan version is written once and never edited")
        super().save(*args, **kwargs)
