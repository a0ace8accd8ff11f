"""The only functions that create signals and alerts or change an alert.

``evaluate_episode`` asks the library to judge an episode after a session (expected
treatment response, reliable change since intake, alliance ruptures) and stores what it
said; ``raise_risk_alert`` records a risk answer. Nothing here computes a rule itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import commonfactors
from commonfactors.change import ChangeError, reliable_change
from commonfactors.trajectories import (
    COMBINED_RULE,
    DEFAULT_RULE,
    AllianceRule,
    SignalRule,
    TrajectoryError,
    alliance_rule,
    alliance_signal,
    signal,
)
from commonfactors_web.alerts.models import Alert, AlertKind, Signal, SignalKind
from commonfactors_web.alerts.notify import send_alert_email
from commonfactors_web.audit.services import record
from commonfactors_web.clients.models import Episode
from commonfactors_web.own_models import etr_model

#: A history: session number → total score of one instrument in one episode.
History = Mapping[int, float]


@cache
def _alliance_rule(instrument: str, within_sd: float, source: str) -> AllianceRule | None:
    try:
        return alliance_rule(instrument, within_sd=within_sd, within_sd_source=source)
    except TrajectoryError:
        return None


def model_label(instrument: str) -> str:
    model = etr_model(instrument)
    return model.label if model is not None else ""


def _outcome_signal(
    episode: Episode,
    instrument: str,
    history: History,
    session_number: int,
    checkin: Any,
    rule: SignalRule,
) -> Signal:
    sessions = sorted(history)
    intake, latest = history[sessions[0]], history[session_number]
    fields: dict[str, Any] = {"score": latest, "intake": intake}
    if len(sessions) > 1:
        try:
            rc = reliable_change(instrument, intake, latest)
        except ChangeError:
            rc = None
        if rc is not None:
            fields.update(
                change=rc.change,
                change_category=rc.category,
                recovered=rc.recovered,
                change_rule=f"{rc.rule}. Source: {rc.source}",
            )
    model = etr_model(instrument)
    if model is not None:
        judged = signal({s: history[s] for s in sessions if s <= session_number}, model, rule=rule)
        fields.update(
            status=judged.status or "",
            reliable_deterioration=judged.reliable_deterioration,
            expected=judged.expected,
            yellow_threshold=judged.yellow_threshold,
            red_threshold=judged.red_threshold,
            reasons=list(judged.reasons),
            rule=judged.rule,
            model_label=judged.model,
            change=judged.change if judged.change is not None else fields.get("change"),
        )
    return Signal.objects.create(
        episode=episode,
        instrument=instrument,
        session_number=session_number,
        kind=SignalKind.OUTCOME,
        checkin=checkin,
        **fields,
    )


def _alliance_signal(
    episode: Episode, instrument: str, history: History, session_number: int, checkin: Any
) -> Signal | None:
    rule = _alliance_rule(
        instrument, settings.CF_ALLIANCE_WITHIN_SD, settings.CF_ALLIANCE_WITHIN_SD_SOURCE
    )
    if rule is None:
        return None
    judged = alliance_signal({s: history[s] for s in sorted(history) if s <= session_number}, rule)
    return Signal.objects.create(
        episode=episode,
        instrument=instrument,
        session_number=session_number,
        kind=SignalKind.ALLIANCE,
        checkin=checkin,
        score=history[session_number],
        status=judged.status or "",
        reasons=list(judged.reasons),
        rule=judged.rule,
    )


def _raise_for(sig: Signal, checkin: Any, notify: bool) -> Alert | None:
    """An alert for a red or yellow outcome signal or a new alliance rupture, at most one
    open per episode, instrument and kind.

    Red and yellow (docs/support-reviews.md): a yellow signal raises no alert while a red
    alert of the same episode and instrument is open (the red one covers it); a red signal
    supersedes an open yellow alert of the same episode and instrument, which is closed
    saying so (the red alert stays open until a person resolves it)."""
    if sig.kind == SignalKind.OUTCOME and sig.status == "red":
        kind, what = AlertKind.NOT_ON_TRACK, "not on track (red)"
    elif sig.kind == SignalKind.OUTCOME and sig.status == "yellow":
        kind, what = AlertKind.LESS_CHANGE, "less change than expected (yellow)"
    elif sig.kind == SignalKind.ALLIANCE and sig.status == "rupture":
        kind, what = AlertKind.ALLIANCE_RUPTURE, "alliance rupture"
    else:
        return None
    same = Alert.objects.open().filter(episode=sig.episode, instrument=sig.instrument)
    covering = [kind, AlertKind.NOT_ON_TRACK] if kind == AlertKind.LESS_CHANGE else [kind]
    if same.filter(kind__in=covering).exists():
        return None
    name = commonfactors.default_registry().definition(sig.instrument).short_name
    alert = Alert.objects.create(
        episode=sig.episode,
        checkin=checkin,
        kind=kind,
        instrument=sig.instrument,
        session_number=sig.session_number,
        summary=f"{name} at session {sig.session_number}: {what}",
        evidence={
            "score": sig.score,
            "reasons": sig.reasons,
            "rule": sig.rule,
            "model": sig.model_label,
            "signal": sig.pk,
        },
    )
    record(None, "alert.raise", client=sig.episode.client, obj=alert, kind=kind)
    if kind == AlertKind.NOT_ON_TRACK:
        for yellow in same.filter(kind=AlertKind.LESS_CHANGE):
            Alert.objects.filter(pk=yellow.pk, resolved_at__isnull=True).update(
                resolved_at=timezone.now(),
                resolution=f"Superseded by the red alert of session {sig.session_number}, "
                "which stays open until a person resolves it.",
            )
            record(None, "alert.supersede", client=sig.episode.client, obj=yellow, by=alert.pk)
    if notify:
        transaction.on_commit(lambda: send_alert_email(alert))
    return alert


def evaluate_episode(
    episode: Episode,
    session_number: int,
    histories: Mapping[str, History],
    *,
    checkin: Any = None,
    notify: bool = True,
) -> tuple[list[Signal], list[Alert]]:
    """Judge ``episode`` at ``session_number`` on every instrument scored there, store the
    signals and raise alerts. Idempotent: a signal is stored once per session."""
    registry = commonfactors.default_registry()
    # PHQ-9 and GAD-7 followed together: the library's rule for two instruments at once
    rule = COMBINED_RULE if {"phq9", "gad7"} <= set(histories) else DEFAULT_RULE
    signals: list[Signal] = []
    alerts: list[Alert] = []
    # a session already judged keeps its signals (one query for all, no savepoint per
    # signal); a concurrent second judgement would fail on the unique constraint
    stored = {
        s.instrument: s
        for s in Signal.objects.filter(
            episode=episode, session_number=session_number, instrument__in=list(histories)
        )
    }
    for instrument, history in histories.items():
        if session_number not in history:
            continue
        measures = registry.definition(instrument).measures
        sig: Signal | None = stored.get(instrument)
        if sig is None and measures == "outcome":
            sig = _outcome_signal(episode, instrument, history, session_number, checkin, rule)
        elif sig is None and measures == "alliance":
            sig = _alliance_signal(episode, instrument, history, session_number, checkin)
        if sig is None:
            continue
        signals.append(sig)
        alert = _raise_for(sig, checkin, notify)
        if alert is not None:
            alerts.append(alert)
    return signals, alerts


def raise_risk_alert(
    episode: Episode,
    *,
    checkin: Any,
    instrument: str,
    risk_items: list[str],
    answers: Mapping[str, Any],
    session_number: int | None,
    refused: bool = False,
    notify: bool = True,
) -> Alert:
    """Record a risk answer: an alert that stays until a person resolves it, an audit event
    and (after the transaction commits) an e-mail to the therapist. Raised once per
    instrument per check-in, however often the form is sent."""
    d = commonfactors.default_registry().definition(instrument)
    reasons = [f"{r.item} ≥ {r.at_least:g}: {r.reason}" for r in d.risk if r.item in risk_items]
    defaults = {
        "episode": episode,
        "session_number": session_number,
        "summary": f"{d.short_name}: risk answer ({', '.join(risk_items)})",
        "evidence": {
            "risk_items": list(risk_items),
            "answers": {i: answers.get(i) for i in risk_items},
            "reasons": reasons,
            "refused_answers": refused,
        },
    }
    if checkin is None:
        alert, created = (
            Alert.objects.create(kind=AlertKind.RISK, instrument=instrument, **defaults),
            True,
        )
    else:
        alert, created = Alert.objects.get_or_create(
            checkin=checkin, kind=AlertKind.RISK, instrument=instrument, defaults=defaults
        )
    if not created and alert.session_number is None and session_number is not None:
        Alert.objects.filter(pk=alert.pk, session_number__isnull=True).update(
            session_number=session_number
        )
    if created:
        record(
            None,
            "risk.answer",
            client=episode.client,
            obj=alert,
            instrument=instrument,
            risk_items=list(risk_items),
        )
        if notify:
            transaction.on_commit(lambda: send_alert_email(alert))
    return alert


def acknowledge(alert: Alert, user: Any) -> Alert:
    """Someone has seen the alert (it stays open)."""
    if alert.acknowledged_at is None:
        Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=timezone.now()
        )
        alert.refresh_from_db()
        record(user, "alert.acknowledge", client=alert.episode.client, obj=alert)
    return alert


def resolve(alert: Alert, user: Any, why: str) -> Alert:
    """Close the alert, saying why; only once."""
    why = why.strip()
    if not why:
        raise ValueError("say why the alert is resolved")
    now = timezone.now()
    updated = Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        resolved_by=user,
        resolved_at=now,
        resolution=why,
        acknowledged_by=alert.acknowledged_by or user,
        acknowledged_at=alert.acknowledged_at or now,
    )
    alert.refresh_from_db()
    if updated:
        record(user, "alert.resolve", client=alert.episode.client, obj=alert, kind=alert.kind)
    return alert
