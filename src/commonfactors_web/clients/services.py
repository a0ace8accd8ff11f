"""The only functions that create or change clients, episodes and sessions' details."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from commonfactors_web.accounts.models import Role, User
from commonfactors_web.audit.services import record
from commonfactors_web.clients.models import Client, Episode, EpisodeStatus


@transaction.atomic
def create_client(
    therapist: User,
    code: str,
    *,
    name: str = "",
    birth_year: int | None = None,
    gender: str = "",
    preferred_language: str = "en",
    cultural_background: str = "",
    email: str = "",
    presenting_concerns: str = "",
    modality: str = "",
    started_on: date | None = None,
    measurement_plan: Any = None,
    actor: Any = None,
) -> Client:
    """A new client of ``therapist`` with a first, active episode of care."""
    if therapist.role != Role.THERAPIST or therapist.practice_id is None:
        raise ValueError("clients belong to a therapist of a practice")
    client = Client.objects.create(
        practice_id=therapist.practice_id,
        therapist=therapist,
        code=code.strip(),
        name=name.strip(),
        birth_year=birth_year,
        gender=gender.strip(),
        preferred_language=preferred_language or "en",
        cultural_background=cultural_background.strip(),
        email=email.strip(),
    )
    Episode.objects.create(
        client=client,
        therapist=therapist,
        started_on=started_on or timezone.localdate(),
        presenting_concerns=presenting_concerns.strip(),
        modality=modality.strip(),
        measurement_plan=measurement_plan,
    )
    record(actor or therapist, "client.create", client=client, obj=client)
    return client


def current_episode(client: Client) -> Episode | None:
    """The client's active episode, else their latest."""
    episodes = client.episodes.order_by("-started_on", "-pk")
    return episodes.filter(status=EpisodeStatus.ACTIVE).first() or episodes.first()


def end_episode(episode: Episode, user: Any, status: str, ended_on: date | None = None) -> Episode:
    if status not in (EpisodeStatus.FINISHED, EpisodeStatus.DROPPED_OUT):
        raise ValueError("an episode ends as finished or dropped out")
    episode.status = status
    episode.ended_on = ended_on or timezone.localdate()
    episode.save(update_fields=["status", "ended_on"])
    record(user, "episode.end", client=episode.client, obj=episode, status=status)
    return episode
