"""Who is in the registry: practices, therapists, clients, and each episode's latent traits.

Everything here is drawn once per practice, therapist, client or episode, as whole arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from commonfactors.synth.items import GAD7_GRM, PHQ9_GRM
from commonfactors.synth.params import SynthParams

__all__ = ["Cast", "band_middle", "draw_cast"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Cast:
    """The people of the registry and every episode's latent traits (one array entry per
    practice, therapist, client or episode; indices are 0-based)."""

    # therapists
    therapist_practice: Ints
    therapist_effect: Floats  # shift of the latent change propensity z
    therapist_dropout: Floats  # dropout log-odds
    therapist_alliance: Floats  # alliance trait (z units of the whole trait)
    # clients
    client_age: Ints  # age band index
    client_gender: Ints
    client_employment: Ints
    # episodes
    client: Ints
    therapist: Ints
    episode_number: Ints
    start_day: Ints  # days since the epoch
    high_intensity: Bools
    planned_sessions: Ints
    alliance_trait: Floats  # standardised
    expectancy: Floats  # standardised latent
    expectancy_observed: Floats  # 0–10, steps of 1/3
    readiness: Ints  # stage index
    homework_mean: Floats  # client mean share of homework done
    propensity: Floats  # latent change propensity z
    trajectory_class: Ints
    progress_dep: Floats
    progress_anx: Floats
    theta_dep: Floats  # latent intake severity
    theta_anx: Floats
    gain_session: Ints  # attended session of the sudden gain, 0 when none
    gain_size: Floats
    reversal_session: Ints  # attended session of its partial reversal, 0 when none
    dropout_offset: Floats  # episode's dropout log-odds beside the session terms
    dna_share: Floats
    goal_count: Ints
    goal_start: Floats  # (episodes, 3)
    goal_reach: Floats  # (episodes, 3): share of the way to 9.5 that full progress brings


def _categorical(rng: np.random.Generator, shares: tuple[float, ...], n: int) -> Ints:
    cum = np.cumsum(shares)
    cum[-1] = 1.0
    out: Ints = np.searchsorted(cum, rng.random(n), side="right").astype(np.int64)
    return np.minimum(out, len(shares) - 1)


@dataclass(frozen=True)
class _Structure:
    practice: Ints  # per therapist
    therapist: Ints  # per episode
    client: Ints  # per episode
    number: Ints  # per episode: the client's 1st or 2nd
    start_day: Ints  # per episode
    n_clients: int


def _structure(p: SynthParams, n: int, rng: np.random.Generator) -> _Structure:
    """Therapists in practices, clients, and who sees whom. A repeat episode starts after
    the longest possible first episode has closed."""
    n_therapists = max(1, round(n / p.episodes_per_therapist))
    n_practices = max(1, math.ceil(n_therapists / p.therapists_per_practice))
    practice = rng.permutation(np.arange(n_therapists) % n_practices).astype(np.int64)
    weights = rng.gamma(p.caseload_shape, 1.0, n_therapists)
    cum = np.cumsum(weights) / weights.sum()
    therapist = np.minimum(np.searchsorted(cum, rng.random(n)), n_therapists - 1)
    n_repeat = min(round(p.repeat_episode_share * n), n // 2)
    n_clients = n - n_repeat
    client = np.arange(n, dtype=np.int64)
    client[n_clients:] = rng.choice(n_clients, n_repeat, replace=False)
    number = np.where(np.arange(n) < n_clients, 1, 2).astype(np.int64)
    start = rng.integers(0, p.intake_window_days, n_clients)
    gap = 7 * (p.max_appointments + 1 + rng.integers(0, 105, n_repeat))
    start_day = np.concatenate([start, start[client[n_clients:]] + gap])
    start_day += p.first_day.toordinal() - _EPOCH
    return _Structure(
        practice, therapist.astype(np.int64), client, number, start_day.astype(np.int64), n_clients
    )


_EPOCH = 719163  # date(1970, 1, 1).toordinal()


def _band_moments(lo: float, hi: float) -> tuple[float, float]:
    """Mean and SD of a standard normal truncated to [lo, hi)."""
    std = NormalDist()
    mass = std.cdf(hi) - std.cdf(lo)
    f_lo, f_hi = std.pdf(lo), std.pdf(hi)  # 0 at ±∞
    x_lo = lo * f_lo if math.isfinite(lo) else 0.0
    x_hi = hi * f_hi if math.isfinite(hi) else 0.0
    mean = (f_lo - f_hi) / mass
    return mean, math.sqrt(max(1.0 + (x_lo - x_hi) / mass - mean**2, 1e-12))


def _classes(p: SynthParams, z: Floats) -> tuple[Ints, Floats]:
    """Class = the band of z; within the band, progress follows z (standardised by the
    truncated-normal mean and SD of the band)."""
    cls = np.zeros(z.shape[0], dtype=np.int64)
    progress = np.zeros(z.shape[0])
    for k, ((lo, hi), c) in enumerate(zip(p.class_bounds(), p.classes, strict=True)):
        inside = (z >= lo) & (z < hi)
        mean, sd = _band_moments(lo, hi)
        cls[inside] = k
        progress[inside] = c.progress + c.progress_sd * (z[inside] - mean) / sd
    return cls, progress


def _intake(p: SynthParams, n: int, rng: np.random.Generator) -> tuple[Floats, Floats]:
    mu_d, sd_d = PHQ9_GRM.solve_intake(*p.intake_phq9, state_sd=p.state_sd)
    mu_a, sd_a = GAD7_GRM.solve_intake(*p.intake_gad7, state_sd=p.state_sd)
    e1, e2 = rng.standard_normal(n), rng.standard_normal(n)
    r = p.intake_correlation
    return mu_d + sd_d * e1, mu_a + sd_a * (r * e1 + math.sqrt(1 - r * r) * e2)


def _gains(p: SynthParams, cls: Ints, rng: np.random.Generator) -> tuple[Ints, Floats, Ints]:
    n = int(cls.shape[0])
    share = np.array([c.sudden_gain_share for c in p.classes])[cls]
    lo, hi = p.sudden_gain_sessions
    has = rng.random(n) < share
    session = np.where(has, rng.integers(lo, hi + 1, n), 0)
    size = rng.uniform(*p.sudden_gain_size, n)
    reverse = has & (rng.random(n) < p.sudden_gain_reversal_share)
    reversal = np.where(reverse, session + rng.integers(1, 4, n), 0)
    return session.astype(np.int64), size, reversal.astype(np.int64)


@dataclass(frozen=True)
class _Factors:
    """Standardised latent common factors of each episode, and the change propensity."""

    alliance: Floats
    expectancy: Floats
    readiness: Floats
    homework: Floats
    propensity: Floats


def _factors(
    p: SynthParams, therapist: Ints, t: tuple[Floats, Floats], rng: np.random.Generator
) -> _Factors:
    """z = Σ loading·factor + therapist effect + residual, z ~ N(0, 1)."""
    t_effect, t_alliance = t
    n, w = int(therapist.shape[0]), p.therapist_alliance_share
    alliance = math.sqrt(1 - w) * rng.standard_normal(n) + math.sqrt(w) * t_alliance[therapist]
    expectancy, readiness, homework = (rng.standard_normal(n) for _ in range(3))
    residual = math.sqrt(1 - p.common_factor_variance) * rng.standard_normal(n)
    z = (
        p.alliance_loading * alliance
        + p.expectancy_loading * expectancy
        + p.readiness_loading * readiness
        + p.homework_loading * homework
        + p.therapist_sd * t_effect[therapist]
        + residual
    )
    return _Factors(alliance, expectancy, readiness, homework, z)


def _observed(p: SynthParams, f: _Factors, rng: np.random.Generator) -> tuple[Floats, Ints, Floats]:
    """Intake expectancy (0–10, steps of 1/3), readiness stage, client homework mean."""
    n = int(f.expectancy.shape[0])
    stages = np.cumsum([x for _, x in p.readiness_stages])[:-1]
    cuts = np.array([NormalDist().inv_cdf(min(max(c, 1e-9), 1 - 1e-9)) for c in stages])
    readiness = np.searchsorted(cuts, f.readiness).astype(np.int64)
    r = p.expectancy_reliability
    measured = f.expectancy * math.sqrt(r) + math.sqrt(1 - r) * rng.standard_normal(n)
    raw = p.expectancy_mean + p.expectancy_sd * measured
    expectancy = np.clip(np.rint(raw * 3) / 3, 0, 10)
    homework = np.clip(p.homework_mean + p.homework_sd * f.homework, 0.02, 0.98)
    return expectancy, readiness, homework


def _plan(p: SynthParams, n: int, rng: np.random.Generator) -> tuple[Bools, Ints]:
    """Intensity (high = step 3) and planned sessions."""
    high = rng.random(n) >= p.low_intensity_share
    lo_l, hi_l = p.low_intensity_sessions
    lo_h, hi_h = p.high_intensity_sessions
    planned = np.where(high, rng.integers(lo_h, hi_h + 1, n), rng.integers(lo_l, hi_l + 1, n))
    return high, planned.astype(np.int64)


def _dropout_offset(
    p: SynthParams, s: _Structure, people: tuple[Ints, Ints], f: _Factors, t_dropout: Floats
) -> Floats:
    """Each episode's dropout log-odds beside the session terms."""
    age, employment = people
    ages = np.array([band_middle(label) for label, _ in p.age_bands])[age[s.client]]
    unemployed = employment[s.client] == _index(p.employment, "unemployed")
    out: Floats = (
        p.dropout_age * (ages - 40.0) / 10.0
        + p.dropout_unemployed * unemployed
        + p.dropout_expectancy * f.expectancy
        + t_dropout[s.therapist]
    )
    return out


def draw_cast(p: SynthParams, n: int, rng: np.random.Generator) -> Cast:
    """Draw every practice, therapist, client and episode trait for ``n`` episodes."""
    s = _structure(p, n, rng)
    n_therapists = int(s.practice.shape[0])
    t_effect = rng.standard_normal(n_therapists)
    t_dropout = p.therapist_dropout_sd * rng.standard_normal(n_therapists)
    t_alliance = rng.standard_normal(n_therapists)
    age, gender, employment = (
        _categorical(rng, tuple(x for _, x in labelled), s.n_clients)
        for labelled in (p.age_bands, p.genders, p.employment)
    )
    f = _factors(p, s.therapist, (t_effect, t_alliance), rng)
    cls, progress = _classes(p, f.propensity)
    noise = p.anxiety_progress_sd * rng.standard_normal(n)
    theta_dep, theta_anx = _intake(p, n, rng)
    gain_session, gain_size, reversal = _gains(p, cls, rng)
    expectancy, readiness, homework = _observed(p, f, rng)
    high, planned = _plan(p, n, rng)
    dropout_offset = _dropout_offset(p, s, (age, employment), f, t_dropout)
    dna_logit = math.log(p.dna_share / (1 - p.dna_share)) + 0.5 * dropout_offset
    return Cast(
        therapist_practice=s.practice,
        therapist_effect=p.therapist_sd * t_effect,
        therapist_dropout=t_dropout,
        therapist_alliance=math.sqrt(p.therapist_alliance_share) * t_alliance,
        client_age=age,
        client_gender=gender,
        client_employment=employment,
        client=s.client,
        therapist=s.therapist,
        episode_number=s.number,
        start_day=s.start_day,
        high_intensity=high,
        planned_sessions=planned,
        alliance_trait=f.alliance,
        expectancy=f.expectancy,
        expectancy_observed=expectancy,
        readiness=readiness,
        homework_mean=homework,
        propensity=f.propensity,
        trajectory_class=cls,
        progress_dep=progress,
        progress_anx=p.anxiety_progress_scale * progress + noise,
        theta_dep=theta_dep,
        theta_anx=theta_anx,
        gain_session=gain_session,
        gain_size=gain_size,
        reversal_session=reversal,
        dropout_offset=dropout_offset,
        dna_share=1.0 / (1.0 + np.exp(-dna_logit)),
        goal_count=1 + _categorical(rng, p.goal_count_shares, n),
        goal_start=np.clip(rng.normal(p.goal_start[0], p.goal_start[1], (n, 3)), 0, 7),
        goal_reach=rng.uniform(0.7, 1.1, (n, 3)),
    )


def _index(labelled: tuple[tuple[str, float], ...], label: str) -> int:
    names = [name for name, _ in labelled]
    return names.index(label) if label in names else -1


def band_middle(label: str) -> float:
    """A representative age for a band label such as '25-34' or '65+'."""
    if label.endswith("+"):
        return float(label[:-1]) + 5.0
    lo, _, hi = label.partition("-")
    return (float(lo) + float(hi or lo)) / 2.0
