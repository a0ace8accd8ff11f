"""The parameters of the synthetic registry, every default with its source.

Source tags follow ``reference/trajectories.md``: **[V]** checked against the cited page,
**[V2]** checked against a secondary page, **Derived** (arithmetic or simulation on tagged
figures), **engineering choice** (a guess that makes the registry behave plausibly; not a
published figure). "§" numbers point into that reference. Figures marked *calibrated* were
tuned by simulation so that the registry reproduces the published target named beside them
(`docs/synth.md` gives the measured values and the command that measures them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from statistics import NormalDist

from commonfactors.errors import CommonFactorsError

__all__ = ["DEFAULT_CLASSES", "SynthParams", "TrajectoryClass"]


@dataclass(frozen=True)
class TrajectoryClass:
    """One latent trajectory class (Skelton et al. 2022 found four, similar for PHQ-9 and
    GAD-7: fast, gradual, no change, and a mild/worsening group; §1.2).

    ``progress`` is the mean share of the distance between the client's intake severity and
    the general-population mean (θ = 0) that is covered by the reference session
    (log-linear in the session number, so the change goes on, ever more slowly, after it);
    negative values move away from it (worsening). ``progress_sd`` is the spread within the
    class; ``sudden_gain_share`` the share of its clients who have one sudden gain."""

    name: str
    weight: float
    progress: float
    progress_sd: float
    sudden_gain_share: float


#: Starting point: the Derived check of §2.6 (weights 0.45 / 0.30 / 0.18 / 0.07; mean
#: proportional change 0.70 / 0.40 / 0.05 / −0.30, SD 0.15). *Calibrated* from there: the
#: no-change class grown and the fast class sped up until recovery ≈ 50 % and reliable
#: improvement ≈ 67–73 % of finished cases (§2.2), the worsening class until reliable
#: deterioration is 5–10 % (§3). Sudden-gain shares: engineering choice giving ≈ 25 % of
#: clients a gain, most of them among improvers (Tang & DeRubeis: ≈ 55 % of improvers and
#: ≈ 40 % overall in trial CBT; routine care probably lower; §1.4).
DEFAULT_CLASSES = (
    TrajectoryClass("worsening", 0.07, -0.50, 0.15, 0.05),
    TrajectoryClass("no_change", 0.29, 0.05, 0.15, 0.15),
    TrajectoryClass("gradual", 0.26, 0.55, 0.15, 0.40),
    TrajectoryClass("fast", 0.38, 0.85, 0.15, 0.50),
)


@dataclass(frozen=True)
class SynthParams:
    """Everything the generator draws from. The defaults are an *IAPT-like adult preset*
    (NHS Talking Therapies, England). Change one by ``dataclasses.replace(SynthParams(),
    field=value)``; every value is checked when the object is made."""

    # ---------------------------------------------------------------- structure
    #: Mean episodes per therapist (engineering choice; §7 suggests 30–100 clients per
    #: therapist to reproduce therapist recovery rates of ≈ 25–95 %).
    episodes_per_therapist: float = 60.0
    #: Gamma shape of therapists' caseload weights: caseloads vary (engineering choice).
    caseload_shape: float = 4.0
    #: Mean therapists per practice (engineering choice).
    therapists_per_practice: float = 8.0
    #: Share of episodes that are a client's second episode (engineering choice).
    repeat_episode_share: float = 0.10
    #: First episodes start uniformly over this many days from ``first_day``.
    first_day: date = date(2023, 1, 2)
    intake_window_days: int = 3 * 365
    #: Client age bands and shares (engineering choice; adults 18+, UNVERIFIED shares).
    age_bands: tuple[tuple[str, float], ...] = (
        ("18-24", 0.17),
        ("25-34", 0.25),
        ("35-44", 0.20),
        ("45-54", 0.17),
        ("55-64", 0.12),
        ("65+", 0.09),
    )
    #: Gender shares (engineering choice: about two thirds of referrals are women, UNVERIFIED).
    genders: tuple[tuple[str, float], ...] = (
        ("female", 0.65),
        ("male", 0.33),
        ("other", 0.02),
    )
    #: Employment shares (engineering choice).
    employment: tuple[tuple[str, float], ...] = (
        ("employed", 0.58),
        ("unemployed", 0.17),
        ("other", 0.25),
    )
    #: Share of episodes at step 2 (low intensity) rather than step 3 (engineering choice).
    low_intensity_share: float = 0.45
    #: Planned treatment sessions, drawn uniformly: low intensity fewer than 8, high
    #: intensity up to 20 ([V] Delgadillo et al. 2018 protocol, §2.5); the low ends are
    #: engineering choices (guided self-help is typically 6–8 sessions [V2]).
    low_intensity_sessions: tuple[int, int] = (5, 7)
    high_intensity_sessions: tuple[int, int] = (8, 20)
    #: Appointments (attended or not) after which an episode is closed (engineering choice).
    max_appointments: int = 40

    # ---------------------------------------------------------------- intake
    #: Observed intake PHQ-9 and GAD-7, mean and SD: NHS Talking Therapies cases 2022–23,
    #: 15.4 (5.5) and 14.0 (4.5) [V2] (§2.3). Applied to every episode (so about a sixth of
    #: episodes start below caseness); the latent intake θ is solved from these.
    intake_phq9: tuple[float, float] = (15.4, 5.5)
    intake_gad7: tuple[float, float] = (14.0, 4.5)
    #: Correlation of latent intake depression and anxiety (engineering choice).
    intake_correlation: float = 0.75

    # ---------------------------------------------------------------- measurement
    #: Session state noise on θ: SD, lag-1 autocorrelation, and the correlation of the
    #: depression and anxiety states (§8.2 suggests SD ≈ 0.2; the rest engineering choices).
    state_sd: float = 0.15
    state_autocorrelation: float = 0.5
    state_correlation: float = 0.5
    #: SD (θ units) of the effect shared by locally dependent item pairs (PHQ-9 items 1–2
    #: and 3–4 [V] Rasch analysis, §8.1; GAD-7 items 2–3 by analogy; size engineering choice).
    item_pair_sd: float = 0.15
    #: Share of each item's latent error variance that is stable within a client (client-
    #: specific item offsets): 0 is the GRM's conditional independence, which gives a
    #: test–retest reliability of ≈ .76 (item noise alone, cf. the Derived ≈ .72 of §8.2);
    #: *calibrated* to PHQ-9 test–retest ≈ .84 [V2] Kroenke 2001 (§8.1).
    item_stability: float = 0.45

    # ---------------------------------------------------------------- change
    classes: tuple[TrajectoryClass, ...] = DEFAULT_CLASSES
    #: Session at which ``TrajectoryClass.progress`` is reached: the log-linear curve
    #: through sessions 1 and 8 (Derived, §1.5; log-linear beats linear [V] Stulz 2013).
    reference_session: int = 8
    #: Anxiety progress = depression progress × scale + noise of this SD (the classes were
    #: similar for PHQ-9 and GAD-7 [V] Skelton 2022; SD engineering choice; the scale is
    #: *calibrated* to the end GAD-7 of 8.4 (5.7) [V2] beside PHQ-9 9.4 (6.4), §2.3).
    anxiety_progress_scale: float = 1.2
    anxiety_progress_sd: float = 0.10
    #: A sudden gain falls at an attended session drawn from this range, removes this share
    #: of the pre-gain true score, and this share of gains are partly (by ``_fraction``)
    #: reversed one to three sessions later (§1.4 use line: 25–50 %, ≈ 20 % reversed).
    sudden_gain_sessions: tuple[int, int] = (3, 8)
    sudden_gain_size: tuple[float, float] = (0.25, 0.50)
    sudden_gain_reversal_share: float = 0.20
    sudden_gain_reversal_fraction: float = 0.50

    # ---------------------------------------------------------------- common factors
    # Each client has a latent change propensity z ~ N(0, 1) built from standardised
    # factors: z = Σ loading·factor + therapist effect + residual. The class is the band of
    # z (worst band: worsening) and the progress within a class follows z. A loading is the
    # correlation of the factor with z; they are *calibrated* so that the *observed* factor
    # correlates with the observed residual PHQ-9 improvement as published.
    #: Alliance: r = .278 [V] Flückiger et al. 2018 (§5.1, instruments.md §3.5).
    alliance_loading: float = 0.37
    #: Outcome expectation: r = .18 [V] Constantino et al. 2018 (§6).
    expectancy_loading: float = 0.25
    #: Readiness (stage of change): d = .41 [V] Krebs et al. 2018 (§6), r ≈ .20 (Derived).
    readiness_loading: float = 0.28
    #: Homework compliance: g = 0.79 [V] Kazantzis et al. 2016 (§6), r ≈ .37 (Derived,
    #: r = g / √(g² + 4)).
    homework_loading: float = 0.50
    #: SD of the therapist effect on z: therapist ICC of residual PHQ-9 outcome ≈ 5 % [V]
    #: Johns et al. 2019 weighted mean; 5.8 % [V] Saxon et al. 2017 (§7).
    therapist_sd: float = 0.27
    #: Share of the alliance trait's variance that belongs to the therapist (engineering).
    therapist_alliance_share: float = 0.05

    # ---------------------------------------------------------------- alliance
    #: WAI-SR-like client item mean on 1–5 (reported in steps of 1/12): mean 4.0, between-
    #: client SD ≈ 0.6 in all (Derived from WAI-S 1–7 means 5.4–6.0, SD 0.8–1.2 [V], §5.1),
    #: split into a stable trait and session noise (engineering choice).
    alliance_mean: float = 4.0
    alliance_between_sd: float = 0.50
    alliance_within_sd: float = 0.30
    #: Early growth: +0.05 item points per session over sessions 1–4, flat after (§5 use line).
    alliance_growth: float = 0.05
    alliance_growth_sessions: int = 3
    #: Client-reported ruptures in ≈ 20–30 % of sessions (§5.3 [V2]); a dip of ≈ 0.75 SD
    #: (0.45 points), repaired by the next session in 55 % (engineering guess, §5 use line).
    rupture_share: float = 0.20
    rupture_dip: float = 0.45
    rupture_repair_share: float = 0.55
    #: Within-person effects: +1 within-person SD of alliance → −0.15 within-person SD of
    #: symptoms at the next session, and the reverse path of similar size (§5.4 [V] Kenyan
    #: RI-CLPM ≈ .16–.21; use line .15).
    alliance_to_symptoms: float = 0.15
    symptoms_to_alliance: float = 0.15

    # ---------------------------------------------------------------- expectancy, readiness
    #: Intake outcome expectation, a 0–10 practice-question mean reported in steps of 1/3
    #: (cf_expectancy): mean, SD and reliability (engineering choices; no norms published).
    expectancy_mean: float = 6.5
    expectancy_sd: float = 1.8
    expectancy_reliability: float = 0.80
    #: Stage of change at intake and shares (engineering choice; treatment seekers are
    #: mostly contemplating or acting). Ordered: the higher the stage, the higher z.
    readiness_stages: tuple[tuple[str, float], ...] = (
        ("precontemplation", 0.10),
        ("contemplation", 0.40),
        ("action", 0.40),
        ("maintenance", 0.10),
    )

    # ---------------------------------------------------------------- homework
    #: Share of the task done, per session from the second: client mean ≈ 0.5 (SD 0.2),
    #: session values Beta around it with this concentration, declining slowly (§6 use
    #: line; 41 % returned [V] in one sample); the within-person effect of a session's
    #: completion on that session's symptoms is an engineering choice.
    homework_mean: float = 0.50
    homework_sd: float = 0.20
    homework_concentration: float = 6.0
    homework_decline: float = 0.01
    homework_to_symptoms: float = 0.10

    # ---------------------------------------------------------------- goals
    #: Up to three goals rated 0–10 (Law & Jacob 2015 [V]); shares of 1, 2 and 3 goals,
    #: first rating (mean, SD) and rating noise (engineering choices).
    goal_count_shares: tuple[float, float, float] = (0.20, 0.35, 0.45)
    goal_start: tuple[float, float] = (2.5, 1.5)
    goal_noise_sd: float = 0.8

    # ---------------------------------------------------------------- attendance, endings
    #: Per appointment after the first: cancelled, did not attend (engineering choices;
    #: fewer missed appointments go with better outcomes [V] Clark et al. 2018, §2.6).
    cancel_share: float = 0.06
    dna_share: float = 0.08
    #: Dropout hazard after an attended session: the first, then each later one (§4.2 use
    #: line: highest after the first; *calibrated* to ≈ 30 % dropout, inside the 20–40 % of
    #: §4.1 between research (≈ 20 % [V]) and IAPT (≈ 40 % [V2]) rates).
    dropout_first: float = 0.09
    dropout_later: float = 0.03
    #: Log-odds of dropout (§4.3 use line, engineering choices consistent with the ORs):
    #: per decade of age, unemployed, per SD of the session's alliance, per SD of intake
    #: expectancy, per PHQ-9 point of improvement since the last session.
    dropout_age: float = -0.20
    dropout_unemployed: float = 0.80
    dropout_alliance: float = -0.50
    dropout_expectancy: float = -0.30
    dropout_improvement: float = -0.10
    #: SD of the therapist's dropout log-odds: ICC ≈ 0.10 on the latent scale (§7 [V]
    #: 12.6 % and 9.5 % of dropout variance), drawn independently of the outcome effect.
    therapist_dropout_sd: float = 0.60
    #: Good-enough level: once the client is below caseness on both measures and has had at
    #: least this many sessions, a planned ending follows with this chance per session
    #: (Barkham 2006, Stiles 2015 [V]; ≥ 4 sessions [V] Delgadillo 2014; shares engineering).
    gel_min_sessions: int = 5
    gel_end_share: float = 0.15

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise CommonFactorsError("invalid synthetic registry parameters", problems)

    @property
    def common_factor_variance(self) -> float:
        """The share of the latent change propensity's variance the named factors and the
        therapist explain (must stay below 1)."""
        return (
            self.alliance_loading**2
            + self.expectancy_loading**2
            + self.readiness_loading**2
            + self.homework_loading**2
            + self.therapist_sd**2
        )

    def class_bounds(self) -> list[tuple[float, float]]:
        """The band of the latent propensity z that each class occupies (lowest first)."""
        cuts, total = [], 0.0
        for c in self.classes[:-1]:
            total += c.weight
            cuts.append(NormalDist().inv_cdf(total))
        lows = [float("-inf"), *cuts]
        highs = [*cuts, float("inf")]
        return list(zip(lows, highs, strict=True))


def _shares(name: str, shares: tuple[float, ...]) -> list[str]:
    if any(not 0 <= s <= 1 for s in shares) or abs(sum(shares) - 1) > 1e-6:
        return [f"{name}: shares must lie in 0–1 and sum to 1, not {shares}"]
    return []


def _problems(p: SynthParams) -> list[str]:
    problems: list[str] = []
    for name, value in ((f.name, getattr(p, f.name)) for f in fields(p)):
        if isinstance(value, float) and value != value:  # NaN
            problems.append(f"{name} is not a number")
    labelled = ("age_bands", "genders", "employment", "readiness_stages")
    for name in labelled:
        problems += _shares(name, tuple(s for _, s in getattr(p, name)))
    problems += [
        f"age band {label!r} must read like '25-34' or '65+'"
        for label, _ in p.age_bands
        if not re.fullmatch(r"\d+(-\d+|\+)", label)
    ]
    problems += _shares("goal_count_shares", p.goal_count_shares)
    problems += _shares("classes (weights)", tuple(c.weight for c in p.classes))
    if len(p.classes) < 2:
        problems.append("classes: at least two trajectory classes are needed")
    if [c.progress for c in p.classes] != sorted(c.progress for c in p.classes):
        problems.append("classes must be ordered from the least to the most progress")
    for c in p.classes:
        if not c.weight > 0 or c.progress_sd < 0 or not 0 <= c.sudden_gain_share <= 1:
            problems.append(
                f"class {c.name}: need weight > 0, progress_sd ≥ 0, sudden_gain_share in 0–1"
            )
    share_fields = [
        "repeat_episode_share",
        "low_intensity_share",
        "sudden_gain_reversal_share",
        "sudden_gain_reversal_fraction",
        "item_stability",
        "therapist_alliance_share",
        "rupture_share",
        "rupture_repair_share",
        "expectancy_reliability",
        "homework_mean",
        "cancel_share",
        "dna_share",
        "dropout_first",
        "dropout_later",
        "gel_end_share",
    ]
    problems += [f"{f} must lie in 0–1" for f in share_fields if not 0 <= getattr(p, f) <= 1]
    if p.repeat_episode_share > 0.5:
        problems.append("repeat_episode_share must be at most 0.5 (one repeat per client)")
    if p.cancel_share + p.dna_share >= 1:
        problems.append("cancel_share + dna_share must be below 1")
    correlations = ("intake_correlation", "state_autocorrelation", "state_correlation")
    problems += [f"{f} must lie in (−1, 1)" for f in correlations if not -1 < getattr(p, f) < 1]
    positive = [
        "episodes_per_therapist",
        "caseload_shape",
        "therapists_per_practice",
        "state_sd",
        "alliance_between_sd",
        "alliance_within_sd",
        "expectancy_sd",
        "homework_sd",
        "homework_concentration",
        "goal_noise_sd",
    ]
    problems += [f"{f} must be positive" for f in positive if not getattr(p, f) > 0]
    if not p.common_factor_variance < 1:
        problems.append(
            "the squared loadings and therapist_sd² must sum to less than 1, "
            f"not {p.common_factor_variance:.3f}"
        )
    for name in ("low_intensity_sessions", "high_intensity_sessions", "sudden_gain_sessions"):
        lo, hi = getattr(p, name)
        if not 1 <= lo <= hi:
            problems.append(f"{name}: need 1 ≤ low ≤ high, not {(lo, hi)}")
    if not 0 < p.sudden_gain_size[0] <= p.sudden_gain_size[1] < 1:
        problems.append(f"sudden_gain_size: need 0 < low ≤ high < 1, not {p.sudden_gain_size}")
    if p.max_appointments < p.high_intensity_sessions[1]:
        problems.append("max_appointments must be at least the longest planned treatment")
    if p.reference_session < 2:
        problems.append("reference_session must be at least 2")
    if p.intake_window_days < 1:
        problems.append("intake_window_days must be at least 1")
    for name in ("intake_phq9", "intake_gad7"):
        if not getattr(p, name)[1] > 0:
            problems.append(f"{name}: the SD must be positive")
    return problems
