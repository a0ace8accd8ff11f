"""Practices, teams and the people who log in (admin, supervisor, therapist)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Practice(models.Model):
    name = models.CharField(max_length=200)
    crisis_text = models.TextField(
        blank=True,
        help_text="Shown to a client at once after a risk answer. Empty: the default text.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["practice", "name"], name="team_name_unique"),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.practice})"


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SUPERVISOR = "supervisor", "Supervisor"
    THERAPIST = "therapist", "Therapist"


class User(AbstractUser):
    """A person who logs in. What they may see is decided in ``accounts.access`` only."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.THERAPIST)
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
