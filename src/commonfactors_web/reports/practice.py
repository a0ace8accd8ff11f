"""The practice report: the team's outcomes over a period as a PDF, for a supervisor.

Built from the tidy tables of :mod:`commonfactors.tidy` (read through
``exports.services.collect``, pseudonymised: no names or free text) and summarised by
:mod:`commonfactors.practice`, which owns every rule: episodes finished, NHS Talking Therapies
recovery, reliable improvement and reliable deterioration, dropout and the pre–post effect
size, each with its 95 % interval, and the share of attended sessions with a check-in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from commonfactors import practice
from commonfactors_web.accounts import access
from commonfactors_web.audit.services import record
from commonfactors_web.exports.services import collect
from commonfactors_web.practice.services import team_profiles
from commonfactors_web.reports.pdf import html_to_pdf
from commonfactors_web.reports.services import Report


def may_make(user: Any) -> bool:
    """A practice report is for supervisors: it covers their team's clients."""
    return access.is_team_supervisor(user)


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {**r, "is_rate": r["measure"] != "pre-post effect size"}
        for r in frame.iter_rows(named=True)
    ]


def _trend(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """One row per month of episode end: each measure side by side."""
    months: dict[date, dict[str, Any]] = {}
    for r in _rows(frame):
        months.setdefault(r["month"], {"month": r["month"], "measures": []})["measures"].append(r)
    return [months[m] for m in sorted(months)]


def practice_context(
    user: Any,
    *,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What the practice report shows, for the clients ``user`` may see."""
    clients = access.visible_clients(user)
    records = collect(clients)
    tables = records.tables()
    ended = practice.ended_in(tables.episodes, since, until)
    return {
        "user": user,
        "team": user.team,
        "since": since,
        "until": until,
        "made_at": timezone.localtime(now or timezone.now()),
        "clients": len(records.client_ids),
        "client_ids": records.client_ids,
        "ended": ended.height,
        "outcomes": _rows(practice.outcomes(tables.episodes, since=since, until=until)),
        "trend": _trend(practice.trend(tables.episodes, since=since, until=until)),
        "completeness": practice.completeness(tables.sessions, since=since, until=until).row(
            0, named=True
        ),
        "primary": settings.CF_PRIMARY_OUTCOME,
        # the therapist profiles and the funnel plot, as the dashboard shows them
        "team_profiles": team_profiles(user, since, until),
    }


def practice_report(user: Any, *, since: date | None = None, until: date | None = None) -> Report:
    """The PDF practice report of ``user``'s team (the caller checked :func:`may_make`);
    audited with the clients it covers."""
    context = practice_context(user, since=since, until=until)
    html = render_to_string("reports/practice.html", context)
    content = html_to_pdf(html)
    record(
        user,
        "report.practice.download",
        team=user.team_id,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        clients=context["client_ids"],
    )
    day = timezone.localdate().isoformat()
    return Report(content, f"practice-report-{day}.pdf", html)
