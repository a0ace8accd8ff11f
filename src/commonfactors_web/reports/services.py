"""The client progress report: gathered from the same records and library calls as the
client page (scores and signals, trajectory charts, common-factors profile, goals) and laid
out as a PDF from the ``reports/progress.html`` template.

Two audiences read it. The **client**'s copy uses plain words and holds everything the plan
holds in the client's own words (shared journal entries, cultural formulation). A
**referrer**'s copy uses clinical words and leaves the client's own words out unless the
therapist ticks to include them. Nothing is judged here: the signals are those stored when
each session was evaluated, the charts and profile are the library's.

Every report made is audited (``report.download``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from commonfactors.charts import STATUS_LABELS
from commonfactors_web.alerts.models import Signal, SignalKind
from commonfactors_web.audit.services import record
from commonfactors_web.clients.charts import episode_trajectories
from commonfactors_web.clients.models import Client, Episode
from commonfactors_web.clients.overview import history
from commonfactors_web.clients.profile import episode_profile
from commonfactors_web.clients.services import current_episode
from commonfactors_web.homework.services import shared_journal
from commonfactors_web.plans import services as plans
from commonfactors_web.plans.progress import GOALS, goal_progress
from commonfactors_web.plans.versions import PLAN_FIELDS
from commonfactors_web.reports.pdf import html_to_pdf

CLIENT = "client"
REFERRER = "referrer"

#: The outcome signal in plain words, for the client's copy (the referrer's copy shows the
#: chart's own labels, ``commonfactors.charts.STATUS_LABELS``).
PLAIN_STATUS: dict[Any, str] = {
    "on_track": "Changing as expected",
    "yellow": "Less change than expected so far",
    "red": "Not changing as hoped: worth talking over together",
    None: "Too early to compare",
}

#: The plain words of the client's copy beside the clinical words of the referrer's.
WORDS = {
    CLIENT: {
        "title": "Your progress report",
        "scores": "Your questionnaire scores",
        "band": "What the score means",
        "change": "Change since the first session",
        "signal": "Compared with people who started where you did",
        "charts": "How your scores have moved",
        "profile": "How the work together is going",
        "goals": "Your goals",
        "journal": "Journal entries you shared",
        "culture": "What you told us matters about you and your background",
    },
    REFERRER: {
        "title": "Progress report",
        "scores": "Outcome measures",
        "band": "Severity band",
        "change": "Change since intake",
        "signal": "Signal",
        "charts": "Trajectories",
        "profile": "Common-factors profile",
        "goals": "Treatment goals",
        "journal": "Journal entries shared by the client",
        "culture": "Cultural formulation",
    },
}


class ReportError(ValueError):
    """The report cannot be made; ``problems`` names every reason."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(f"{message}: {'; '.join(problems)}")
        self.problems = problems


@dataclass(frozen=True)
class Report:
    content: bytes
    filename: str
    html: str


def _formulation(episode: Episode, client: Client) -> list[tuple[str, str]]:
    """The cultural formulation as (label, text) pairs, empty fields left out."""
    plan = plans.plan_of(episode)
    rows = [("Cultural background", client.cultural_background)]
    for field, (section, label, choices) in PLAN_FIELDS.items():
        if section != "Cultural formulation":
            continue
        value = getattr(plan, field)
        rows.append((label, choices(value).label if choices and value else value))
    return [(label, text) for label, text in rows if text and str(text).strip()]


def _scores(histories: list[Any], audience: str) -> list[dict[str, Any]]:
    """One table per instrument: each score with its band, change and stored signal."""
    out = []
    for h in histories:
        if h.instrument == GOALS:  # the goal ratings have a section of their own
            continue
        rows = [
            {
                "session": r.session_number,
                "date": r.date,
                "score": r.score.total,
                "band": r.score.band,
                "change": r.signal.change if r.signal is not None else None,
                "category": r.signal.change_category if r.signal is not None else "",
                "recovered": bool(r.signal is not None and r.signal.recovered),
                "signal": _signal_words(r.signal, audience),
            }
            for r in h.rows
        ]
        labels = sorted({r.signal.model_label for r in h.rows if r.signal and r.signal.model_label})
        out.append({"name": h.name, "rows": rows, "model_labels": labels})
    return out


def _signal_words(sig: Signal | None, audience: str) -> str:
    """The stored signal in the audience's words."""
    if sig is None or not sig.status:
        return PLAIN_STATUS[None] if sig is not None and audience == CLIENT else "—"
    if sig.kind == SignalKind.OUTCOME and sig.status in PLAIN_STATUS:
        words: dict[Any, str] = PLAIN_STATUS if audience == CLIENT else dict(STATUS_LABELS)
        return words[sig.status]
    if audience == CLIENT:  # an alliance or other process signal: talked over, not printed
        return "—"
    return str(sig.status).replace("_", " ")


def report_context(
    client: Client,
    *,
    audience: str,
    include_private: bool = False,
    author: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything the report template shows."""
    if audience not in WORDS:
        raise ReportError("the report cannot be made", [f"unknown audience {audience!r}"])
    episode = current_episode(client)
    own_words = audience == CLIENT or include_private
    context: dict[str, Any] = {
        "client": client,
        "episode": episode,
        "audience": audience,
        "for_client": audience == CLIENT,
        "own_words": own_words,
        "words": WORDS[audience],
        "author": author,
        "made_at": timezone.localtime(now or timezone.now()),
        "scores": [],
        "charts": [],
        "standings": [],
        "goals": [],
        "journal": [],
        "formulation": [],
        "model_labels": [],
    }
    if episode is None:
        return context
    histories = history(episode)
    charts = episode_trajectories(episode, histories)
    scores = _scores(histories, audience)
    context.update(
        scores=scores,
        charts=charts,
        standings=episode_profile(episode),
        goals=goal_progress(episode, plans.agreed_goals(episode)),
        model_labels=sorted(
            {label for s in scores for label in s["model_labels"]}
            | {c.data.model_label for c in charts if c.data.model_label}
        ),
    )
    if own_words:
        context.update(
            journal=list(shared_journal(episode).order_by("created_at")),
            formulation=_formulation(episode, client),
        )
    return context


def report_html(client: Client, **options: Any) -> str:
    """The report as one self-contained HTML document (its styles and charts inline)."""
    return render_to_string("reports/progress.html", report_context(client, **options))


def client_report(
    user: Any, client: Client, *, audience: str, include_private: bool = False
) -> Report:
    """The PDF progress report of ``client`` made by ``user`` (who may view the client:
    the caller checked with ``accounts.access.client_for_view``); audited."""
    html = report_html(client, audience=audience, include_private=include_private, author=user)
    content = html_to_pdf(html)
    day = timezone.localdate().isoformat()
    record(
        user,
        "report.download",
        client=client,
        obj=client,
        audience=audience,
        own_words=audience == CLIENT or include_private,
        bytes=len(content),
    )
    return Report(content, f"progress-report-{slugify(client.code)}-{audience}-{day}.pdf", html)
