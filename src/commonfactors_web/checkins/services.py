"""The only functions that create or change check-ins, administrations and scores.

The loop: :func:`create_checkin` makes a private link (a random token; only its SHA-256
hash is stored) → the client answers one instrument at a time (:func:`answer`), each
checked by the library before it is kept → the last answer submits the check-in in one
transaction: the link is marked used by a conditional UPDATE, the raw answers and their
scores are stored, the episode is evaluated (``alerts.services.evaluate_episode``) and
alerts raised. A repeated or concurrent submission finds the link used and stores nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

import commonfactors
from commonfactors_web.alerts import services as alerts
from commonfactors_web.audit.services import CLIENT_VIA_LINK, SYSTEM, record
from commonfactors_web.checkins.instruments import administrable
from commonfactors_web.checkins.models import Administration, CheckIn, MeasurementPlan, Score
from commonfactors_web.clients.models import Attendance, Episode, Session
from commonfactors_web.plans.models import GoalStatus
from commonfactors_web.plans.progress import GOALS


class CheckInError(ValueError):
    """A check-in cannot be created as asked (the message says why)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ measurement plans


def default_plan(practice: Any) -> MeasurementPlan | None:
    return MeasurementPlan.objects.filter(practice=practice, is_default=True).first()


def create_plan(
    practice: Any, name: str, schedule: Sequence[Mapping[str, Any]], *, is_default: bool = False
) -> MeasurementPlan:
    """A measurement plan; every instrument must be one a client can be asked."""
    known = set(administrable())
    unknown = [str(e.get("instrument")) for e in schedule if e.get("instrument") not in known]
    if unknown:
        raise CheckInError(f"unknown or unadministrable instruments: {', '.join(unknown)}")
    if is_default:
        MeasurementPlan.objects.filter(practice=practice, is_default=True).update(is_default=False)
    return MeasurementPlan.objects.create(
        practice=practice, name=name, schedule=[dict(e) for e in schedule], is_default=is_default
    )


def next_session_number(episode: Episode) -> int:
    last = episode.sessions.aggregate(n=Max("number"))["n"]
    return int(last or 0) + 1


def instruments_due(episode: Episode, session_number: int | None = None) -> list[str]:
    plan = episode.measurement_plan or default_plan(episode.client.practice)
    if plan is None:
        return []
    n = next_session_number(episode) if session_number is None else session_number
    known = set(administrable())
    return [i for i in plan.due_at(n) if i in known]


# ------------------------------------------------------------------ creating a link


@dataclass(frozen=True)
class NewLink:
    """A new check-in and its token: the only moment the token exists in clear."""

    checkin: CheckIn
    token: str


def create_checkin(
    episode: Episode,
    user: Any,
    instruments: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
) -> NewLink:
    """A check-in for ``episode``: the instruments given, or those due by the plan."""
    due = instruments_due(episode)
    chosen = list(dict.fromkeys(instruments if instruments is not None else due))
    chosen.sort(key=lambda i: due.index(i) if i in due else len(due))  # the plan's order first
    known = set(administrable())
    bad = [i for i in chosen if i not in known]
    if bad:
        raise CheckInError(f"these instruments cannot be asked here: {', '.join(bad)}")
    if not chosen:
        raise CheckInError("choose at least one instrument")
    chosen = _without_goals_to_rate(episode, chosen)
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    checkin = CheckIn.objects.create(
        episode=episode,
        created_by=user,
        instruments=chosen,
        token_hash=hash_token(token),
        expires_at=now + timedelta(hours=settings.CF_CHECKIN_TTL_HOURS),
    )
    record(user, "checkin.create", client=episode.client, obj=checkin, instruments=chosen)
    return NewLink(checkin, token)


def _without_goals_to_rate(episode: Episode, chosen: list[str]) -> list[str]:
    """Goal ratings are asked only of a client with agreed goals: the ``goals`` instrument
    shows the client their own goals, so with none agreed there is nothing to rate and the
    check-in could never be completed. ``goals`` is then left out (the audit log says so);
    a check-in asking for nothing else is refused."""
    if GOALS not in chosen or episode.goals.filter(status=GoalStatus.ACTIVE).exists():
        return chosen
    rest = [i for i in chosen if i != GOALS]
    if not rest:
        raise CheckInError(
            "goal ratings need at least one agreed goal: agree goals on the treatment plan first"
        )
    record(SYSTEM, "checkin.goals_left_out", client=episode.client, reason="no agreed goals")
    return rest


def email_link(checkin: CheckIn, url: str, user: Any) -> bool:
    """Send the link to the client's contact address; False when there is none."""
    client = checkin.episode.client
    if not client.email:
        return False
    hours = settings.CF_CHECKIN_TTL_HOURS
    send_mail(
        subject="Your check-in before your next session",
        message=(
            "Your therapist asks you to answer a few short questions before your next "
            f"session. Please open this private link (it works once, for {hours} hours):\n\n"
            f"{url}\n\nIf you did not expect this message, you can ignore it."
        ),
        from_email=None,
        recipient_list=[client.email],
    )
    CheckIn.objects.filter(pk=checkin.pk).update(emailed_at=timezone.now())
    record(user, "checkin.email", client=client, obj=checkin)
    return True


# ------------------------------------------------------------------ the client's side


def find_open(token: str, *, now: datetime | None = None) -> CheckIn | None:
    """The open (unused, unexpired) check-in of ``token``, or None: unknown, used and
    expired links are all the same to the caller."""
    if not token or len(token) > 100:
        return None
    now = now or timezone.now()
    return (
        CheckIn.objects.select_related("episode__client__practice")
        .filter(token_hash=hash_token(token), used_at__isnull=True, expires_at__gt=now)
        .first()
    )


def next_instrument(checkin: CheckIn) -> str | None:
    return next((i for i in checkin.instruments if i not in checkin.draft), None)


def risk_in_draft(checkin: CheckIn) -> bool:
    return any(entry.get("risk_items") for entry in checkin.draft.values())


@dataclass
class StepResult:
    """What happened to one instrument's answers."""

    status: str  # "saved" | "submitted" | "invalid" | "stale" | "gone"
    problems: tuple[str, ...] = ()
    risk: bool = False
    risk_unanswered: tuple[str, ...] = ()
    alerts: list[Any] = field(default_factory=list)


def answer(
    checkin_id: int, instrument: str, answers: Mapping[str, object], *, now: datetime | None = None
) -> StepResult:
    """Check one instrument's answers with the library and keep them; the last one submits
    the whole check-in. Refused answers that still contain a risk answer raise the risk
    alert (a risk answer is never lost)."""
    now = now or timezone.now()
    try:
        scored = commonfactors.score(instrument, answers)
    except commonfactors.ScoringError as exc:
        risk = bool(exc.risk_items)
        if risk:
            with transaction.atomic():
                checkin = _locked_open(checkin_id, now)
                if checkin is None:
                    return StepResult("gone")
                alerts.raise_risk_alert(
                    checkin.episode,
                    checkin=checkin,
                    instrument=instrument,
                    risk_items=list(exc.risk_items),
                    answers=answers,
                    session_number=None,
                    refused=True,
                )
        return StepResult("invalid", problems=exc.problems, risk=risk)
    with transaction.atomic():
        checkin = _locked_open(checkin_id, now)
        if checkin is None:
            return StepResult("gone")
        if next_instrument(checkin) != instrument:
            return StepResult("stale")
        checkin.draft[instrument] = {
            "answers": dict(answers),
            "answered_at": now.isoformat(),
            "risk_items": list(scored.risk_items),
        }
        if scored.risk_items:
            alerts.raise_risk_alert(
                checkin.episode,
                checkin=checkin,
                instrument=instrument,
                risk_items=list(scored.risk_items),
                answers=answers,
                session_number=None,
            )
        record(
            CLIENT_VIA_LINK,
            "checkin.answer",
            client=checkin.episode.client,
            obj=checkin,
            instrument=instrument,
        )
        if next_instrument(checkin) is not None:
            CheckIn.objects.filter(pk=checkin.pk).update(draft=checkin.draft)
            return StepResult(
                "saved", risk=risk_in_draft(checkin), risk_unanswered=scored.risk_unanswered
            )
        submitted = _submit(checkin, now, {instrument: scored})
        if submitted is None:
            return StepResult("stale")
        return StepResult(
            "submitted",
            risk=risk_in_draft(checkin),
            risk_unanswered=scored.risk_unanswered,
            alerts=submitted,
        )


def _locked_open(checkin_id: int, now: datetime) -> CheckIn | None:
    return (
        CheckIn.objects.select_for_update()
        .select_related("episode__client")
        .filter(pk=checkin_id, used_at__isnull=True, expires_at__gt=now)
        .first()
    )


def _submit(
    checkin: CheckIn, now: datetime, scored: Mapping[str, commonfactors.Score]
) -> list[Any] | None:
    """Inside the caller's transaction: claim the link, store everything, evaluate
    (``scored``: the library's results already at hand, for the same answers)."""
    claimed = CheckIn.objects.filter(pk=checkin.pk, used_at__isnull=True).update(
        used_at=now, draft={}
    )
    if claimed != 1:
        return None  # someone else submitted it first: store nothing
    # the client row is locked already (``_locked_open``); joined here for the audit records
    episode = (
        Episode.objects.select_for_update().select_related("client").get(pk=checkin.episode_id)
    )
    session = Session.objects.create(
        episode=episode,
        number=next_session_number(episode),
        date=timezone.localdate(now),
        attendance=Attendance.ATTENDED,
    )
    CheckIn.objects.filter(pk=checkin.pk).update(session=session)
    entries = {i: checkin.draft[i] for i in checkin.instruments}
    scores = store_administrations(session, entries, checkin=checkin, scored=scored)
    raised: list[Any] = []
    for s in scores:
        if s.risk_items:
            raised.append(
                alerts.raise_risk_alert(
                    episode,
                    checkin=checkin,
                    instrument=s.instrument,
                    risk_items=list(s.risk_items),
                    answers=entries[s.instrument]["answers"],
                    session_number=session.number,
                )
            )
    histories = score_histories(episode, [s.instrument for s in scores])
    _, new_alerts = alerts.evaluate_episode(episode, session.number, histories, checkin=checkin)
    record(
        CLIENT_VIA_LINK,
        "checkin.submit",
        client=episode.client,
        obj=checkin,
        session=session.number,
        instruments=list(entries),
    )
    return raised + new_alerts


def store_administrations(
    session: Session,
    entries: Mapping[str, Mapping[str, Any]],
    *,
    checkin: CheckIn | None = None,
    scored: Mapping[str, commonfactors.Score] | None = None,
) -> list[Score]:
    """Store raw answers and the library's scores of one session (``entries``: instrument
    → {"answers": ..., "answered_at": iso}). Raises ScoringError if any cannot be scored.
    ``scored``: results the library gave already for the same answers (not scored again)."""
    results = {}
    administrations = []
    for instrument, entry in entries.items():
        result = (scored or {}).get(instrument)
        if result is None:
            result = commonfactors.score(instrument, entry["answers"])
        results[instrument] = result
        answered_at = entry.get("answered_at")
        administrations.append(
            Administration(
                checkin=checkin,
                session=session,
                instrument=instrument,
                definition_version=result.definition_version,
                answers=dict(entry["answers"]),
                answered_at=datetime.fromisoformat(answered_at) if answered_at else timezone.now(),
            )
        )
    # two INSERTs for the session, whatever the number of instruments (both databases
    # return the new ids); written once: bulk_create never updates
    Administration.objects.bulk_create(administrations)
    scores = [
        Score(
            administration=a,
            instrument=a.instrument,
            total=r.total,
            subscales=dict(r.subscales),
            band=r.band or "",
            caseness=r.caseness,
            risk_items=list(r.risk_items),
            risk_unanswered=list(r.risk_unanswered),
            prorated=r.prorated,
            missing_items=list(r.missing_items),
            definition_version=r.definition_version,
            rules=dict(r.rules),
        )
        for a, r in zip(administrations, results.values(), strict=True)
    ]
    return Score.objects.bulk_create(scores)


def score_history(episode: Episode, instrument: str) -> dict[int, float]:
    """Session number → total of ``instrument`` in ``episode``."""
    return score_histories(episode, [instrument])[instrument]


def score_histories(episode: Episode, instruments: Sequence[str]) -> dict[str, dict[int, float]]:
    """Instrument → (session number → total) in ``episode``, for each of ``instruments``,
    in one query."""
    histories: dict[str, dict[int, float]] = {i: {} for i in instruments}
    rows = (
        Score.objects.filter(administration__session__episode=episode, instrument__in=instruments)
        .order_by()
        .values_list("instrument", "administration__session__number", "total")
    )
    for instrument, n, t in rows:
        histories[instrument][int(n)] = float(t)
    return histories


def record_past_session(
    episode: Episode,
    number: int,
    date: Any,
    attendance: str,
    entries: Mapping[str, Mapping[str, Any]],
    *,
    user: Any = None,
    notify: bool = False,
) -> Session:
    """Import a session that happened before (e.g. answered on paper): its raw answers,
    scores and the episode's evaluation at that session, in one transaction."""
    with transaction.atomic():
        session = Session.objects.create(
            episode=episode, number=number, date=date, attendance=attendance
        )
        if entries:
            scores = store_administrations(session, entries)
            for s in scores:
                if s.risk_items:
                    alerts.raise_risk_alert(
                        episode,
                        checkin=None,
                        instrument=s.instrument,
                        risk_items=list(s.risk_items),
                        answers=entries[s.instrument]["answers"],
                        session_number=number,
                        notify=notify,
                    )
            histories = score_histories(episode, [s.instrument for s in scores])
            alerts.evaluate_episode(episode, number, histories, notify=notify)
        record(
            user, "session.record", client=episode.client, obj=session, instruments=list(entries)
        )
    return session
