"""Alliance ruptures and their repair, session by session.

A *rupture* is a worsening of the alliance (Safran, Muran & Eubanks; support-review §3);
a client's own session rating is the trigger the support review starts from. The rule
is taken from the alliance instrument's definition where it can be:

* **reliable drop**: the score falls from the previous session by the instrument's
  reliable-change threshold (inclusive for a published threshold, strict for a derived
  one, as in :mod:`commonfactors.change`);
* **below the cut-off**: the score is at or below the instrument's cut-off (a
  definition cut-off with ``<=`` or ``<``, e.g. SRS ≤ 36).

Neither the WAI-SR nor the practice alliance questions state either (their definitions
say so), so for them a documented **within-client rule** is used instead, and the
signal says so: the score falls more than ``k`` standard deviations below the mean of
the client's own earlier sessions. Stiles et al. (2004) used 2 SD and Strauss et al.
(2006) 1 SD for such V-shaped rupture–repair sequences; Gumz, Brähler, Geyer & Erices
(2012, BMC Med Res Methodol 12:10) compared both and proposed to use the larger of the
client's own and the sample's session-to-session variability so that neither stable nor fluctuating
courses are over-read. Here ``k`` = 2 by default (the stricter criterion); the SD is the
larger of the pooled within-client SD of reference data (:func:`pooled_within_sd`) and,
once the client has three earlier sessions, their own SD. The published criteria were
applied retrospectively to whole courses; using only *earlier* sessions, so that a
rupture can be flagged in the session it happens, is this project's adaptation.

A rupture is *repaired* at the first later session whose score is back to at least the
level before the drop (the previous score, or the earlier mean, less
``repair_tolerance``) and not below the cut-off; a rupture by the cut-off alone is
repaired when the score is no longer below it. While a rupture is open, no new one is
counted. :func:`alliance_signal` judges one episode, :func:`alliance_frame` a registry;
both run :func:`_run`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from commonfactors.instruments.registry import Instrument
from commonfactors.instruments.schema import Cutoff, Definition
from commonfactors.trajectories._common import (
    EPISODE,
    SCORE,
    SESSION,
    TrajectoryError,
    definition_of,
    fmt,
    long_frame,
    restore,
)

__all__ = [
    "ALLIANCE_STATUSES",
    "AllianceRule",
    "AllianceSession",
    "AllianceSignal",
    "alliance_frame",
    "alliance_rule",
    "alliance_signal",
    "pooled_within_sd",
]

#: Per session: no open rupture, a new rupture, a rupture still open, repaired now.
ALLIANCE_STATUSES = ("stable", "rupture", "unrepaired", "repaired")
AllianceStatus = Literal["stable", "rupture", "unrepaired", "repaired"]
_STATUS_DTYPE = pl.Enum(ALLIANCE_STATUSES)

#: Sources of the within-client rule.
WITHIN_CLIENT_SOURCE = (
    "within-client rule: Stiles et al. 2004 (J Couns Psychol 51:81-92; 2 SD) and Strauss et "
    "al. 2006 (1 SD) as compared by Gumz et al. 2012 (BMC Med Res Methodol 12:10), who "
    "propose the larger of the client's own and the sample's variability; prospective "
    "use (earlier sessions only) is this project's adaptation"
)

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AllianceRule:
    """How a rupture is recognised, and where the rule comes from.

    ``drop``: a fall of this many points from the ``baseline`` (``"previous"`` session or
    ``"prior_mean"`` of all earlier sessions) is a rupture (``drop_inclusive``: a fall of
    exactly ``drop`` counts). For the within-client rule ``drop`` is None and the fall
    must exceed ``k`` × the larger of ``within_sd`` and (``own_sd``, after three earlier
    sessions) the client's own SD. ``cutoff``: a score at or below (``cutoff_op`` ``<=``) or
    below (``<``) it is a rupture. ``better``: which end of the scale is a stronger
    alliance (for alliance measures, almost always ``"higher"``)."""

    basis: Literal["reliable_change", "cutoff", "reliable_change_and_cutoff", "within_client"]
    source: str
    instrument: str | None = None
    drop: float | None = None
    drop_inclusive: bool = False
    baseline: Literal["previous", "prior_mean"] = "previous"
    cutoff: float | None = None
    cutoff_op: Literal["<=", "<", ">=", ">"] = "<="
    k: float | None = None
    within_sd: float | None = None
    own_sd: bool = True
    repair_tolerance: float = 0.0
    better: Literal["higher", "lower"] = "higher"

    def __post_init__(self) -> None:
        problems = []
        if self.basis == "within_client":
            if self.k is None or not self.k > 0:
                problems.append(f"k must be positive for the within-client rule, not {self.k!r}")
            if self.within_sd is None or not self.within_sd > 0:
                problems.append(
                    "the within-client rule needs within_sd > 0 (the pooled within-client SD of "
                    f"reference data, see pooled_within_sd()), not {self.within_sd!r}"
                )
        elif self.drop is None and self.cutoff is None:
            problems.append("a rule needs a drop threshold, a cut-off, or the within-client basis")
        if self.drop is not None and not self.drop > 0:
            problems.append(f"drop must be positive, not {self.drop!r}")
        if not self.repair_tolerance >= 0:
            problems.append(f"repair_tolerance must be 0 or more, not {self.repair_tolerance!r}")
        if problems:
            raise TrajectoryError("invalid alliance rule", problems)

    def describe(self) -> str:
        """The rule in words, with its thresholds and source."""
        name = self.instrument or "the alliance score"
        worse = "falls" if self.better == "higher" else "rises"
        base = (
            "the previous session"
            if self.baseline == "previous"
            else "the mean of the client's earlier sessions"
        )
        parts = []
        if self.basis == "within_client":
            parts.append(
                f"{name} {worse} more than {fmt(self.k or 0)} × SD from {base}, SD = the larger of "
                f"{fmt(self.within_sd or 0)} (pooled within-client SD of the reference data)"
                + (
                    " and the client's own SD once they have three earlier sessions"
                    if self.own_sd
                    else ""
                )
            )
        if self.drop is not None:
            size = (
                f"{fmt(self.drop)} points or more"
                if self.drop_inclusive
                else f"more than {fmt(self.drop)} points"
            )
            parts.append(f"{name} {worse} by {size} from {base} (reliable change)")
        if self.cutoff is not None:
            parts.append(f"{name} {self.cutoff_op} {fmt(self.cutoff)} (cut-off)")
        repair = "the level before the drop" + (
            f" less {fmt(self.repair_tolerance)}" if self.repair_tolerance else ""
        )
        return (
            f"Alliance rupture when {' or '.join(parts)}; repaired at the first later session "
            f"back to at least {repair}"
            + (
                " and not past the cut-off (a rupture by the cut-off alone: no longer past it)"
                if self.cutoff is not None
                else ""
            )
            + f". Source: {self.source}."
        )


def pooled_within_sd(
    data: object,
    *,
    episode: str = "episode_id",
    session: str = "session",
    score: str = "alliance",
) -> float:
    """The pooled within-client SD of session alliance scores in reference data (a long
    frame): √(Σ over episodes of Σ (x − episode mean)² / Σ (n − 1)), over episodes with
    two or more scores."""
    canon = long_frame(data, episode=episode, session=session, score=score)
    g = (
        canon.filter(pl.col(SCORE).is_not_null())
        .group_by(EPISODE)
        .agg(n=pl.len(), ss=((pl.col(SCORE) - pl.col(SCORE).mean()) ** 2).sum())
        .filter(pl.col("n") >= 2)
    )
    dof = int(g["n"].sum()) - g.height
    if dof < 1:
        raise TrajectoryError("pooled_within_sd needs episodes with two or more alliance scores")
    return math.sqrt(float(g["ss"].sum()) / dof)


def alliance_rule(
    instrument: str | Definition | Instrument | None = None,
    *,
    within_sd: float | None = None,
    k: float = 2.0,
    own_sd: bool = True,
    repair_tolerance: float = 0.0,
    within_sd_source: str | None = None,
) -> AllianceRule:
    """The rupture rule of an alliance ``instrument``: its reliable-change threshold (a
    drop from the previous session) and/or its cut-off where the definition states them;
    otherwise the within-client rule, which needs ``within_sd`` (e.g. from
    :func:`pooled_within_sd` on the practice's own data; say where it came from in
    ``within_sd_source``)."""
    d = definition_of(instrument)
    better: Literal["higher", "lower"] = (
        "lower" if d is not None and d.direction == "higher_is_worse" else "higher"
    )
    rc = d.reliable_change if d is not None else None
    cut = _alliance_cutoff(d, better)
    name = d.short_name if d is not None else None
    if rc is not None or cut is not None:
        basis: Literal["reliable_change", "cutoff", "reliable_change_and_cutoff"] = (
            "reliable_change_and_cutoff"
            if rc is not None and cut is not None
            else ("reliable_change" if rc is not None else "cutoff")
        )
        sources = [s for s in (rc.source if rc else None, cut.source if cut else None) if s]
        return AllianceRule(
            basis=basis,
            source="; ".join(sources),
            instrument=name,
            drop=rc.value if rc is not None else None,
            drop_inclusive=rc is not None and rc.basis == "published",
            cutoff=cut.value if cut is not None else None,
            cutoff_op=cut.op if cut is not None else "<=",
            repair_tolerance=repair_tolerance,
            better=better,
        )
    why = (
        f"{name} states neither a reliable-change threshold nor a cut-off, so the "
        if name
        else "no instrument named, so the "
    )
    return AllianceRule(
        basis="within_client",
        source=why
        + WITHIN_CLIENT_SOURCE
        + (f"; within-client SD: {within_sd_source}" if within_sd_source else ""),
        instrument=name,
        baseline="prior_mean",
        k=k,
        within_sd=within_sd,
        own_sd=own_sd,
        repair_tolerance=repair_tolerance,
        better=better,
    )


def _alliance_cutoff(d: Definition | None, better: str) -> Cutoff | None:
    """The definition's cut-off that marks a weak alliance (``<=``/``<`` when higher is
    better, ``>=``/``>`` when lower is better), if any."""
    if d is None:
        return None
    ops = ("<=", "<") if better == "higher" else (">=", ">")
    return next((c for c in d.cutoffs if c.op in ops), None)


# ------------------------------------------------------------------------------ the run


@dataclass(frozen=True)
class _Run:
    """Per scored row, in row order: what :func:`_run` found."""

    baseline: Floats
    threshold: Floats
    status: npt.NDArray[np.int8]
    rupture_session: Floats


def _run(
    episode: npt.NDArray[np.int64], session: npt.NDArray[np.int64], x: Floats, rule: AllianceRule
) -> _Run:
    """The rupture/repair state machine over the scored rows of sorted episodes, one step
    per session position (at most the longest episode's number of scores), each step
    vectorised over all episodes."""
    n = x.shape[0]
    new_episode = np.r_[True, episode[1:] != episode[:-1]] if n else np.zeros(0, dtype=bool)
    ep = np.cumsum(new_episode) - 1
    start = np.flatnonzero(new_episode)
    position = np.arange(n) - start[ep] if n else np.zeros(0, dtype=np.int64)
    n_ep = int(ep[-1]) + 1 if n else 0
    prev, total, total_sq = np.full(n_ep, np.nan), np.zeros(n_ep), np.zeros(n_ep)
    count, is_open = np.zeros(n_ep, dtype=np.int64), np.zeros(n_ep, dtype=bool)
    target, since = np.full(n_ep, -np.inf), np.full(n_ep, np.nan)
    out = _Run(
        np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=np.int8), np.full(n, np.nan)
    )
    sign = 1.0 if rule.better == "higher" else -1.0  # alliance in "higher is stronger" units
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(int(position.max()) + 2 if n else 1))
    for p in range(len(bounds) - 1):
        rows = order[bounds[p] : bounds[p + 1]]
        e, v = ep[rows], sign * x[rows]
        c = count[e]
        has_base = c >= 1
        with np.errstate(invalid="ignore", divide="ignore"):
            base = prev[e] if rule.baseline == "previous" else total[e] / c
            thr = _threshold(rule, c, total[e], total_sq[e])
        fell = has_base & _exceeds(base - v, thr, rule.drop_inclusive)
        low = _past_cutoff(rule, sign * v)
        was_open = is_open[e]
        back = v >= target[e] - rule.repair_tolerance
        repaired = was_open & back & ~low
        new = ~was_open & (fell | low)
        status = np.where(new, 1, np.where(repaired, 3, np.where(was_open, 2, 0)))
        target[e] = np.where(new, np.where(fell, base, -np.inf), target[e])
        since[e] = np.where(new, session[rows], since[e])
        out.rupture_session[rows] = np.where(status > 0, since[e], np.nan)
        is_open[e] = (was_open & ~repaired) | new
        out.baseline[rows] = np.where(has_base, sign * base, np.nan)
        out.threshold[rows] = thr
        out.status[rows] = status
        prev[e] = v
        total[e] += v
        total_sq[e] += v * v
        count[e] = c + 1
    return out


def _threshold(
    rule: AllianceRule, count: npt.NDArray[np.int64], total: Floats, total_sq: Floats
) -> Floats:
    """The drop that counts as a rupture, per row (NaN: no drop rule)."""
    if rule.basis != "within_client":
        return np.full(count.shape[0], np.nan if rule.drop is None else rule.drop)
    sd = np.full(count.shape[0], float(rule.within_sd or 0.0))
    if rule.own_sd:
        own = np.sqrt(np.maximum(total_sq - total * total / count, 0.0) / (count - 1))
        sd = np.where(count >= 3, np.maximum(sd, own), sd)
    return float(rule.k or 0.0) * sd


def _exceeds(fall: Floats, threshold: Floats, inclusive: bool) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        if inclusive:
            return np.asarray(fall >= threshold - 1e-9 * np.maximum(1.0, threshold))
        return np.asarray(fall > threshold)


def _past_cutoff(rule: AllianceRule, x: Floats) -> npt.NDArray[np.bool_]:
    if rule.cutoff is None:
        return np.zeros(x.shape[0], dtype=bool)
    c = rule.cutoff
    return np.asarray({"<=": x <= c, "<": x < c, ">=": x >= c, ">": x > c}[rule.cutoff_op])


def _judge(canon: pl.DataFrame, rule: AllianceRule) -> pl.DataFrame:
    """The one implementation behind :func:`alliance_frame` and :func:`alliance_signal`."""
    scored = pl.col(SCORE).is_not_null()
    rows = canon.with_row_index("__i").filter(scored)
    run = _run(
        rows[EPISODE].rank("dense").cast(pl.Int64).to_numpy(),
        rows[SESSION].cast(pl.Int64).to_numpy(),
        rows[SCORE].to_numpy().astype(np.float64),
        rule,
    )
    found = pl.DataFrame(
        {
            "__i": rows["__i"],
            "baseline": pl.Series(run.baseline, nan_to_null=True),
            "rupture_threshold": pl.Series(run.threshold, nan_to_null=True),
            "alliance_status": pl.Series(np.asarray(ALLIANCE_STATUSES)[run.status]).cast(
                _STATUS_DTYPE
            ),
            "rupture_session": pl.Series(run.rupture_session, nan_to_null=True).cast(pl.Int32),
        }
    )
    text = rule.describe()
    return (
        canon.with_row_index("__i")
        .join(found, on="__i", how="left")
        .drop("__i")
        .with_columns(pl.lit(text, dtype=pl.Enum([text])).alias("alliance_rule"))
    )


def alliance_frame(
    data: object,
    rule: AllianceRule,
    *,
    episode: str = "episode_id",
    session: str = "session",
    score: str = "alliance",
) -> pl.DataFrame:
    """Ruptures and repairs in every episode of a long frame (Polars or pandas; one row
    per episode and session; a missing score is null and skipped).

    Returns the frame sorted by episode and session with ``baseline`` (the previous score
    or the earlier mean), ``rupture_threshold`` (the drop that counts), ``alliance_status``
    (``stable``/``rupture``/``unrepaired``/``repaired``; null where no score),
    ``rupture_session`` (the session the open or just-repaired rupture began) and
    ``alliance_rule`` (the rule in words, with its source) added."""
    canon = long_frame(data, episode=episode, session=session, score=score, what="alliance data")
    return restore(_judge(canon, rule), episode=episode, session=session, score=score)


@dataclass(frozen=True)
class AllianceSession:
    """One session's alliance, judged."""

    session: int
    score: float | None
    baseline: float | None
    rupture_threshold: float | None
    status: AllianceStatus | None
    rupture_session: int | None


@dataclass(frozen=True)
class AllianceSignal:
    """The alliance signal of one episode at its latest scored session: ``status`` there,
    whether a rupture is ``open`` (not yet repaired), every rupture's start session and
    (if repaired) the session it was repaired, what happened in words (``reasons``), and
    the rule with its source."""

    status: AllianceStatus | None
    open: bool
    ruptures: tuple[tuple[int, int | None], ...]
    reasons: tuple[str, ...]
    rule: str
    basis: str
    sessions: tuple[AllianceSession, ...] = field(repr=False)


def alliance_signal(
    history: Mapping[int, float | None] | Iterable[float | None], rule: AllianceRule
) -> AllianceSignal:
    """Ruptures and repairs of one episode from its session alliance scores (in session
    order from session 1, None where missing; or ``{session: score}``). Runs the same code
    as :func:`alliance_frame`."""
    items = list(history.items()) if isinstance(history, Mapping) else list(enumerate(history, 1))
    problems = [
        f"session {s}: {v!r} is not a number"
        for s, v in items
        if v is not None
        and (isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v))
    ]
    if problems:
        raise TrajectoryError("the alliance history cannot be judged", problems)
    frame = pl.DataFrame(
        {
            EPISODE: [0] * len(items),
            SESSION: [s for s, _ in items],
            SCORE: [None if v is None else float(v) for _, v in items],
        },
        schema={EPISODE: pl.Int64, SESSION: pl.Int64, SCORE: pl.Float64},
    )
    canon = long_frame(
        frame, episode=EPISODE, session=SESSION, score=SCORE, what="alliance history"
    )
    rows = _judge(canon, rule).to_dicts()
    sessions = tuple(
        AllianceSession(
            session=int(r[SESSION]),
            score=r[SCORE],
            baseline=r["baseline"],
            rupture_threshold=r["rupture_threshold"],
            status=r["alliance_status"],
            rupture_session=r["rupture_session"],
        )
        for r in rows
    )
    ruptures: list[tuple[int, int | None]] = []
    reasons: list[str] = []
    for s in sessions:
        if s.status == "rupture":
            ruptures.append((s.session, None))
            reasons.append(_rupture_reason(s, rule))
        elif s.status == "repaired" and ruptures:
            ruptures[-1] = (ruptures[-1][0], s.session)
            reasons.append(f"session {s.session}: repaired (score {fmt(s.score or 0)})")
    scored = [s for s in sessions if s.score is not None]
    last = scored[-1] if scored else None
    return AllianceSignal(
        status=last.status if last else None,
        open=bool(ruptures) and ruptures[-1][1] is None,
        ruptures=tuple(ruptures),
        reasons=tuple(reasons) or ("no rupture",),
        rule=rule.describe(),
        basis=rule.basis,
        sessions=sessions,
    )


def _rupture_reason(s: AllianceSession, rule: AllianceRule) -> str:
    score = s.score or 0.0
    parts = []
    if s.baseline is not None and s.rupture_threshold is not None:
        fall = (s.baseline - score) if rule.better == "higher" else (score - s.baseline)
        if _exceeds(np.array([fall]), np.array([s.rupture_threshold]), rule.drop_inclusive)[0]:
            parts.append(
                f"it fell {fmt(round(fall, 3))} points from {fmt(round(s.baseline, 3))} "
                f"(threshold {fmt(round(s.rupture_threshold, 3))})"
            )
    if rule.cutoff is not None and _past_cutoff(rule, np.array([score]))[0]:
        parts.append(f"it is {rule.cutoff_op} the cut-off {fmt(rule.cutoff)}")
    return f"session {s.session}: rupture (score {fmt(score)}; {' and '.join(parts)})"
