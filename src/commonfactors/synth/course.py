"""The course of every episode, appointment by appointment, all episodes at once.

The loop runs over the appointment number (at most ``max_appointments`` + 1 steps), never
over episodes: each step updates the arrays of the episodes still open. At each step an
open episode's appointment is attended, cancelled or missed (did not attend); at an
attended session the latent severity, alliance, homework and goal ratings are drawn; then
the episode may end as planned (its planned length, or the good-enough level) or the
client may drop out, in which case the next appointment is missed and the episode closes.

The latent severity at the d-th attended session (d = 1 at intake) is::

    θ_d = θ_0 + β·ln d − sudden gain (from its session on) + state_d
    β   = −progress · (θ_0 − 0) / ln(reference session)

where state is AR(1) noise carrying the within-person effects of alliance and homework.
Without ``state_d`` it is the *true* path; item answers are drawn later from θ_d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from commonfactors.synth.items import GAD7_GRM, PHQ9_GRM
from commonfactors.synth.params import SynthParams
from commonfactors.synth.people import Cast

__all__ = ["ATTENDANCE", "ATTENDED", "CANCELLED", "DNA", "SESSION_VALUES", "Course", "run_course"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: Attendance codes, in this order.
ATTENDANCE = ("attended", "cancelled", "did not attend")
ATTENDED, CANCELLED, DNA = 0, 1, 2

#: What is recorded per attended session (besides its episode and appointment number).
SESSION_VALUES = (
    "dose",
    "theta_dep",
    "theta_anx",
    "true_dep",
    "true_anx",
    "alliance",
    "rupture",
    "homework",
    "goal_1",
    "goal_2",
    "goal_3",
)


@dataclass(frozen=True)
class Course:
    """What :func:`run_course` records: per step, the open episodes and their attendance
    codes; per step with attended sessions, those episodes and the session values; and
    per episode, the appointment count, dropout, and the true scores at intake and end."""

    n_rows: Ints
    steps: list[tuple[Ints, npt.NDArray[np.int8]]]
    attended: list[tuple[int, Ints, dict[str, Floats]]]
    dropout: Bools
    true_intake_dep: Floats
    true_intake_anx: Floats
    true_end_dep: Floats
    true_end_anx: Floats
    gain_applied: Bools


@dataclass
class _State:
    """What each episode carries from one appointment to the next."""

    n: int
    caseness: tuple[float, float]  # PHQ-9 and GAD-7 caseness cut-offs (≥)
    active: Bools = field(init=False)
    leaving: Bools = field(init=False)
    dose: Ints = field(init=False)
    gain_dep: Floats = field(init=False)
    gain_anx: Floats = field(init=False)
    state_dep: Floats = field(init=False)
    state_anx: Floats = field(init=False)
    alliance_dev: Floats = field(init=False)
    dip: Floats = field(init=False)
    last_true: Floats = field(init=False)
    end_dep: Floats = field(init=False)
    end_anx: Floats = field(init=False)

    def __post_init__(self) -> None:
        n = self.n
        self.active = np.ones(n, dtype=bool)
        self.leaving = np.zeros(n, dtype=bool)
        self.dose = np.zeros(n, dtype=np.int64)
        for name in [
            "gain_dep",
            "gain_anx",
            "state_dep",
            "state_anx",
            "alliance_dev",
            "dip",
            "last_true",
            "end_dep",
            "end_anx",
        ]:
            setattr(self, name, np.zeros(n))


def _attendance(
    p: SynthParams, c: Cast, s: _State, idx: Ints, t: int, rng: np.random.Generator
) -> npt.NDArray[np.int8]:
    code = np.zeros(idx.shape[0], dtype=np.int8)
    if t > 1:
        u = rng.random(int(idx.shape[0]))
        code[u < p.cancel_share] = CANCELLED
        code[(u >= p.cancel_share) & (u < p.cancel_share + c.dna_share[idx])] = DNA
        code[s.leaving[idx]] = DNA
    return code


def _true_path(c: Cast, s: _State, e: Ints, d: Ints, p: SynthParams) -> tuple[Floats, Floats]:
    """The systematic latent path at attended session d, applying a sudden gain (and its
    reversal) when it falls due."""
    lnd = np.log(d) / math.log(p.reference_session)
    dep = c.theta_dep[e] - c.progress_dep[e] * np.maximum(c.theta_dep[e], 0.0) * lnd
    anx = c.theta_anx[e] - c.progress_anx[e] * np.maximum(c.theta_anx[e], 0.0) * lnd
    gain = c.gain_session[e] == d
    if gain.any():
        g, keep = e[gain], 1.0 - c.gain_size[e[gain]]
        for pre, model, store in ((dep, PHQ9_GRM, s.gain_dep), (anx, GAD7_GRM, s.gain_anx)):
            before = pre[gain] - store[g]
            after = model.theta_for_total(keep * model.expected_total(before))
            store[g] += before - after
    back = c.reversal_session[e] == d
    if back.any():
        s.gain_dep[e[back]] *= 1.0 - p.sudden_gain_reversal_fraction
        s.gain_anx[e[back]] *= 1.0 - p.sudden_gain_reversal_fraction
    return dep - s.gain_dep[e], anx - s.gain_anx[e]


def _homework(
    p: SynthParams, c: Cast, e: Ints, d: Ints, rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """Share of the last task done (NaN at the first session) and its within-person
    deviation in SD units."""
    m = np.clip(c.homework_mean[e] - p.homework_decline * (d - 2), 0.02, 0.98)
    k = p.homework_concentration
    done = rng.beta(k * m, k * (1 - m))
    dev = (done - m) / np.sqrt(m * (1 - m) / (k + 1))
    first = d == 1
    return np.where(first, np.nan, done), np.where(first, 0.0, dev)


def _alliance(
    p: SynthParams, c: Cast, s: _State, e: Ints, d: Ints, rng: np.random.Generator
) -> tuple[Floats, Bools, Floats]:
    """Observed alliance (1–5, steps of 1/12), rupture events, and the standardised
    alliance of the session (for the dropout hazard)."""
    n = int(e.shape[0])
    rupture = rng.random(n) < p.rupture_share
    repaired = rng.random(n) < p.rupture_repair_share
    s.dip[e] = np.where(rupture, p.rupture_dip, np.where(repaired, 0.0, s.dip[e]))
    prior_symptoms = np.where(d > 1, s.state_dep[e] / p.state_sd, 0.0)
    base = (
        p.alliance_mean
        + p.alliance_between_sd * c.alliance_trait[e]
        + p.alliance_growth * np.minimum(d - 1, p.alliance_growth_sessions)
    )
    noise = p.alliance_within_sd * rng.standard_normal(n)
    raw = base + noise - p.symptoms_to_alliance * p.alliance_within_sd * prior_symptoms - s.dip[e]
    s.alliance_dev[e] = (raw - base) / p.alliance_within_sd
    observed = np.clip(np.rint(raw * 12.0) / 12.0, 1.0, 5.0)
    total_sd = math.hypot(p.alliance_between_sd, p.alliance_within_sd)
    return observed, rupture, (raw - p.alliance_mean) / total_sd


def _state(
    p: SynthParams,
    s: _State,
    e: Ints,
    d: Ints,
    deviations: tuple[Floats, Floats],
    rng: np.random.Generator,
) -> None:
    """AR(1) session state of depression and anxiety, with the within-person effects
    (``deviations``, in within-person SDs) of the last session's alliance and of the
    homework done since then."""
    last_alliance, homework_dev = deviations
    n = int(e.shape[0])
    r, rho = p.state_autocorrelation, p.state_correlation
    e1 = rng.standard_normal(n)
    e2 = rho * e1 + math.sqrt(1 - rho * rho) * rng.standard_normal(n)
    push = -p.state_sd * (
        p.alliance_to_symptoms * np.where(d > 1, last_alliance, 0.0)
        + p.homework_to_symptoms * homework_dev
    )
    keep, fresh = np.where(d > 1, r, 0.0), np.where(d > 1, math.sqrt(1 - r * r), 1.0)
    s.state_dep[e] = keep * s.state_dep[e] + fresh * p.state_sd * e1 + push
    s.state_anx[e] = keep * s.state_anx[e] + fresh * p.state_sd * e2 + push


def _goals(p: SynthParams, c: Cast, e: Ints, progress: Floats, rng: np.random.Generator) -> Floats:
    """Goal ratings (episodes × 3), NaN where the goal was not agreed."""
    start, reach = c.goal_start[e], c.goal_reach[e]
    noise = p.goal_noise_sd * rng.standard_normal(start.shape)
    rating = start + (9.5 - start) * reach * progress[:, None] + noise
    rating = np.clip(np.rint(rating), 0.0, 10.0)
    agreed = np.arange(3)[None, :] < c.goal_count[e][:, None]
    out: Floats = np.where(agreed, rating, np.nan)
    return out


def _endings(
    p: SynthParams,
    c: Cast,
    s: _State,
    e: Ints,
    d: Ints,
    now: tuple[Floats, Floats],
    alliance_z: Floats,
    rng: np.random.Generator,
) -> tuple[Bools, Bools]:
    """Planned endings (planned length, or the good-enough level) and dropouts."""
    n = int(e.shape[0])
    phq, gad = now
    well = (phq < s.caseness[0]) & (gad < s.caseness[1])
    gel = (d >= p.gel_min_sessions) & well & (rng.random(n) < p.gel_end_share)
    planned = (d >= c.planned_sessions[e]) | gel
    improvement = np.where(d > 1, s.last_true[e] - phq, 0.0)
    base = np.where(d == 1, _logit(p.dropout_first), _logit(p.dropout_later))
    logit = (
        base
        + c.dropout_offset[e]
        + p.dropout_alliance * alliance_z
        + p.dropout_improvement * improvement
    )
    drop = ~planned & (rng.random(n) < 1.0 / (1.0 + np.exp(-logit)))
    s.last_true[e] = phq
    return planned, drop


def _logit(x: float) -> float:
    x = min(max(x, 1e-9), 1 - 1e-9)
    return math.log(x / (1 - x))


def _session(
    p: SynthParams, c: Cast, s: _State, e: Ints, rng: np.random.Generator
) -> tuple[dict[str, Floats], Bools, Bools]:
    """Everything about the attended sessions of episodes ``e``."""
    s.dose[e] += 1
    d = s.dose[e]
    true_dep, true_anx = _true_path(c, s, e, d, p)
    homework, homework_dev = _homework(p, c, e, d, rng)
    last_alliance = s.alliance_dev[e]  # a copy: the last session's, before this one's
    alliance, rupture, alliance_z = _alliance(p, c, s, e, d, rng)
    _state(p, s, e, d, (last_alliance, homework_dev), rng)
    theta_dep, theta_anx = true_dep + s.state_dep[e], true_anx + s.state_anx[e]
    now = PHQ9_GRM.expected_total(theta_dep), GAD7_GRM.expected_total(theta_anx)
    span_dep = np.maximum(c.theta_dep[e], 0.3)
    span_anx = np.maximum(c.theta_anx[e], 0.3)
    progress = 0.5 * (
        (c.theta_dep[e] - theta_dep) / span_dep + (c.theta_anx[e] - theta_anx) / span_anx
    )
    goals = _goals(p, c, e, np.clip(progress, -0.5, 1.0), rng)
    planned, drop = _endings(p, c, s, e, d, now, alliance_z, rng)
    s.end_dep[e] = PHQ9_GRM.expected_total(true_dep)
    s.end_anx[e] = GAD7_GRM.expected_total(true_anx)
    values = {
        "dose": d.astype(np.float64),
        "theta_dep": theta_dep,
        "theta_anx": theta_anx,
        "true_dep": s.end_dep[e].copy(),
        "true_anx": s.end_anx[e].copy(),
        "alliance": alliance,
        "rupture": rupture.astype(np.float64),
        "homework": homework,
        "goal_1": goals[:, 0],
        "goal_2": goals[:, 1],
        "goal_3": goals[:, 2],
    }
    return values, planned, drop


def run_course(
    p: SynthParams, c: Cast, rng: np.random.Generator, caseness: tuple[float, float]
) -> Course:
    """Run every episode from its first appointment to its end. ``caseness`` gives the
    PHQ-9 and GAD-7 caseness cut-offs (≥) for the good-enough level."""
    n = int(c.client.shape[0])
    s = _State(n, caseness)
    n_rows = np.zeros(n, dtype=np.int64)
    steps: list[tuple[Ints, npt.NDArray[np.int8]]] = []
    attended: list[tuple[int, Ints, dict[str, Floats]]] = []
    dropout = np.zeros(n, dtype=bool)
    intake: tuple[Floats, Floats] = (s.end_dep, s.end_anx)
    for t in range(1, p.max_appointments + 2):
        idx = np.flatnonzero(s.active)
        if idx.size == 0:
            break
        code = _attendance(p, c, s, idx, t, rng)
        steps.append((idx, code))
        n_rows[idx] += 1
        leaving = idx[s.leaving[idx]]
        dropout[leaving] = True
        s.active[leaving] = False
        e = idx[code == ATTENDED]
        if e.size:
            values, planned, drop = _session(p, c, s, e, rng)
            attended.append((t, e, values))
            s.active[e[planned]] = False
            s.leaving[e[drop]] = True
        if t == 1:
            intake = (s.end_dep.copy(), s.end_anx.copy())
        if t == p.max_appointments:  # close what is open; pending dropouts get their row
            s.active &= s.leaving
    return Course(
        n_rows=n_rows,
        steps=steps,
        attended=attended,
        dropout=dropout,
        true_intake_dep=intake[0],
        true_intake_anx=intake[1],
        true_end_dep=s.end_dep,
        true_end_anx=s.end_anx,
        gain_applied=(s.gain_dep > 0) | (s.gain_anx > 0),
    )
