"""The caseload's table rows as HTML, built in Python.

A caseload of 200 clients is 200 rows of about 30 values each; Django's template engine
resolves each value with several lookups, and that alone cost ~28 ms a page — more than the
queries. Here each row is one ``format_html`` call (every value escaped), ~5 ms a page.
What a row shows is documented in ``docs/web.md`` (The caseload)."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from commonfactors_web.clients.overview import CaseloadRow

_DASH = mark_safe('<span class="muted">—</span>')


def _num(x: float) -> str:
    """A score as floatformat:"-1" shows it: 12, 12.5."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _day(d: date, year: bool = True) -> str:
    return f"{d.day} {d:%b %Y}" if year else f"{d.day} {d:%b}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def row_html(row: CaseloadRow, *, show_therapist: bool, url_prefix: str) -> SafeString:
    c = row.client
    client = format_html(
        '<a href="{}{}/">{}</a>{}{}',
        url_prefix,
        c.pk,
        c.code,
        format_html(' <span class="muted">{}</span>', c.name) if c.name else "",
        mark_safe(' <span class="muted">(ended)</span>')
        if row.episode_status and row.episode_status != "active"
        else "",
    )
    therapist = format_html("<td>{}</td>", c.therapist.display_name) if show_therapist else ""
    if row.score is None:
        score: SafeString = _DASH
    else:
        score = format_html(
            '{} <span class="muted">{}</span>{}',
            _num(row.score),
            row.band,
            format_html('<br><span class="muted small">{}</span>', _day(row.last_date, False))
            if row.last_date
            else "",
        )
    if row.change is None:
        change: SafeString = _DASH
    else:
        change = format_html(
            "{}{}",
            _num(row.change),
            format_html(' <span class="muted">{}</span>', row.change_category)
            if row.change_category
            else "",
        )
    if row.flag_labels:
        flags = format_html_join(
            "", '<span class="badge badge-flag-{}">{}</span> ', row.flag_labels
        )
    else:
        css, words = row.status_badge
        flags = format_html('<span class="{}">{}</span>', css or "muted", words)
    if row.open_alerts:
        flags = format_html(
            '{}<br><span class="muted small">{}</span>',
            flags,
            _plural(row.open_alerts, "open alert"),
        )
    due = row.due
    if due is None:
        next_checkin: SafeString = _DASH
    else:
        note = ""
        if due.overdue:
            note = format_html(
                ' <span class="muted small">({} late)</span>', _plural(due.days_late, "day")
            )
        elif due.open_checkin is not None:
            note = mark_safe(' <span class="muted small">(link sent)</span>')
        next_checkin = format_html("{}{}", _day(due.date), note)
    return format_html(
        '<tr class="tier-{}{}"><th scope="row">{}</th>{}<td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>",
        row.tier,
        " row-risk" if row.open_risk else "",
        client,
        therapist,
        row.sessions,
        score,
        change,
        flags,
        next_checkin,
    )


def rows_html(rows: list[CaseloadRow], *, show_therapist: bool) -> SafeString:
    prefix = reverse("client_detail", args=[0]).removesuffix("0/")
    return mark_safe(
        "\n".join(row_html(r, show_therapist=show_therapist, url_prefix=prefix) for r in rows)
    )
