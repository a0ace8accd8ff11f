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


#: ``set_episode_plan_fields``: leave the measurement plan as it is.
KEEP = object()


def set_episode_plan_fields(
    episode: Episode,
    *,
    modality: str | None = None,
    measurement_plan: Any = KEEP,
    session_techniques: dict[int, list[str]] | None = None,
) -> None:
    """Write the treatment-plan fields kept on the episode and its sessions: the modality,
    the measurement plan (one of the client's practice; None: the practice default) and the
    techniques used in sessions (session number → technique slugs).

    Called by ``plans.services`` only, which checks the values against the practice's
    catalogue, versions the change and audits it. Raises ValueError naming every problem."""
    problems = []
    plan = measurement_plan
    if plan is not KEEP and plan is not None and plan.practice_id != episode.client.practice_id:
        problems.append("the measurement plan belongs to another practice")
    wanted = session_techniques or {}
    sessions = {s.number: s for s in episode.sessions.filter(number__in=list(wanted))}
    problems += [f"session {n} does not exist" for n in wanted if n not in sessions]
    if problems:
        raise ValueError("; ".join(problems))
    fields = []
    if modality is not None:
        episode.modality = modality.strip()
        fields.append("modality")
    if plan is not KEEP:
        episode.measurement_plan = plan
        fields.append("measurement_plan")
    if fields:
        episode.save(update_fields=fields)
    for number, slugs in wanted.items():
        sessions[number].techniques = list(dict.fromkeys(slugs))
        sessions[number].save(update_fields=["techniques"])
