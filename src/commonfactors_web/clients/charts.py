"""The trajectory charts of the client page, drawn from the episode's stored scores and
signals by the library (:mod:`commonfactors.charts`).

Nothing is judged here: each point carries the outcome signal stored when its session was
evaluated (``alerts.services.evaluate_episode``), the zones at those sessions are the
thresholds stored on those signals, and an alliance rupture is marked where its signal was
stored. Only the expected course *beyond* the sessions judged so far is read from the
model (the library's :func:`~commonfactors.charts.expected_course`), with the percentile
bands the stored signals were judged with.

Both costly steps are cached (Django's cache): the spec, built with Altair, under a hash
of the chart's data and code (:func:`chart_spec`); the static SVG (for pages without
JavaScript, for print and for reports), rendered by vl-convert, under a hash of the spec
(:func:`static_svg`). The same data give the same picture, built and rendered once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
from django.core.cache import cache
from django.utils import dateformat
from django.utils.safestring import SafeString, mark_safe

import commonfactors
import commonfactors.charts
from commonfactors.charts import (
    VEGA_LITE_VERSION,
    ExpectedSession,
    SessionScore,
    Trajectory,
    expected_course,
    to_svg,
    trajectory,
    trajectory_chart,
)
from commonfactors.trajectories import COMBINED_RULE, DEFAULT_RULE, SignalRule
from commonfactors_web.alerts.models import Signal, SignalKind
from commonfactors_web.clients.overview import InstrumentHistory, history
from commonfactors_web.own_models import etr_model

#: What an instrument must measure to be charted as an outcome (lower or higher is better).
CHARTED = frozenset({"outcome", "wellbeing", "functioning"})
#: How many sessions past the latest score the expected course is drawn.
HORIZON = 3
#: How long a rendered SVG is kept (the key changes whenever the data do).
SVG_TTL = 60 * 60 * 24 * 30

_STATUSES = {"on_track", "yellow", "red"}

#: The chart code a cached spec was built with: the library's chart module, Altair and
#: Vega-Lite versions (a change to any of them builds every chart anew).
_CODE = hashlib.sha256(
    Path(commonfactors.charts.__file__).read_bytes()
    + f"{alt.__version__} {VEGA_LITE_VERSION}".encode()
).hexdigest()


@dataclass(frozen=True)
class TrajectoryView:
    """One instrument's chart on the page: the spec for the interactive chart, the static
    SVG of the same spec, and the table of values."""

    instrument: str
    name: str
    data: Trajectory
    spec: dict[str, Any]
    svg: SafeString

    @property
    def dom_id(self) -> str:
        return f"trajectory-{self.instrument}"

    @property
    def spec_id(self) -> str:
        return f"{self.dom_id}-spec"

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.data.table()

    @property
    def summary(self) -> str:
        return self.data.summary()


def episode_trajectories(
    episode: Any, histories: Sequence[InstrumentHistory] | None = None
) -> list[TrajectoryView]:
    """A chart per outcome instrument the episode has scores on (the primary outcome
    first, as in ``histories``). ``histories``: the page's :func:`overview.history`,
    when it has it already (no further query is made)."""
    if episode is None:
        return []
    if histories is None:
        histories = history(episode)
    registry = commonfactors.default_registry()
    ruptures = sorted(
        {
            r.session_number
            for h in histories
            if registry.definition(h.instrument).measures == "alliance"
            for r in h.rows
            if r.signal is not None
            and r.signal.kind == SignalKind.ALLIANCE
            and r.signal.status == "rupture"
        }
    )
    views = []
    for h in histories:
        if not h.rows or registry.definition(h.instrument).measures not in CHARTED:
            continue
        data = trajectory_data(h, ruptures)
        spec = chart_spec(data)
        views.append(TrajectoryView(h.instrument, data.name, data, spec, static_svg(spec)))
    return views


def chart_spec(data: Trajectory) -> dict[str, Any]:
    """The Vega-Lite spec of ``data``, cached under a hash of the data and of the chart
    code: building a spec with Altair costs about as much as rendering it, so an unchanged
    trajectory is never built twice. Not validated against the Vega-Lite schema here (a
    third of the cost): the library's tests validate the same chart code's specs."""
    text = json.dumps(dataclasses.asdict(data), sort_keys=True, default=str)
    key = "cf:chart-spec:" + hashlib.sha256(f"{_CODE}\n{text}".encode()).hexdigest()
    spec = cache.get(key)
    if spec is None:
        spec = trajectory_chart(data).to_dict(validate=False)
        cache.set(key, spec, SVG_TTL)
    return dict(spec)


def trajectory_data(h: InstrumentHistory, ruptures: Iterable[int] = ()) -> Trajectory:
    """The library's chart data for one instrument's history."""
    rows = sorted(h.rows, key=lambda r: r.session_number)
    scores = [
        SessionScore(
            session=r.session_number,
            score=float(r.score.total),
            date=dateformat.format(r.date, "j M Y") if r.date else None,
            status=_status(r.signal),
        )
        for r in rows
    ]
    model = etr_model(h.instrument)
    if model is None:
        return trajectory(h.instrument, scores, ruptures=ruptures)
    intake = scores[0]
    judged = {
        r.session_number: r.signal
        for r in rows
        if r.signal is not None
        and r.signal.expected is not None
        and r.signal.session_number > intake.session
    }
    rule = rule_of(model, intake, judged.values())
    last = scores[-1].session
    sessions = range(intake.session + 1, last + HORIZON + 1)
    course = {
        e.session: e
        for e in expected_course(
            model, intake.score, sessions, intake_session=intake.session, rule=rule
        )
    }
    for n, sig in judged.items():  # what each signal was judged against, as stored
        course[n] = ExpectedSession(
            n, float(sig.expected or 0), sig.yellow_threshold, sig.red_threshold
        )
    return trajectory(
        h.instrument,
        scores,
        expected=[course[n] for n in sorted(course)],
        model_label=model.label,
        ruptures=ruptures,
    )


def rule_of(model: Any, intake: SessionScore, judged: Iterable[Signal]) -> SignalRule:
    """The signal rule whose bands the latest stored signal was judged with (the default
    rule, or the rule for PHQ-9 and GAD-7 followed together): found by comparing its
    stored thresholds with each rule's bands, so the projection continues what was shown.
    The default rule when nothing was judged yet or the model has changed since."""
    latest = max(
        (s for s in judged if s.yellow_threshold is not None and s.red_threshold is not None),
        key=lambda s: s.session_number,
        default=None,
    )
    if latest is None:
        return DEFAULT_RULE
    for rule in (DEFAULT_RULE, COMBINED_RULE):
        course = expected_course(
            model,
            intake.score,
            [latest.session_number],
            intake_session=intake.session,
            rule=rule,
        )
        if (
            course
            and _same(course[0].yellow, latest.yellow_threshold)
            and _same(course[0].red, latest.red_threshold)
        ):
            return rule
    return DEFAULT_RULE


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, abs_tol=1e-6)


def _status(sig: Signal | None) -> Any:
    if sig is None or sig.kind != SignalKind.OUTCOME or sig.status not in _STATUSES:
        return None
    return sig.status


def spec_key(spec: dict[str, Any]) -> str:
    """The cache key of a spec's SVG: a hash of the spec and the Vega-Lite version."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(f"{VEGA_LITE_VERSION}\n{text}".encode()).hexdigest()
    return f"cf:chart-svg:{digest}"


def static_svg(spec: dict[str, Any]) -> SafeString:
    """The SVG of ``spec`` (rendered by vl-convert, whose output has no scripts, styles
    or ids), cached under :func:`spec_key`."""
    key = spec_key(spec)
    svg = cache.get(key)
    if svg is None:
        svg = to_svg(spec)
        cache.set(key, svg, SVG_TTL)
    return mark_safe(_without_xml_declaration(svg))


def _without_xml_declaration(svg: str) -> str:
    return svg.split("?>", 1)[1].lstrip() if svg.startswith("<?xml") else svg
