"""Clients and their episodes of care, with each episode's scores and signals.

Access as on the web pages (``accounts.access``): a therapist sees their own clients, a
supervisor their team's (read-only); anyone else gets 404. Every read is audited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from commonfactors_web.accounts import access
from commonfactors_web.alerts.models import Signal
from commonfactors_web.api import output, schemas
from commonfactors_web.api.auth import audit, user_of
from commonfactors_web.api.errors import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputError,
    NotAllowedError,
)
from commonfactors_web.api.pagination import page
from commonfactors_web.checkins.models import Score
from commonfactors_web.clients import services
from commonfactors_web.clients.forms import ClientForm
from commonfactors_web.clients.models import Attendance, Client, Episode

router = Router(tags=["clients and episodes"])


def _client_out(request: HttpRequest, client: Client) -> schemas.ClientOut:
    current = services.current_episode(client)
    return output.client(client, user_of(request), current.pk if current else None)


@router.get("/clients", response={200: schemas.Page[schemas.ClientOut], **READ_ERRORS})
def list_clients(
    request: HttpRequest,
    filters: Query[schemas.ClientFilters],
    paging: Query[schemas.Paging],
) -> schemas.Page[schemas.ClientOut]:
    """The clients this token's owner may see, by code."""
    clients = access.visible_clients(user_of(request)).select_related("therapist")
    q = filters.q.strip()
    if q:
        clients = clients.filter(Q(code__icontains=q) | Q(name__icontains=q))
    rows, count = page(clients.order_by("code", "pk"), paging)
    audit(request, "client.list", clients=[c.pk for c in rows])
    return schemas.Page[schemas.ClientOut](
        count=count,
        limit=paging.limit,
        offset=paging.offset,
        items=[_client_out(request, c) for c in rows],
    )


@router.post("/clients", response={201: schemas.ClientOut, **WRITE_ERRORS})
def create_client(request: HttpRequest, body: schemas.ClientIn) -> Status[schemas.ClientOut]:
    """A new client of this token's owner (a therapist), with a first, active episode; the
    same checks as the web form (the code must be new in the practice)."""
    user = user_of(request)
    if not access.can_add_clients(user):
        raise NotAllowedError("Only a therapist of a practice adds clients (their own).")
    data = {k: ("" if v is None else v) for k, v in body.model_dump().items()}
    form = ClientForm(data, practice_id=user.practice_id)  # type: ignore[arg-type]
    if not form.is_valid():
        raise InputError(
            (["body", field], str(message))
            for field, messages in form.errors.items()
            for message in messages
        )
    client = services.create_client(user, **form.cleaned_data)
    return Status(201, _client_out(request, client))


@router.get("/clients/{client_id}", response={200: schemas.ClientOut, **READ_ERRORS})
def get_client(request: HttpRequest, client_id: schemas.ClientId) -> schemas.ClientOut:
    """One client."""
    client = access.client_for_view(user_of(request), client_id)
    audit(request, "client.view", client=client, obj=client)
    return _client_out(request, client)


def _with_sessions(episodes: Any) -> Any:
    attended = Count("sessions", filter=Q(sessions__attendance=Attendance.ATTENDED))
    return episodes.select_related("client", "therapist", "measurement_plan").annotate(
        n_sessions=attended
    )


@router.get(
    "/clients/{client_id}/episodes",
    response={200: schemas.Page[schemas.EpisodeOut], **READ_ERRORS},
)
def list_episodes(
    request: HttpRequest, client_id: schemas.ClientId, paging: Query[schemas.Paging]
) -> schemas.Page[schemas.EpisodeOut]:
    """A client's episodes of care, the latest first."""
    client = access.client_for_view(user_of(request), client_id)
    episodes = _with_sessions(client.episodes.order_by("-started_on", "-pk"))
    rows, count = page(episodes, paging)
    audit(request, "episode.list", client=client, episodes=[e.pk for e in rows])
    return schemas.Page[schemas.EpisodeOut](
        count=count,
        limit=paging.limit,
        offset=paging.offset,
        items=[output.episode(e, e.n_sessions) for e in rows],
    )


def episode_for_view(request: HttpRequest, episode_id: int) -> Episode:
    """The episode, if this token's owner may see its client; otherwise 404."""
    episode = _with_sessions(Episode.objects.filter(pk=episode_id)).first()
    if episode is None:
        raise Http404("no such episode")
    access.client_for_view(user_of(request), episode.client_id)
    return episode  # type: ignore[no-any-return]


@router.get("/episodes/{episode_id}", response={200: schemas.EpisodeOut, **READ_ERRORS})
def get_episode(request: HttpRequest, episode_id: schemas.EpisodeId) -> schemas.EpisodeOut:
    """One episode of care."""
    episode = episode_for_view(request, episode_id)
    audit(request, "episode.view", client=episode.client, obj=episode)
    return output.episode(episode, episode.n_sessions)  # type: ignore[attr-defined]


@router.get(
    "/episodes/{episode_id}/scores",
    response={200: schemas.Page[schemas.ScoreOut], **READ_ERRORS},
)
def list_scores(
    request: HttpRequest,
    episode_id: schemas.EpisodeId,
    filters: Query[schemas.InstrumentFilter],
    paging: Query[schemas.Paging],
) -> schemas.Page[schemas.ScoreOut]:
    """The episode's scores with their raw answers, by session: as the library scored
    them, with the rules and definition version it used."""
    episode = episode_for_view(request, episode_id)
    scores = Score.objects.filter(administration__session__episode=episode).select_related(
        "administration__session"
    )
    if filters.instrument:
        scores = scores.filter(instrument=filters.instrument)
    rows, count = page(scores.order_by("administration__session__number", "instrument"), paging)
    audit(request, "score.list", client=episode.client, obj=episode, scores=[s.pk for s in rows])
    return schemas.Page[schemas.ScoreOut](
        count=count,
        limit=paging.limit,
        offset=paging.offset,
        items=[output.score(s) for s in rows],
    )


@router.get(
    "/episodes/{episode_id}/signals",
    response={200: schemas.Page[schemas.SignalOut], **READ_ERRORS},
)
def list_signals(
    request: HttpRequest,
    episode_id: schemas.EpisodeId,
    filters: Query[schemas.InstrumentFilter],
    paging: Query[schemas.Paging],
) -> schemas.Page[schemas.SignalOut]:
    """The episode's signals (expected treatment response, reliable change, alliance), by
    instrument and session, each saying how it was computed."""
    episode = episode_for_view(request, episode_id)
    signals = Signal.objects.filter(episode=episode)
    if filters.instrument:
        signals = signals.filter(instrument=filters.instrument)
    rows, count = page(signals.order_by("instrument", "session_number", "pk"), paging)
    audit(request, "signal.list", client=episode.client, obj=episode, signals=[s.pk for s in rows])
    return schemas.Page[schemas.SignalOut](
        count=count,
        limit=paging.limit,
        offset=paging.offset,
        items=[output.signal(s) for s in rows],
    )
