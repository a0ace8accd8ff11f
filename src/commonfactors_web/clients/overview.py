"""What the therapist pages show: the caseload rows and a client's history, read in a few
queries. Everything shown was computed by the library when the session was stored."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.alerts.services import model_label
from commonfactors_web.checkins.instruments import short_name
from commonfactors_web.checkins.models import Score
from commonfactors_web.clients.models import Client

_ATTENTION = {"red": 1, "yellow": 2, "on_track": 4, "": 3}


@dataclass
class CaseloadRow:
    client: Client
    score: float | None
    band: str
    change: float | None
    change_category: str
    status: str
    session_number: int | None
    last_date: Any
    open_risk: bool
    open_alerts: int

    @property
    def attention(self) -> tuple[int, int, str]:
        first = 0 if self.open_risk else _ATTENTION.get(self.status, 3)
        return (first, -self.open_alerts, self.client.code)


def caseload(clients: QuerySet[Client]) -> list[CaseloadRow]:
    """One row per client, most in need of attention first: an open risk alert, then red,
    yellow, not judged yet, on track.

    The same few queries whatever the caseload's size: the latest primary signal and the
    latest primary score of each client (one window-function pass each, not a correlated
    subquery per column and client), the open alerts, the clients and their therapists."""
    primary = settings.CF_PRIMARY_OUTCOME
    visible = clients.values("pk")
    signals = _latest_per_client(
        Signal.objects.filter(episode__client__in=visible, instrument=primary),
        "episode__client_id",
        ("-episode__started_on", "-episode_id", "-session_number"),
        ("score", "change", "change_category", "status", "session_number"),
    )
    scores = _latest_per_client(
        Score.objects.filter(
            administration__session__episode__client__in=visible, instrument=primary
        ),
        "administration__session__episode__client_id",
        (
            "-administration__session__episode__started_on",
            "-administration__session__episode_id",
            "-administration__session__number",
        ),
        ("band", "administration__session__date"),
    )
    n_open: Counter[int] = Counter()
    open_risk: set[int] = set()
    for client_id, kind in (
        Alert.objects.open()
        .filter(episode__client__in=visible)
        .order_by()
        .values_list("episode__client_id", "kind")
    ):
        n_open[client_id] += 1
        if kind == AlertKind.RISK:
            open_risk.add(client_id)
    result = []
    # prefetched, not joined: one therapist object shared by their clients
    for c in clients.prefetch_related("therapist"):
        sig = signals.get(c.pk, {})
        score = scores.get(c.pk, {})
        result.append(
            CaseloadRow(
                client=c,
                score=sig.get("score"),
                band=score.get("band") or "",
                change=sig.get("change"),
                change_category=sig.get("change_category") or "",
                status=sig.get("status") or "",
                session_number=sig.get("session_number"),
                last_date=score.get("administration__session__date"),
                open_risk=c.pk in open_risk,
                open_alerts=n_open[c.pk],
            )
        )
    result.sort(key=lambda r: r.attention)
    return result


def _latest_per_client(
    rows: QuerySet[Any], client: str, order: tuple[str, ...], fields: tuple[str, ...]
) -> dict[int, dict[str, Any]]:
    """Client id → ``fields`` of the first of ``rows`` in ``order`` for that client."""
    ranked = (
        rows.annotate(
            latest_client=F(client),
            latest_rank=Window(RowNumber(), partition_by=F(client), order_by=list(order)),
        )
        .filter(latest_rank=1)
        .order_by()
        .values("latest_client", *fields)
    )
    return {r.pop("latest_client"): r for r in ranked}


def primary_model_label() -> str:
    return model_label(settings.CF_PRIMARY_OUTCOME)


@dataclass
class HistoryRow:
    session_number: int
    date: Any
    score: Score
    signal: Signal | None


@dataclass
class InstrumentHistory:
    instrument: str
    name: str
    rows: list[HistoryRow] = field(default_factory=list)

    @property
    def latest_signal(self) -> Signal | None:
        judged = [r.signal for r in self.rows if r.signal is not None]
        return judged[-1] if judged else None


def history(episode: Any) -> list[InstrumentHistory]:
    """Every score of the episode with the signal made at that session, by instrument."""
    scores = (
        Score.objects.filter(administration__session__episode=episode)
        .select_related("administration__session")
        .order_by("instrument", "administration__session__number")
    )
    signals = {(s.instrument, s.session_number): s for s in Signal.objects.filter(episode=episode)}
    by_instrument: dict[str, InstrumentHistory] = {}
    for s in scores:
        session = s.administration.session
        entry = by_instrument.setdefault(
            s.instrument, InstrumentHistory(s.instrument, short_name(s.instrument))
        )
        entry.rows.append(
            HistoryRow(session.number, session.date, s, signals.get((s.instrument, session.number)))
        )
    primary = settings.CF_PRIMARY_OUTCOME
    return sorted(by_instrument.values(), key=lambda h: (h.instrument != primary, h.instrument))


def alerts_of(episode: Any) -> tuple[list[Alert], list[Alert]]:
    """Open alerts (risk first) and resolved ones."""
    grouped: dict[bool, list[Alert]] = defaultdict(list)
    for a in Alert.objects.filter(episode=episode).select_related("resolved_by", "acknowledged_by"):
        grouped[a.resolved_at is None].append(a)
    open_alerts = sorted(grouped[True], key=lambda a: (a.kind != AlertKind.RISK, -a.pk))
    return open_alerts, grouped[False]
