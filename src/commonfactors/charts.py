"""Trajectory charts: one episode's scores on one instrument, session by session, with the
lines a therapist judges them against.

A chart shows

* the **scores** by session, each point marked with the outcome signal made at that
  session (on track, yellow, red, or not judged yet) by shape *and* colour;
* the **expected course**: the expected score (the 50th percentile of the
  expected-treatment-response model, drawn from the intake score onwards) and the signal
  zones between the yellow and red thresholds and beyond the red one (the thresholds the
  signal rule compared each score with, :mod:`commonfactors.trajectories.signals`), with
  the model's label as the chart's subtitle (a synthetic model says so);
* the **caseness line**: the instrument definition's caseness cut-off;
* the **reliable-change band** from the intake: intake ± the instrument's reliable-change
  threshold (:mod:`commonfactors.change`); a score outside it has changed reliably;
* **alliance ruptures**, a vertical mark at the session where each was signalled.

:func:`trajectory` validates plain data and derives the lines from the instrument's
definition; :func:`trajectory_chart` builds the Vega-Lite chart with Altair; :func:`to_svg`
and :func:`to_png` render the same chart without a browser (vl-convert), for reports and
print. :func:`expected_course` reads the expected course of a client from a fitted model.

The chart carries a variable parameter ``focus`` (a session number, null by default): an
interactive page sets it (keyboard navigation) to ring that session's point and print its
value beside it. Colours are the Okabe-Ito palette, distinguishable with the common colour
vision deficiencies; nothing is told by colour alone.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import altair as alt
import polars as pl
import vl_convert as vlc

from commonfactors.change import reliable_change
from commonfactors.change._instrument import better_of, threshold_of
from commonfactors.errors import ChangeError, CommonFactorsError
from commonfactors.instruments.registry import Instrument, get_instrument
from commonfactors.instruments.schema import Definition
from commonfactors.trajectories import DEFAULT_RULE, SignalRule
from commonfactors.trajectories._common import fmt
from commonfactors.trajectories.etr import ETRModel

__all__ = [
    "STATUS_LABELS",
    "VEGA_LITE_VERSION",
    "ChartError",
    "ExpectedSession",
    "SessionScore",
    "Trajectory",
    "expected_course",
    "to_png",
    "to_svg",
    "trajectory",
    "trajectory_chart",
]

Status = Literal["on_track", "yellow", "red"]

#: The Vega-Lite version Altair writes (``v6.4.1`` → ``6.4``); vl-convert renders with the
#: same version, and the web page loads the same build of Vega-Lite.
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])

#: What each outcome signal is called on the chart, its table and its legend.
STATUS_LABELS: dict[Status | None, str] = {
    "on_track": "On track",
    "yellow": "Less change than expected (yellow)",
    "red": "Not on track (red)",
    None: "Not judged yet",
}
_SHAPES = {"on_track": "circle", "yellow": "triangle-up", "red": "square", None: "diamond"}
# Okabe & Ito (2008), "Color universal design": bluish green, orange, vermillion, grey.
_COLOURS = {"on_track": "#009E73", "yellow": "#E69F00", "red": "#D55E00", None: "#6E7781"}
_OPS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
# the yellow zone in Okabe-Ito yellow, so that it is told apart from the vermillion red zone
_ZONE_YELLOW = "#F0E442"
_INK, _MUTED, _EXPECTED, _RUPTURE, _BAND = "#1b1f24", "#59636e", "#0072B2", "#CC79A7", "#8c959f"


class ChartError(CommonFactorsError, ValueError):
    """Data a trajectory chart cannot be drawn from (``problems`` names every problem)."""


@dataclass(frozen=True)
class SessionScore:
    """One scored session: its number in the episode, the total, the date (as text, shown
    as given in tooltips and tables) and the outcome signal made at that session (None: not
    judged yet)."""

    session: int
    score: float
    date: str | None = None
    status: Status | None = None


@dataclass(frozen=True)
class ExpectedSession:
    """The expected course at one session: the expected score (50th percentile) and the
    yellow and red thresholds of the signal rule (None where the rule has none)."""

    session: int
    expected: float
    yellow: float | None = None
    red: float | None = None


@dataclass(frozen=True)
class Trajectory:
    """Validated chart data, with the lines derived from the instrument's definition.

    Build it with :func:`trajectory`. ``caseness`` is the caseness cut-off (None if the
    instrument defines none); ``band`` the reliable-change band from the intake, clipped to
    the score range (None if the instrument has no reliable-change threshold)."""

    instrument: str
    name: str
    better: Literal["lower", "higher"]
    score_range: tuple[float, float]
    scores: tuple[SessionScore, ...]
    expected: tuple[ExpectedSession, ...]
    model_label: str
    ruptures: tuple[int, ...]
    caseness: float | None
    caseness_text: str
    reliable_threshold: float | None
    band: tuple[float, float] | None

    @property
    def intake(self) -> SessionScore:
        return self.scores[0]

    def expected_at(self, session: int) -> ExpectedSession | None:
        return next((e for e in self.expected if e.session == session), None)

    def table(self) -> list[dict[str, Any]]:
        """One row per scored session: what the chart shows, as text-ready values (the
        chart's tooltips and the page's table both come from here)."""
        intake = self.intake.score
        rows = []
        for s in self.scores:
            e = self.expected_at(s.session)
            change = None if s.session == self.intake.session else s.score - intake
            rows.append(
                {
                    "session": s.session,
                    "date": s.date,
                    "score": s.score,
                    "change": change,
                    "change_text": _signed(change),
                    "status": s.status,
                    "signal": STATUS_LABELS[s.status],
                    "expected": None if e is None else round(e.expected, 1),
                    "yellow": None if e is None or e.yellow is None else round(e.yellow, 1),
                    "red": None if e is None or e.red is None else round(e.red, 1),
                    "rupture": s.session in self.ruptures,
                    "label": self._label(s),
                }
            )
        return rows

    def _label(self, s: SessionScore) -> str:
        text = f"Session {s.session}: {self.name} {fmt(s.score)}"
        if s.session != self.intake.session:
            change = s.score - self.intake.score
            text += f" ({'+' if change > 0 else ''}{fmt(change)} since intake)"
        else:
            text += " (intake)"
        return f"{text}, {STATUS_LABELS[s.status].lower()}"

    def summary(self) -> str:
        """The chart in one or two sentences, for screen readers and the figure caption."""
        first, last = self.intake, self.scores[-1]
        n = len(self.scores)
        text = f"{self.name}, {n} scored session{'s' if n != 1 else ''}"
        if n == 1:
            text += f": {fmt(first.score)} at the intake (session {first.session})."
        else:
            text += (
                f": {fmt(first.score)} at the intake (session {first.session}), "
                f"{fmt(last.score)} at session {last.session}"
            )
            try:
                rc = reliable_change(self.instrument, first.score, last.score)
                text += (
                    f", reliably {rc.category}"
                    if rc.category != "unchanged"
                    else (", no reliable change")
                )
            except ChangeError:
                pass
            text += "."
        if last.status is not None:
            text += f" Latest signal: {STATUS_LABELS[last.status].lower()}."
        if self.ruptures:
            listed = ", ".join(str(r) for r in self.ruptures)
            text += f" Alliance rupture signalled at session {listed}."
        return text


def trajectory(
    instrument: str | Definition | Instrument,
    scores: Iterable[SessionScore],
    *,
    expected: Iterable[ExpectedSession] = (),
    model_label: str = "",
    ruptures: Iterable[int] = (),
) -> Trajectory:
    """Check the data of one episode's chart and derive its lines.

    ``scores`` are the scored sessions (any order; at least one; the first is the intake);
    ``expected`` the expected course (e.g. from :func:`expected_course`, or the values the
    stored signals were judged against); ``model_label`` the label of the model the
    expected course comes from (required with it: a chart never shows an expectation
    without saying where it comes from); ``ruptures`` the sessions at which an alliance
    rupture was signalled. Raises :class:`ChartError` naming every problem."""
    d = get_instrument(instrument).definition
    lo, hi = (float(v) for v in d.score_range)
    problems: list[str] = []
    points = sorted(scores, key=lambda s: _session_key(s.session))
    course = sorted(expected, key=lambda e: _session_key(e.session))
    marks = sorted(set(ruptures), key=_session_key)
    if not points:
        problems.append("no scores: a trajectory needs at least the intake score")
    problems += _session_problems("scores", [s.session for s in points])
    problems += _session_problems("expected", [e.session for e in course])
    problems += _session_problems("ruptures", marks)
    for s in points:
        if s.status not in STATUS_LABELS:
            problems.append(
                f"session {s.session}: status {s.status!r} is not one of on_track, yellow, red"
            )
        problems += _value_problems(f"session {s.session}: score", s.score, d.short_name, lo, hi)
    for e in course:
        for what, v in (("expected", e.expected), ("yellow", e.yellow), ("red", e.red)):
            if v is not None or what == "expected":
                problems += _value_problems(
                    f"expected session {e.session}: {what}", v, d.short_name, lo, hi
                )
    if course and not model_label.strip():
        problems.append("an expected course needs the label of the model it comes from")
    if problems:
        raise ChartError(f"{d.id}: the trajectory cannot be drawn", problems)
    threshold: float | None
    try:
        threshold, _ = threshold_of(d)
    except ChangeError:
        threshold = None
    band = None
    if threshold is not None:
        intake = float(points[0].score)
        band = (max(lo, intake - threshold), min(hi, intake + threshold))
    cut = d.caseness_cutoff
    return Trajectory(
        instrument=d.id,
        name=d.short_name,
        better=better_of(d),
        score_range=(lo, hi),
        scores=tuple(points),
        expected=tuple(course),
        model_label=model_label.strip(),
        ruptures=tuple(int(m) for m in marks),
        caseness=None if cut is None else float(cut.value),
        caseness_text="" if cut is None else f"caseness cut-off: {_OPS[cut.op]} {fmt(cut.value)}",
        reliable_threshold=threshold,
        band=band,
    )


def _session_key(session: object) -> float:
    return float(session) if isinstance(session, int | float) else math.inf


def _session_problems(what: str, sessions: Sequence[object]) -> list[str]:
    out = []
    bad = [s for s in sessions if isinstance(s, bool) or not isinstance(s, int) or s < 1]
    if bad:
        out.append(f"{what}: session numbers must be whole numbers of at least 1, not {bad}")
    repeated = sorted({s for s in sessions if sessions.count(s) > 1}, key=_session_key)
    if repeated:
        out.append(f"{what}: session(s) {repeated} given more than once")
    return out


def _value_problems(what: str, v: object, name: str, lo: float, hi: float) -> list[str]:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return [f"{what} must be a number, not {v!r}"]
    if not lo <= v <= hi:
        return [f"{what} {fmt(v)} is outside the {name} range {fmt(lo)}-{fmt(hi)}"]
    return []


def expected_course(
    model: ETRModel,
    intake: float,
    sessions: Iterable[int],
    *,
    intake_session: int = 1,
    rule: SignalRule = DEFAULT_RULE,
    features: Mapping[str, float] | None = None,
) -> tuple[ExpectedSession, ...]:
    """The expected score and the ``rule``'s yellow and red thresholds at each of
    ``sessions`` (episode session numbers after ``intake_session``), for a client whose
    intake score was ``intake``: the model's own prediction (:meth:`predict`), so the same
    numbers a signal is judged against. Sessions at or before the intake, and sessions the
    model has no expectation for, are left out. ``features``: the intake characteristics
    a nearest-neighbour model needs besides the intake score."""
    problems = rule.problems(model)
    later = sorted({int(s) for s in sessions if int(s) > intake_session})
    if problems:
        raise ChartError("the signal rule does not fit the model", problems)
    if not later:
        return ()
    extra = {f: float(v) for f, v in (features or {}).items()}
    n = len(later) + 1
    frame = pl.DataFrame(
        {
            "episode_id": [1] * n,
            "session": [intake_session, *later],
            "score": [float(intake)] + [None] * (n - 1),
            **{f: [v] * n for f, v in extra.items()},
        },
        schema_overrides={"score": pl.Float64},
    )
    yellow, red = rule.bands(model)
    out = []
    for row in model.predict(frame).iter_rows(named=True):
        if row["session"] == intake_session or row["p50"] is None:
            continue
        out.append(ExpectedSession(row["session"], row["p50"], row[yellow], row[red]))
    return tuple(out)


# ---------------------------------------------------------------------------- the chart


def trajectory_chart(
    data: Trajectory,
    *,
    width: int = 640,
    height: int = 320,
    title: str | None = None,
) -> alt.LayerChart:
    """The Vega-Lite chart of one trajectory (an Altair layer chart; ``.to_dict()`` is
    the spec). Layers, bottom to top: signal zones, reliable-change band, caseness line,
    alliance ruptures, expected course, scores, the focus ring and its label."""
    lo, hi = data.score_range
    sessions = [s.session for s in data.scores] + [e.session for e in data.expected]
    first = min(sessions)
    last = max(max(sessions), first + 1)
    x = alt.X(
        "session:Q",
        title="Session",
        scale=alt.Scale(domain=[first, last], nice=False, padding=14),
        axis=alt.Axis(values=_ticks(first, last), format="d", grid=False),
    )
    better = "lower" if data.better == "lower" else "higher"
    y = alt.Y(
        "value:Q",
        title=f"{data.name} total ({better} is better)",
        scale=alt.Scale(domain=[lo, hi], nice=False, padding=6),
        axis=alt.Axis(gridColor="#eaeef2"),
    )
    layers: list[Any] = [
        *_band(data),
        *_zones(data, x),
        *_caseness(data),
        *_ruptures(data, x),
        *_expected(data, x, y),
        *_scores(data, x, y),
        *_focus(data, x, y, first, last),
    ]
    subtitle = _subtitle(data, width)
    chart = alt.layer(*layers).properties(
        width=width,
        height=height,
        title=alt.Title(
            title or f"{data.name} by session",
            subtitle=subtitle,
            anchor="start",
            fontSize=16,
            subtitleColor=_MUTED,
            subtitleFontSize=12,
        ),
        description=data.summary(),
    )
    configured: alt.LayerChart = (
        chart.add_params(alt.param(name="focus", value=None))
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=13, titleFontSize=13, labelColor=_INK)
        .configure_legend(
            labelFontSize=13, titleFontSize=13, orient="bottom", columns=2, labelLimit=360
        )
    )
    return configured


def _ticks(first: int, last: int) -> list[int]:
    """Whole session numbers, at most about 15 of them."""
    step = max(1, math.ceil((last - first + 1) / 15))
    return list(range(first, last + 1, step))


def _rows(values: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=values)  # type: ignore[no-untyped-call]


def _subtitle(data: Trajectory, width: int) -> list[str]:
    if data.model_label:
        text = f"Expected course: {data.model_label}"
    elif data.expected:
        text = "Expected course of an unnamed model"
    else:
        text = f"No expected-response model for the {data.name}: scores, cut-off and change only"
    return textwrap.wrap(text, width=max(40, width // 6))


def _zones(data: Trajectory, x: alt.X) -> list[alt.Chart]:
    """Shaded zones: between the yellow and red thresholds, and beyond the red one."""
    worst = data.score_range[1] if data.better == "lower" else data.score_range[0]
    rows = [
        {"session": e.session, "from": e.yellow, "to": e.red, "worst": worst}
        for e in data.expected
        if e.yellow is not None and e.red is not None
    ]
    if not rows:
        return []
    out = []
    for low, high, colour, opacity in (
        ("from", "to", _ZONE_YELLOW, 0.35),
        ("to", "worst", _COLOURS["red"], 0.22),
    ):
        out.append(
            alt.Chart(_rows(rows))
            .mark_area(color=colour, opacity=opacity, interpolate="monotone")
            .encode(x=x, y=alt.Y(f"{low}:Q"), y2=alt.Y2(f"{high}:Q"))
        )
    end = rows[-1]
    labels = [
        {"session": end["session"], "at": (end["from"] + end["to"]) / 2, "label": "yellow zone"},
        {"session": end["session"], "at": (end["to"] + worst) / 2, "label": "red zone"},
    ]
    out.append(
        alt.Chart(_rows(labels))
        .mark_text(
            align="right", baseline="middle", dx=-4, fontSize=12, color="#7a3300", aria=False
        )
        .encode(x=x, y=alt.Y("at:Q"), text="label:N")
    )
    return out


def _band(data: Trajectory) -> list[alt.Chart]:
    if data.band is None or data.reliable_threshold is None:
        return []
    low, high = data.band
    t = fmt(data.reliable_threshold)
    row = {"low": low, "high": high, "label": f"no reliable change: within {t} of the intake"}
    rect = (
        alt.Chart(_rows([row]))
        .mark_rect(color=_BAND, opacity=0.15)
        .encode(
            y=alt.Y("low:Q"),
            y2=alt.Y2("high:Q"),
            tooltip=alt.Tooltip("label:N", title="Band"),
            description="label:N",
        )
    )
    edge = "high" if data.better == "lower" else "low"
    label = (
        alt.Chart(_rows([row]))
        .mark_text(align="left", baseline="top", dx=4, dy=3, fontSize=12, color=_MUTED, aria=False)
        .encode(x=alt.value(0), y=alt.Y(f"{edge}:Q"), text="label:N")
    )
    edges = (
        alt.Chart(_rows([{"edge": low}, {"edge": high}]))
        .mark_rule(color=_MUTED, strokeDash=[1, 3], strokeWidth=1.5, aria=False)
        .encode(y=alt.Y("edge:Q"))
    )
    return [rect, edges, label]


def _caseness(data: Trajectory) -> list[alt.Chart]:
    if data.caseness is None:
        return []
    row = {"value": data.caseness, "label": data.caseness_text}
    rule = (
        alt.Chart(_rows([row]))
        .mark_rule(color=_INK, strokeDash=[6, 4], strokeWidth=1.5)
        .encode(
            y="value:Q",
            tooltip=alt.Tooltip("label:N", title="Cut-off"),
            description="label:N",
        )
    )
    text = (
        alt.Chart(_rows([row]))
        .mark_text(
            align="right", baseline="bottom", dx=-4, dy=-3, fontSize=12, color=_INK, aria=False
        )
        .encode(x=alt.value("width"), y="value:Q", text="label:N")
    )
    return [rule, text]


def _ruptures(data: Trajectory, x: alt.X) -> list[alt.Chart]:
    if not data.ruptures:
        return []
    rows = [
        {"session": s, "label": "alliance rupture", "text": f"Alliance rupture at session {s}"}
        for s in data.ruptures
    ]
    rule = (
        alt.Chart(_rows(rows))
        .mark_rule(color=_RUPTURE, strokeWidth=2.5, strokeDash=[2, 3])
        .encode(
            x=x,
            tooltip=[alt.Tooltip("session:Q", title="Session"), alt.Tooltip("label:N", title="")],
            description="text:N",
        )
    )
    text = (
        alt.Chart(_rows(rows))
        .mark_text(
            align="left", baseline="top", dx=4, dy=2, fontSize=12, color="#8a3d6c", aria=False
        )
        .encode(x=x, y=alt.value(0), text="label:N")
    )
    return [rule, text]


def _expected(data: Trajectory, x: alt.X, y: alt.Y) -> list[alt.Chart]:
    if not data.expected:
        return []
    anchor = {"session": data.intake.session, "value": data.intake.score, "what": "intake"}
    rows = [anchor] + [
        {
            "session": e.session,
            "value": round(e.expected, 1),
            "what": f"Expected score at session {e.session}: {e.expected:.1f}",
        }
        for e in data.expected
        if e.session > data.intake.session
    ]
    line = (
        alt.Chart(_rows(rows))
        .mark_line(color=_EXPECTED, strokeDash=[8, 4], strokeWidth=2, interpolate="monotone")
        .encode(x=x, y=y)
    )
    later = rows[1:]
    dots = (
        alt.Chart(_rows(later))
        .mark_point(color=_EXPECTED, shape="circle", size=30, strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            tooltip=[
                alt.Tooltip("session:Q", title="Session"),
                alt.Tooltip("value:Q", title="Expected score", format=".1f"),
            ],
            description="what:N",
        )
    )
    label = (
        alt.Chart(_rows(later[-1:]))
        .mark_text(align="right", baseline="top", dy=8, fontSize=12, color=_EXPECTED, aria=False)
        .encode(x=x, y=y, text=alt.value("expected"))
    )
    return [line, dots, label]


def _scores(data: Trajectory, x: alt.X, y: alt.Y) -> list[alt.Chart]:
    rows = [
        {
            "session": r["session"],
            "value": r["score"],
            "date": r["date"] or "",
            "change": r["change_text"],
            "signal": r["signal"],
            "expected": r["expected"],
            "label": r["label"],
        }
        for r in data.table()
    ]
    present = {s.status for s in data.scores}
    keys = [k for k in STATUS_LABELS if k in present]
    domain = [STATUS_LABELS[k] for k in keys]
    shape = alt.Shape(
        "signal:N",
        title="Signal at the session",
        scale=alt.Scale(domain=domain, range=[_SHAPES[k] for k in keys]),
    )
    colour = alt.Color(
        "signal:N",
        title="Signal at the session",
        scale=alt.Scale(domain=domain, range=[_COLOURS[k] for k in keys]),
    )
    tooltip = [
        alt.Tooltip("session:Q", title="Session"),
        alt.Tooltip("date:N", title="Date"),
        alt.Tooltip("value:Q", title=f"{data.name} total"),
        alt.Tooltip("change:N", title="Change since intake"),
        alt.Tooltip("signal:N", title="Signal"),
        alt.Tooltip("expected:Q", title="Expected score", format=".1f"),
    ]
    line = alt.Chart(_rows(rows)).mark_line(color=_INK, strokeWidth=2, aria=False).encode(x=x, y=y)
    points = (
        alt.Chart(_rows(rows))
        .mark_point(filled=True, size=110, stroke=_INK, strokeWidth=1, opacity=1)
        .encode(x=x, y=y, shape=shape, color=colour, tooltip=tooltip, description="label:N")
    )
    # a larger invisible target under the pointer, with the same tooltip
    target = (
        alt.Chart(_rows(rows))
        .mark_circle(size=700, opacity=0, aria=False)
        .encode(x=x, y=y, tooltip=tooltip, description="label:N")
    )
    return [line, points, target]


def _focus(data: Trajectory, x: alt.X, y: alt.Y, first: int, last: int) -> list[alt.Chart]:
    """The ring and value label of the session the page's keyboard focus is on (the
    ``focus`` parameter; nothing is drawn while it is null, as in a static image)."""
    rows = [
        {
            "session": r["session"],
            "value": r["score"],
            "label": f"Session {r['session']}: {fmt(r['score'])}",
        }
        for r in data.table()
    ]
    focused = "focus != null && datum.session == focus"
    ring = (
        alt.Chart(_rows(rows))
        .mark_point(size=520, strokeWidth=3, color=_INK, filled=False, opacity=1)
        .encode(x=x, y=y)
        .transform_filter(focused)
    )
    # above the point in the lower half of the scale, below it in the upper half; kept
    # inside the plot at the first and last sessions
    mid = sum(data.score_range) / 2
    span = max(1, last - first)
    text: dict[str, Any] = {
        "fontSize": 14,
        "fontWeight": "bold",
        "dy": alt.expr(f"datum.value <= {mid} ? -28 : 30"),
        "align": alt.expr(
            f"(datum.session - {first}) / {span} < 0.25 ? 'left' : "
            f"((datum.session - {first}) / {span} > 0.75 ? 'right' : 'center')"
        ),
    }
    # a white halo under the label keeps it legible over lines and zones
    halo = (
        alt.Chart(_rows(rows))
        .mark_text(**text, color="white", stroke="white", strokeWidth=5, aria=False)
        .encode(x=x, y=y, text="label:N")
        .transform_filter(focused)
    )
    label = (
        alt.Chart(_rows(rows))
        .mark_text(**text, color=_INK)
        .encode(x=x, y=y, text="label:N")
        .transform_filter(focused)
    )
    return [ring, halo, label]


def _signed(change: float | None) -> str:
    if change is None:
        return "intake"
    return f"+{fmt(change)}" if change > 0 else fmt(change)


# ---------------------------------------------------------------------------- rendering


def to_svg(chart: alt.TopLevelMixin | Mapping[str, Any]) -> str:
    """The chart as an SVG document, rendered without a browser (vl-convert)."""
    spec = chart if isinstance(chart, Mapping) else chart.to_dict()
    return str(vlc.vegalite_to_svg(dict(spec), vl_version=VEGA_LITE_VERSION))


def to_png(chart: alt.TopLevelMixin | Mapping[str, Any], *, scale: float = 2) -> bytes:
    """The chart as a PNG image (``scale`` × its size in pixels), without a browser."""
    spec = chart if isinstance(chart, Mapping) else chart.to_dict()
    return bytes(vlc.vegalite_to_png(dict(spec), vl_version=VEGA_LITE_VERSION, scale=scale))
