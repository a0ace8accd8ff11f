"""The common-factors profile: where an episode stands on each factor the practice measures.

Each factor (alliance, client-rated empathy, expectancy, motivation and readiness, goal
progress, homework completion, attendance, client-rated cultural humility, preferences) is
described in ``data/factors.yaml`` — what it means, which instruments measure it (by their
``measures`` field) and its published association with outcome, with the source.

:func:`profile` reads an episode's measurements and records and gives, for every factor, its
latest standing (the instrument, value, range, band and date behind it) and its trend since
the first measurement: judged with the instrument's reliable-change threshold where the
definition has one (:func:`commonfactors.change.reliable_change`), otherwise only described
(never called reliable). A factor with no measurement is reported as not measured — never
guessed or filled in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from commonfactors.change import ChangeError, reliable_change
from commonfactors.homework.completion import CompletionSummary
from commonfactors.instruments.registry import Registry, default_registry

__all__ = [
    "Attendance",
    "Factor",
    "Measurement",
    "Standing",
    "factors",
    "profile",
]

Trend = Literal["better", "worse", "no_reliable_change", "higher", "lower", "same", "once"]


@dataclass(frozen=True)
class Factor:
    """One common factor, as ``data/factors.yaml`` describes it."""

    id: str
    name: str
    meaning: str
    association: str
    source: str
    measures: str | None = None  # the instruments' ``measures`` value
    records: str | None = None  # "attendance" or "homework": read from the episode's records


@dataclass(frozen=True)
class Measurement:
    """One score of one instrument in the episode."""

    instrument: str
    value: float
    session: int | None = None
    date: date | None = None
    band: str | None = None


@dataclass(frozen=True)
class Attendance:
    """Sessions of the episode by attendance."""

    attended: int = 0
    did_not_attend: int = 0
    cancelled: int = 0
    last_missed: bool = False  # the most recent booked session was missed without notice


@dataclass(frozen=True)
class Standing:
    """Where the episode stands on one factor."""

    factor: Factor
    measured: bool
    summary: str  # the latest standing in words ("Not measured in this episode" if none)
    instrument: str | None = None
    instrument_name: str = ""
    value: float | None = None
    low: float | None = None
    high: float | None = None
    band: str | None = None
    session: int | None = None
    date: date | None = None
    count: int = 0  # measurements behind the trend
    trend: Trend | None = None
    trend_text: str = ""
    details: tuple[str, ...] = field(default=())

    @property
    def position(self) -> float | None:
        """The latest value as a share of the instrument's range (0-1), for a bar."""
        if self.value is None or self.low is None or self.high is None or self.high <= self.low:
            return None
        return max(0.0, min(1.0, (self.value - self.low) / (self.high - self.low)))


@cache
def factors() -> tuple[Factor, ...]:
    """The factors of the profile, in the order they are shown."""
    text = resources.files("commonfactors").joinpath("data/factors.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    return tuple(
        Factor(
            id=str(f["id"]),
            name=str(f["name"]),
            meaning=" ".join(str(f["meaning"]).split()),
            association=" ".join(str(f["association"]).split()),
            source=" ".join(str(f["source"]).split()),
            measures=f.get("measures"),
            records=f.get("records"),
        )
        for f in doc["factors"]
    )


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def _ordered(ms: Sequence[Measurement]) -> list[Measurement]:
    return sorted(
        ms, key=lambda m: (m.date or date.min, m.session if m.session is not None else -1)
    )


def _trend(instrument: str, series: Sequence[Measurement], registry: Registry) -> tuple[Trend, str]:
    """The change from the first to the latest measurement, in words, with the rule."""
    d = registry.definition(instrument)
    if len(series) < 2:
        return "once", "Measured once: no trend yet."
    first, latest = series[0], series[-1]
    diff = latest.value - first.value
    since = f"since the first measurement ({_fmt(first.value)})"
    if d.reliable_change is not None:
        try:
            rc = reliable_change(d, first.value, latest.value)
        except ChangeError:
            rc = None
        if rc is not None:
            size = f"{_fmt(abs(diff))} points {'up' if diff > 0 else 'down'}"
            size += f" (threshold {_fmt(rc.threshold)})."
            if rc.category == "improved":
                return "better", f"Reliably better {since}: {size}"
            if rc.category == "deteriorated":
                return "worse", f"Reliably worse {since}: {size}"
            return (
                "no_reliable_change",
                f"No reliable change {since} (a change of {_fmt(rc.threshold)} points would be).",
            )
    if diff == 0:
        return "same", f"The same as at the first measurement ({_fmt(first.value)})."
    word: Trend = "higher" if diff > 0 else "lower"
    return word, (
        f"{_fmt(abs(diff))} {'higher' if diff > 0 else 'lower'} {since}; {d.short_name} has no "
        "reliable-change threshold, so this is not judged as real change."
    )


def _measured(factor: Factor, ms: Sequence[Measurement], registry: Registry) -> Standing | None:
    if not ms:
        return None
    latest = _ordered(ms)[-1]
    series = _ordered([m for m in ms if m.instrument == latest.instrument])
    d = registry.definition(latest.instrument)
    low, high = d.score_range
    trend, trend_text = _trend(latest.instrument, series, registry)
    others = sorted({m.instrument for m in ms} - {latest.instrument})
    details = tuple(f"Also measured with {registry.definition(i).short_name}." for i in others)
    band = f", {latest.band}" if latest.band else ""
    return Standing(
        factor=factor,
        measured=True,
        summary=f"{_fmt(latest.value)} on {d.short_name} ({_fmt(low)}–{_fmt(high)}{band})",
        instrument=latest.instrument,
        instrument_name=d.short_name,
        value=latest.value,
        low=low,
        high=high,
        band=latest.band,
        session=latest.session,
        date=latest.date,
        count=len(series),
        trend=trend,
        trend_text=trend_text,
        details=details,
    )


def _attendance(factor: Factor, a: Attendance | None) -> Standing | None:
    if a is None or a.attended + a.did_not_attend == 0:
        return None
    booked = a.attended + a.did_not_attend
    summary = f"{a.attended} of {booked} booked sessions attended"
    details = []
    if a.did_not_attend:
        details.append(f"{a.did_not_attend} missed without notice.")
    if a.cancelled:
        details.append(f"{a.cancelled} cancelled (not counted as booked).")
    trend_text = (
        "The most recent booked session was missed without notice."
        if a.last_missed
        else "The most recent booked session was attended."
    )
    return Standing(
        factor=factor,
        measured=True,
        summary=summary,
        value=a.attended / booked,
        low=0.0,
        high=1.0,
        count=booked,
        trend="worse" if a.last_missed else None,
        trend_text=trend_text,
        details=tuple(details),
    )


def _homework(factor: Factor, h: CompletionSummary | None) -> Standing | None:
    """From the assignments (:func:`commonfactors.homework.completion`): completed out of
    those due so far; assignments not yet due are not counted against the client."""
    if h is None or h.assigned == 0:
        return None
    details = []
    if h.overdue:
        details.append(f"{h.overdue} overdue.")
    if h.open:
        details.append(f"{h.open} set and not due yet.")
    if h.due == 0:
        return Standing(
            factor=factor,
            measured=True,
            summary=f"{h.assigned} assignment{'s' if h.assigned != 1 else ''} set, none due yet",
            count=0,
            trend_text="Nothing to count yet.",
            details=tuple(details),
        )
    return Standing(
        factor=factor,
        measured=True,
        summary=f"{h.completed} of {h.due} due assignments completed",
        value=h.completed / h.due,
        low=0.0,
        high=1.0,
        date=h.last_completion,
        count=h.due,
        trend_text=(
            f"Last completed {h.last_completion.day} {h.last_completion:%b %Y}; "
            f"{h.completed_on_time} on time."
            if h.last_completion
            else "None completed yet."
        ),
        details=tuple(details),
    )


def profile(
    measurements: Iterable[Measurement],
    *,
    attendance: Attendance | None = None,
    homework: CompletionSummary | None = None,
    registry: Registry | None = None,
) -> list[Standing]:
    """Every factor's standing, in the order of :func:`factors`.

    ``measurements``: the episode's scores of any instruments (those that measure none of
    the factors are ignored). A factor measured by several instruments stands on the one
    measured most recently; the others are named in ``details``. Homework completion comes
    from the assignments when any were set (:func:`commonfactors.homework.completion`),
    otherwise from a homework questionnaire.
    """
    registry = registry or default_registry()
    by_measure: dict[str, list[Measurement]] = {}
    for m in measurements:
        measures = registry.definition(m.instrument).measures
        by_measure.setdefault(measures, []).append(m)
    result = []
    for f in factors():
        standing: Standing | None = None
        if f.records == "attendance":
            standing = _attendance(f, attendance)
        if f.records == "homework":
            standing = _homework(f, homework)
            questionnaire = _measured(f, by_measure.get(f.measures or "", []), registry)
            if standing is None:
                standing = questionnaire
            elif questionnaire is not None:
                standing = _with_detail(
                    standing, f"Client-rated: {questionnaire.summary}. {questionnaire.trend_text}"
                )
        elif f.measures is not None and standing is None:
            standing = _measured(f, by_measure.get(f.measures, []), registry)
        result.append(
            standing or Standing(factor=f, measured=False, summary="Not measured in this episode")
        )
    return result


def _with_detail(s: Standing, detail: str) -> Standing:
    return replace(s, details=(*s.details, detail))
