"""What the therapist pages show: the caseload rows and a client's history, read in a few
queries. Everything shown was computed by the library when the session was stored."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber

from commonfactors_web.alerts.models import Alert, AlertKind, Signal, SignalKind
from commonfactors_web.alerts.services import model_label
from commonfactors_web.checkins.instruments import short_name
from commonfactors_web.checkins.models import Score
from commonfactors_web.clients.models import (
    Attendance,
    Client,
    Episode,
    EpisodeStatus,
    Session,
)

#: Who needs attention first (issue 5): the urgency tiers of the caseload, in order.
URGENCY = (
    ("risk", "Open risk alert"),
    ("red", "Not on track (red)"),
    ("rupture", "Alliance rupture"),
    ("yellow", "Less change than expected (yellow)"),
    ("overdue", "Check-in overdue"),
    ("rest", "No flag"),
)
_TIER = {key: n for n, (key, _) in enumerate(URGENCY)}
FLAG_LABELS = dict(URGENCY)
#: open alert kinds → the tier they put a client in
_ALERT_TIER = {
    AlertKind.RISK: "risk",
    AlertKind.NOT_ON_TRACK: "red",
    AlertKind.ALLIANCE_RUPTURE: "rupture",
    AlertKind.LESS_CHANGE: "yellow",
}


@dataclass
class CaseloadRow:
    client: Client
    episode_id: int | None
    episode_status: str
    sessions: int
    score: float | None
    band: str
    change: float | None
    change_category: str
    status: str
    alliance_status: str
    session_number: int | None
    last_date: Any
    open_alerts: int
    open_kinds: frozenset[str]
    due: Any = None  # reminders.schedule.Due of the current episode, when active

    flags: list[str] = field(init=False)  # the urgency flags that hold, most urgent first
    open_risk: bool = field(init=False)
    tier: str = field(init=False)
    flag_labels: list[tuple[str, str]] = field(init=False)
    status_badge: tuple[str, str] = field(init=False)  # (css class, words) when no flag

    def __post_init__(self) -> None:
        # worked out once per row: the template reads them for every row of a caseload
        held = {_ALERT_TIER[k] for k in self.open_kinds if k in _ALERT_TIER}
        if self.status in ("red", "yellow"):
            held.add(self.status)
        if self.alliance_status == "rupture":
            held.add("rupture")
        if self.due is not None and self.due.overdue:
            held.add("overdue")
        self.flags = sorted(held, key=_TIER.__getitem__)
        self.open_risk = AlertKind.RISK in self.open_kinds
        self.tier = self.flags[0] if self.flags else "rest"
        self.flag_labels = [(f, FLAG_LABELS[f]) for f in self.flags]
        self.status_badge = _STATUS_BADGES.get(self.status, ("", "not judged yet"))

    @property
    def attention(self) -> tuple[int, int, str]:
        return (_TIER[self.tier], -self.open_alerts, self.client.code)


#: How a row without a flag shows its latest primary signal (as clients/status_badge.html).
_STATUS_BADGES = {"on_track": ("badge badge-ok", "On track")}


def _current_episodes(clients: QuerySet[Client]) -> dict[int, tuple[int, str]]:
    """Client id → (episode id, status) of their current episode: the active one, else the
    latest (as :func:`clients.services.current_episode` chooses)."""
    current: dict[int, tuple[int, str, tuple[bool, Any, int]]] = {}
    for pk, client_id, status, started in Episode.objects.filter(
        client__in=clients.values("pk")
    ).values_list("pk", "client_id", "status", "started_on"):
        key = (status == EpisodeStatus.ACTIVE, started, pk)
        if client_id not in current or key > current[client_id][2]:
            current[client_id] = (pk, status, key)
    return {c: (pk, status) for c, (pk, status, _) in current.items()}


def caseload(clients: QuerySet[Client], *, due: Any = None) -> list[CaseloadRow]:
    """One row per client, most in need of attention first (:data:`URGENCY`): an open risk
    alert, red, an alliance rupture, yellow, a check-in overdue, then the rest.

    ``due``: a function giving each active episode's next check-in (episode id → Due).
    The same few queries whatever the caseload's size: the current episodes, the latest
    primary and alliance signals and the latest primary score of each (one window-function
    pass each, not a correlated subquery per column and client), session counts, open
    alerts, the clients and their therapists."""
    primary = settings.CF_PRIMARY_OUTCOME
    current = _current_episodes(clients)
    # every episode of the clients shown, as a subquery (a list of ids as parameters is
    # slow to prepare); only the current episodes' rows are used below
    visible = clients.values("pk")
    signals = _latest_per_client(
        Signal.objects.filter(episode__client__in=visible, instrument=primary),
        "episode_id",
        ("-session_number",),
        ("score", "change", "change_category", "status", "session_number"),
    )
    alliance = _latest_per_client(
        Signal.objects.filter(episode__client__in=visible, kind=SignalKind.ALLIANCE),
        "episode_id",
        ("-session_number", "-pk"),
        ("status",),
    )
    scores = _latest_per_client(
        Score.objects.filter(
            administration__session__episode__client__in=visible, instrument=primary
        ),
        "administration__session__episode_id",
        ("-administration__session__number",),
        ("band", "administration__session__date"),
    )
    sessions = dict(
        Session.objects.filter(episode__client__in=visible, attendance=Attendance.ATTENDED)
        .order_by()
        .values("episode_id")
        .annotate(n=Count("pk"))
        .values_list("episode_id", "n")
    )
    n_open: Counter[int] = Counter()
    kinds: defaultdict[int, set[str]] = defaultdict(set)
    for client_id, kind in (
        Alert.objects.open()
        .filter(episode__client__in=visible)
        .order_by()
        .values_list("episode__client_id", "kind")
    ):
        n_open[client_id] += 1
        kinds[client_id].add(kind)
    active = [pk for pk, status in current.values() if status == EpisodeStatus.ACTIVE]
    dues = due(active) if due is not None and active else {}
    result = []
    # prefetched, not joined: one therapist object shared by their clients
    for c in clients.prefetch_related("therapist"):
        episode_id, episode_status = current.get(c.pk, (None, ""))
        sig = signals.get(episode_id, {})
        score = scores.get(episode_id, {})
        result.append(
            CaseloadRow(
                client=c,
                episode_id=episode_id,
                episode_status=episode_status,
                sessions=sessions.get(episode_id, 0),
                score=sig.get("score"),
                band=score.get("band") or "",
                change=sig.get("change"),
                change_category=sig.get("change_category") or "",
                status=sig.get("status") or "",
                alliance_status=alliance.get(episode_id, {}).get("status") or "",
                session_number=sig.get("session_number"),
                last_date=score.get("administration__session__date"),
                open_alerts=n_open[c.pk],
                open_kinds=frozenset(kinds[c.pk]),
                due=dues.get(episode_id),
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
