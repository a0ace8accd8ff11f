"""Not-on-track signals: is this client changing as expected?

At every session after the intake, a client's score is compared with the expected
treatment response (ETR) of clients who started where they started:

* ``red`` (at risk of treatment failure): worse than the ``red`` percentile band of the
  ETR (default: the 90th percentile), or reliably worse than at intake
  (``reliable_deterioration``, by the instrument's reliable-change threshold from
  :mod:`commonfactors.change`);
* ``yellow`` (less change than expected): worse than the ``yellow`` band (default: the
  75th percentile), but not red;
* ``on_track``: otherwise.

The default thresholds were chosen by evaluation on a synthetic registry with known
outcomes (``docs/trajectories.md``, "Choosing the thresholds"). :func:`signal` judges one
episode; :func:`signal_frame` judges every session of a whole registry; both run the same
code (:func:`_judge`), and :func:`signal_summary` reduces a judged frame to one row per
episode.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Real
from typing import Literal

import polars as pl

from commonfactors.change import reliable_change, reliable_change_frame
from commonfactors.instruments.schema import Definition
from commonfactors.trajectories._common import (
    EPISODE,
    SCORE,
    SESSION,
    TrajectoryError,
    fmt,
    long_frame,
    restore,
)
from commonfactors.trajectories._frames import INTAKE, T, quantile_name, with_intake
from commonfactors.trajectories.etr import (
    ETRModel,
    default_model,
    describe_model,
)

__all__ = [
    "COMBINED_RULE",
    "DEFAULT_RULE",
    "STATUSES",
    "SessionSignal",
    "Signal",
    "SignalRule",
    "Status",
    "explain_rule",
    "signal",
    "signal_frame",
    "signal_summary",
]

#: The statuses, best first.
STATUSES = ("on_track", "yellow", "red")
Status = Literal["on_track", "yellow", "red"]
STATUS_DTYPE = pl.Enum(STATUSES)

#: Columns :func:`signal_frame` adds (besides the band columns ``p10 … p90``).
SIGNAL_COLUMNS = (
    INTAKE,
    "intake_session",
    T,
    "expected",
    "yellow_threshold",
    "red_threshold",
    "change",
    "reliable_deterioration",
    "status",
    "model",
    "rule",
)


@dataclass(frozen=True)
class SignalRule:
    """Which ETR percentile bands make a session ``yellow`` and ``red``.

    ``yellow`` and ``red`` are quantiles of the model (for an instrument on which lower
    is better, a score *above* the band; on which higher is better, *below* the mirrored
    band 1 − q). ``first_session`` is the first session, counted from the intake
    (intake = 1), that is judged against the bands. With ``deterioration_is_red``, a
    reliable deterioration since intake makes the session red whatever the bands say."""

    yellow: float = 0.75
    red: float = 0.90
    first_session: int = 2
    deterioration_is_red: bool = True

    def problems(self, model: ETRModel) -> list[str]:
        """What is wrong with this rule for ``model`` (empty if nothing)."""
        out = []
        if not 0.5 <= self.yellow < self.red < 1:
            out.append(f"need 0.5 <= yellow < red < 1, not yellow={self.yellow}, red={self.red}")
        available = {round(q, 6) for q in model.quantiles_}
        for name, q in (("yellow", self.yellow), ("red", self.red)):
            needed = q if model.better_ == "lower" else 1 - q
            if round(needed, 6) not in available:
                out.append(
                    f"{name} = {q} needs the model's {quantile_name(needed)} band; the model "
                    f"has {', '.join(model.band_names())}"
                )
        if isinstance(self.first_session, bool) or not isinstance(self.first_session, int):
            out.append(f"first_session must be a whole number, not {self.first_session!r}")
        elif self.first_session < 2:
            out.append(
                f"first_session must be at least 2 (the intake is 1), not {self.first_session}"
            )
        return out

    def bands(self, model: ETRModel) -> tuple[str, str]:
        """The band columns compared with for yellow and red."""
        if model.better_ == "lower":
            return quantile_name(self.yellow), quantile_name(self.red)
        return quantile_name(1 - self.yellow), quantile_name(1 - self.red)


#: The default rule for one instrument, chosen by evaluation (docs/trajectories.md):
#: yellow worse than the 75th percentile, red worse than the 90th or reliably worse.
DEFAULT_RULE = SignalRule()

#: The rule for a client followed on two instruments at once (PHQ-9 and GAD-7, as in NHS
#: Talking Therapies), flagged when either instrument's signal is yellow or red: with the
#: 75th percentile, false alarms among improvers rose above 30 %; the 80th kept them
#: under it (docs/trajectories.md).
COMBINED_RULE = SignalRule(yellow=0.80, red=0.90)


@dataclass(frozen=True)
class SessionSignal:
    """One session of an episode, judged."""

    session: int
    score: float | None
    expected: float | None
    bands: Mapping[str, float | None]
    yellow_threshold: float | None
    red_threshold: float | None
    change: float | None
    reliable_deterioration: bool | None
    status: Status | None


@dataclass(frozen=True)
class Signal:
    """The current signal of one episode (its latest scored session), how it was
    reached, and every session judged on the way (``sessions``, for the progress graph).

    ``status`` is None while there is nothing to judge yet (only an intake, or no band
    at the latest session); ``reasons`` says in words what made the status; ``rule``
    states the rule with its thresholds and sources; ``model`` is the reference model's
    label (a synthetic default says so)."""

    status: Status | None
    reliable_deterioration: bool | None
    session: int | None
    score: float | None
    intake: float | None
    change: float | None
    expected: float | None
    yellow_threshold: float | None
    red_threshold: float | None
    reliable_change_threshold: float | None
    reasons: tuple[str, ...]
    rule: str
    model: str
    instrument: str | None
    sessions: tuple[SessionSignal, ...] = field(repr=False)


# ------------------------------------------------------------------------------ the rule


def _deterioration(d: Definition | None) -> tuple[float, str] | None:
    """The reliable-change threshold and the deterioration rule in words, from the
    instrument's definition as :mod:`commonfactors.change` reads it."""
    if d is None or d.reliable_change is None:
        return None
    return _deterioration_of(d)


@lru_cache(maxsize=256)
def _deterioration_of(d: Definition) -> tuple[float, str]:
    # a definition is immutable (frozen), so its threshold and wording are computed once
    assert d.reliable_change is not None
    lo = float(d.score_range[0])
    change = reliable_change(d, lo, lo)  # the threshold and basis as the change module has them
    worse = "higher" if change.better == "lower" else "lower"
    size = (
        f"{fmt(change.threshold)} or more points"
        if change.basis == "published"
        else f"more than {fmt(change.threshold)} points"
    )
    return change.threshold, (
        f"{d.short_name} {size} {worse} than at intake ({change.basis} reliable-change "
        f"threshold: {d.reliable_change.source})"
    )


def _percentile(band: str) -> str:
    n = int(band[1:])
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} percentile"


def explain_rule(model: ETRModel | None = None, rule: SignalRule = DEFAULT_RULE) -> str:
    """The rule in words, with its thresholds, the reference model and its sources."""
    model = _model(model)
    # Worded once per fitted state: refitting or loading gives a new ``reference_`` object.
    key = (rule, id(model.reference_))
    cached = _EXPLAINED.get(model, {}).get(key)
    if cached is not None and cached[0] is model.reference_:
        return cached[1]
    text = _explain(model, rule)
    _EXPLAINED.setdefault(model, {})[key] = (model.reference_, text)
    return text


#: model → {(rule, id of its fitted reference): (that reference, the rule in words)}
_Explained = dict[tuple[SignalRule, int], tuple[object, str]]
_EXPLAINED: weakref.WeakKeyDictionary[ETRModel, _Explained] = weakref.WeakKeyDictionary()


def _explain(model: ETRModel, rule: SignalRule) -> str:
    d = model.definition_
    name = d.short_name if d is not None else "the score"
    worse = "above" if model.better_ == "lower" else "below"
    y, r = rule.bands(model)
    text = (
        f"{name}, from session {rule.first_session} after the intake (intake = session 1): "
        f"red (at risk of failure) when the score is {worse} the {_percentile(r)} of the "
        f"expected response, yellow (less change than expected) when it is {worse} the "
        f"{_percentile(y)}, on track otherwise. "
        f"Bands: {describe_model(model)}. Reference: {model.label}."
    )
    rd = _deterioration(d)
    if rd is not None:
        text += f" Reliable deterioration: {rd[1]}" + (
            "; it makes the session red." if rule.deterioration_is_red else "."
        )
    return text


def _model(model: ETRModel | None) -> ETRModel:
    m = default_model("phq9") if model is None else model
    m._check_fitted()
    return m


def _judge(frame: pl.DataFrame, model: ETRModel, rule: SignalRule) -> pl.DataFrame:
    """The one implementation: ``frame`` is a sorted long frame in canonical columns;
    returns it with the bands and :data:`SIGNAL_COLUMNS` added."""
    problems = rule.problems(model)
    if problems:
        raise TrajectoryError("the signal rule does not fit the model", problems)
    d = model.definition_
    judged = model._bands(with_intake(frame))
    y_band, r_band = rule.bands(model)
    score, t = pl.col(SCORE), pl.col(T)
    if model.better_ == "lower":
        above_y, above_r = score > pl.col(y_band), score > pl.col(r_band)
    else:
        above_y, above_r = score < pl.col(y_band), score < pl.col(r_band)
    after = score.is_not_null() & (t >= 2)
    if _deterioration(d) is not None and d is not None:
        category = reliable_change_frame(
            d, judged.select(pre=pl.col(INTAKE), post=score), pre="pre", post="post"
        )["category"]
        rd: pl.Expr = pl.when(after).then(pl.lit(category) == "deteriorated")
    else:
        rd = pl.lit(None, dtype=pl.Boolean)
    in_bands = (after & (t >= rule.first_session) & pl.col(r_band).is_not_null()).fill_null(False)
    red_rd = rd.fill_null(False) if rule.deterioration_is_red else pl.lit(False)
    status = (
        pl.when(red_rd)
        .then(pl.lit("red"))
        .when(~in_bands)
        .then(None)
        .when(above_r)
        .then(pl.lit("red"))
        .when(above_y)
        .then(pl.lit("yellow"))
        .otherwise(pl.lit("on_track"))
    )
    label, text = model.label, explain_rule(model, rule)
    return judged.with_columns(
        pl.col(quantile_name(0.5)).alias("expected"),
        pl.col(y_band).alias("yellow_threshold"),
        pl.col(r_band).alias("red_threshold"),
        pl.when(after).then(score - pl.col(INTAKE)).alias("change"),
        rd.alias("reliable_deterioration"),
        status.cast(STATUS_DTYPE).alias("status"),
        pl.lit(label, dtype=pl.Enum([label])).alias("model"),
        pl.lit(text, dtype=pl.Enum([text])).alias("rule"),
    )


# ------------------------------------------------------------------------------ batch


def signal_frame(
    data: object,
    model: ETRModel | None = None,
    *,
    rule: SignalRule = DEFAULT_RULE,
    episode: str = "episode_id",
    session: str = "session",
    score: str = "score",
) -> pl.DataFrame:
    """Judge every session of every episode in a long frame (Polars or pandas; one row
    per episode and session; a missing score is null and is not judged).

    Returns the frame sorted by episode and session with ``intake``, ``t`` (sessions
    since intake), the band columns (``p10 … p90``), ``expected``, ``yellow_threshold``,
    ``red_threshold``, ``change`` (score − intake), ``reliable_deterioration``,
    ``status`` (``on_track``/``yellow``/``red``, null where not judged), and ``model`` and
    ``rule`` (the reference label and the rule in words) added. ``model`` defaults to the
    shipped synthetic PHQ-9 model; a nearest-neighbour model needs its feature columns
    in the frame."""
    m = _model(model)
    keep = tuple(f for f in getattr(m, "features", ()) if f != INTAKE)
    canon = long_frame(
        data, episode=episode, session=session, score=score, definition=m.definition_, keep=keep
    )
    return restore(_judge(canon, m, rule), episode=episode, session=session, score=score)


def signal_summary(
    signals: pl.DataFrame, *, episode: str = "episode_id", session: str = "session"
) -> pl.DataFrame:
    """One row per episode from a :func:`signal_frame` result: ``last_session`` judged,
    its ``status``, the ``worst_status``, the first session that was not on track
    (``first_alert_session``: yellow or red) and the first red session
    (``first_red_session``), and whether it was ever reliably worse than at intake."""
    s = pl.col("status")
    judged = s.is_not_null()
    return (
        signals.sort(episode, session)
        .group_by(episode, maintain_order=True)
        .agg(
            pl.col(session).filter(judged).last().alias("last_session"),
            s.filter(judged).last().alias("status"),
            s.filter(judged).max().alias("worst_status"),
            pl.col(session).filter(s.is_in(["yellow", "red"])).first().alias("first_alert_session"),
            pl.col(session).filter(s == "red").first().alias("first_red_session"),
            pl.col("reliable_deterioration").any(ignore_nulls=True).alias("reliable_deterioration"),
        )
    )


# ------------------------------------------------------------------------------ one episode


def _history_frame(history: Mapping[int, float | None] | Iterable[float | None]) -> pl.DataFrame:
    items = (
        list(history.items()) if isinstance(history, Mapping) else list(enumerate(history, start=1))
    )
    problems = []
    for s, v in items:
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            problems.append(f"session {s!r} is not a whole number of at least 1")
        if v is not None and (
            isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v)
        ):
            problems.append(f"session {s}: score {v!r} is not a number")
    if problems:
        raise TrajectoryError("the history cannot be judged", problems)
    return pl.DataFrame(
        {
            EPISODE: [0] * len(items),
            SESSION: [s for s, _ in items],
            SCORE: [None if v is None else float(v) for _, v in items],
        },
        schema={EPISODE: pl.Int64, SESSION: pl.Int64, SCORE: pl.Float64},
    )


def signal(
    history: Mapping[int, float | None] | Iterable[float | None],
    model: ETRModel | None = None,
    *,
    rule: SignalRule = DEFAULT_RULE,
    features: Mapping[str, float] | None = None,
) -> Signal:
    """Judge one episode from its session-by-session scores on one instrument.

    ``history`` is the scores in session order (session 1, the intake, first; None for a
    session without a score) or a mapping ``{session: score}``. ``model`` defaults to the
    shipped synthetic PHQ-9 model; a nearest-neighbour model needs the episode's intake
    characteristics other than the intake score in ``features``. Runs the same code as
    :func:`signal_frame` on a one-episode frame."""
    m = _model(model)
    frame = _history_frame(history)
    extra = [f for f in getattr(m, "features", ()) if f != INTAKE]
    missing = [f for f in extra if features is None or f not in features]
    if missing:
        raise TrajectoryError(f"the model needs these intake characteristics: {missing}")
    if extra and features is not None:
        frame = frame.with_columns(pl.lit(float(features[f])).alias(f) for f in extra)
    canon = long_frame(
        frame, episode=EPISODE, session=SESSION, score=SCORE, definition=m.definition_, keep=extra
    )
    rows = _judge(canon, m, rule).to_dicts()
    bands = m.band_names()
    sessions = tuple(_session_signal(r, bands) for r in rows)
    rd = _deterioration(m.definition_)
    scored = [r for r in rows if r[SCORE] is not None]
    last: Mapping[str, object] = scored[-1] if scored else {}
    return Signal(
        status=_status(last.get("status")),
        reliable_deterioration=_flag(last.get("reliable_deterioration")),
        session=_int(last.get(SESSION)),
        score=_num(last.get(SCORE)),
        intake=_num(last.get(INTAKE)),
        change=_num(last.get("change")),
        expected=_num(last.get("expected")),
        yellow_threshold=_num(last.get("yellow_threshold")),
        red_threshold=_num(last.get("red_threshold")),
        reliable_change_threshold=None if rd is None else rd[0],
        reasons=_reasons(last, m, rule, rd) if scored else ("no scores yet",),
        rule=explain_rule(m, rule),
        model=m.label,
        instrument=m.instrument_,
        sessions=sessions,
    )


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _int(v: object) -> int | None:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else None


def _flag(v: object) -> bool | None:
    return v if isinstance(v, bool) else None


def _status(v: object) -> Status | None:
    if v == "on_track":
        return "on_track"
    if v in ("yellow", "red"):
        return "yellow" if v == "yellow" else "red"
    return None


def _session_signal(row: Mapping[str, object], bands: list[str]) -> SessionSignal:
    return SessionSignal(
        session=_int(row[SESSION]) or 0,
        score=_num(row[SCORE]),
        expected=_num(row["expected"]),
        bands={b: _num(row[b]) for b in bands},
        yellow_threshold=_num(row["yellow_threshold"]),
        red_threshold=_num(row["red_threshold"]),
        change=_num(row["change"]),
        reliable_deterioration=_flag(row["reliable_deterioration"]),
        status=_status(row["status"]),
    )


def _reasons(
    row: Mapping[str, object], model: ETRModel, rule: SignalRule, rd: tuple[float, str] | None
) -> tuple[str, ...]:
    """What made the status of this session, in words."""
    d = model.definition_
    name = d.short_name if d is not None else "the score"
    session, t = _int(row[SESSION]), _int(row[T])
    score, intake = _num(row[SCORE]) or 0.0, _num(row[INTAKE]) or 0.0
    if t is None or t == 1:
        return (f"session {session} is the intake: there is nothing to compare with yet",)
    out = []
    if row["reliable_deterioration"] and rd is not None:
        out.append(
            f"{name} {fmt(score)} is {fmt(score - intake)} points from the intake score "
            f"{fmt(intake)}: reliably worse (threshold {fmt(rd[0])} points)"
        )
    y, r = _num(row["yellow_threshold"]), _num(row["red_threshold"])
    if y is None or r is None:
        out.append(f"session {session}: the reference model has no expectation for this session")
        return tuple(out)
    if t < rule.first_session:
        out.append(f"session {session} is before the first session judged against the bands")
        return tuple(out)
    y_band, r_band = rule.bands(model)
    worse = "above" if model.better_ == "lower" else "below"
    expected = _num(row["expected"]) or 0.0
    better = "at or below" if model.better_ == "lower" else "at or above"
    if _worse(model, score, r):
        where = f"{worse} the {_percentile(r_band)} ({fmt(r)})"
    elif _worse(model, score, y):
        where = (
            f"{worse} the {_percentile(y_band)} ({fmt(y)}) but {better} the "
            f"{_percentile(r_band)} ({fmt(r)})"
        )
    else:
        where = f"{better} the {_percentile(y_band)} ({fmt(y)})"
    out.append(
        f"session {session}: {name} {fmt(score)} is {where} of the expected response; "
        f"the expected score for clients who started at {fmt(intake)} is {fmt(expected)}"
    )
    return tuple(out)


def _worse(model: ETRModel, score: float, threshold: float) -> bool:
    return score > threshold if model.better_ == "lower" else score < threshold
