"""What the therapist pages show: the caseload rows and a client's history, read in a few
queries. Everything shown was computed by the library when the session was stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

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
    yellow, not judged yet, on track."""
    primary = settings.CF_PRIMARY_OUTCOME
    latest_signal = Signal.objects.filter(
        episode__client=OuterRef("pk"), instrument=primary
    ).order_by("-episode__started_on", "-episode__pk", "-session_number")
    latest_score = Score.objects.filter(
        administration__session__episode__client=OuterRef("pk"), instrument=primary
    ).order_by(
        "-administration__session__episode__started_on",
        "-administration__session__episode__pk",
        "-administration__session__number",
    )
    open_alerts = Alert.objects.filter(episode__client=OuterRef("pk"), resolved_at__isnull=True)
    rows = clients.select_related("therapist").annotate(
        sig_score=Subquery(latest_signal.values("score")[:1]),
        sig_change=Subquery(latest_signal.values("change")[:1]),
        sig_category=Subquery(latest_signal.values("change_category")[:1]),
        sig_status=Subquery(latest_signal.values("status")[:1]),
        sig_session=Subquery(latest_signal.values("session_number")[:1]),
        score_band=Subquery(latest_score.values("band")[:1]),
        last_date=Subquery(latest_score.values("administration__session__date")[:1]),
        open_risk=Exists(open_alerts.filter(kind=AlertKind.RISK)),
        n_open=Count("episodes__alerts", filter=Q(episodes__alerts__resolved_at__isnull=True)),
    )
    result = [
        CaseloadRow(
            client=c,
            score=c.sig_score,
            band=c.score_band or "",
            change=c.sig_change,
            change_category=c.sig_category or "",
            status=c.sig_status or "",
            session_number=c.sig_session,
            last_date=c.last_date,
            open_risk=c.open_risk,
            open_alerts=c.n_open,
        )
        for c in rows
    ]
    result.sort(key=lambda r: r.attention)
    return result


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
