"""Records → API outputs, field by field: only what ``api.schemas`` names leaves the app."""

from __future__ import annotations

from typing import Any

from commonfactors_web.accounts import access
from commonfactors_web.alerts.models import Alert, Signal
from commonfactors_web.api import schemas
from commonfactors_web.checkins.models import CheckIn, Score
from commonfactors_web.clients.models import Client, Episode


def person(user: Any) -> schemas.Person:
    return schemas.Person(id=user.pk, display_name=user.display_name)


def maybe_person(user: Any) -> schemas.Person | None:
    return None if user is None else person(user)


def client(record: Client, user: Any, current_episode_id: int | None) -> schemas.ClientOut:
    return schemas.ClientOut(
        id=record.pk,
        code=record.code,
        name=record.name,
        birth_year=record.birth_year,
        gender=record.gender,
        preferred_language=record.preferred_language,
        cultural_background=record.cultural_background,
        email=record.email,
        therapist=person(record.therapist),
        created_at=record.created_at,
        current_episode_id=current_episode_id,
        can_change=access.can_change_client(user, record),
    )


def episode(record: Episode, sessions: int) -> schemas.EpisodeOut:
    plan = record.measurement_plan
    return schemas.EpisodeOut(
        id=record.pk,
        client_id=record.client_id,
        therapist=person(record.therapist),
        started_on=record.started_on,
        ended_on=record.ended_on,
        status=record.status,
        presenting_concerns=record.presenting_concerns,
        modality=record.modality,
        measurement_plan=schemas.PlanRef(id=plan.pk, name=plan.name) if plan else None,
        sessions=sessions,
    )


def score(record: Score) -> schemas.ScoreOut:
    administration = record.administration
    session = administration.session
    return schemas.ScoreOut(
        id=record.pk,
        administration_id=administration.pk,
        episode_id=session.episode_id,
        checkin_id=administration.checkin_id,
        session_number=session.number,
        session_date=session.date,
        instrument=record.instrument,
        answers=dict(administration.answers),
        answered_at=administration.answered_at,
        total=record.total,
        subscales=dict(record.subscales),
        band=record.band,
        caseness=record.caseness,
        risk_items=list(record.risk_items),
        risk_unanswered=list(record.risk_unanswered),
        prorated=record.prorated,
        missing_items=list(record.missing_items),
        definition_version=record.definition_version,
        rules=dict(record.rules),
    )


def signal(record: Signal) -> schemas.SignalOut:
    return schemas.SignalOut(
        id=record.pk,
        episode_id=record.episode_id,
        checkin_id=record.checkin_id,
        kind=record.kind,
        instrument=record.instrument,
        session_number=record.session_number,
        score=record.score,
        status=record.status,
        intake=record.intake,
        change=record.change,
        change_category=record.change_category,
        recovered=record.recovered,
        reliable_deterioration=record.reliable_deterioration,
        expected=record.expected,
        yellow_threshold=record.yellow_threshold,
        red_threshold=record.red_threshold,
        reasons=list(record.reasons),
        rule=record.rule,
        change_rule=record.change_rule,
        model_label=record.model_label,
        created_at=record.created_at,
    )


def checkin_fields(record: CheckIn) -> dict[str, Any]:
    """A check-in's fields: never its token hash or its draft answers."""
    return {
        "id": record.pk,
        "client_id": record.episode.client_id,
        "episode_id": record.episode_id,
        "instruments": list(record.instruments),
        "state": record.state,
        "created_by": person(record.created_by),
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "used_at": record.used_at,
        "emailed_at": record.emailed_at,
        "session_number": record.session.number if record.session_id else None,
    }


def checkin(record: CheckIn) -> schemas.CheckInOut:
    return schemas.CheckInOut(**checkin_fields(record))


def alert(record: Alert, can_change: bool) -> schemas.AlertOut:
    return schemas.AlertOut(
        id=record.pk,
        client_id=record.episode.client_id,
        episode_id=record.episode_id,
        checkin_id=record.checkin_id,
        kind=record.kind,
        instrument=record.instrument,
        session_number=record.session_number,
        summary=record.summary,
        evidence=dict(record.evidence),
        created_at=record.created_at,
        acknowledged_by=maybe_person(record.acknowledged_by),
        acknowledged_at=record.acknowledged_at,
        resolved_by=maybe_person(record.resolved_by),
        resolved_at=record.resolved_at,
        resolution=record.resolution,
        is_open=record.is_open,
        resolved_by_support_review=record.is_reviewable,
        can_change=can_change,
    )
