"""Practice outcomes and therapist profiles, from the episode table of :mod:`commonfactors.tidy`.

The input is the ``episodes`` table of :func:`commonfactors.tidy.tables` (one row per episode),
with one column added by the caller to group by (``therapist``, ``team``). Every clinical rule
comes from the module that owns it: reliable change, recovery and the NHS Talking Therapies
outcome from :mod:`commonfactors.change` (through the tidy table's ``nhstt_*`` columns);
this module only counts and estimates.

* :func:`outcomes` — episodes finished, NHS Talking Therapies recovery, reliable improvement
  and reliable deterioration, dropout, and the pre–post effect size, each with a 95 %
  interval; for the episodes that *ended* in a period, overall or by a column (team), and
  :func:`trend` by calendar month of the end.
* :func:`completeness` — the share of attended sessions with a check-in (any instrument
  answered), from the tidy ``sessions`` table.
* :func:`therapist_profiles` — severity-adjusted outcomes of each therapist from a
  multilevel model with a therapist random intercept, shrunken estimates with 95 %
  intervals, funnel-plot data and the intraclass correlation (ICC).

Intervals: proportions by the Wilson score interval (Wilson 1927; Newcombe 1998, method 3;
:func:`commonfactors.analysis.wilson_interval`). The pre–post effect size is the mean
improvement divided by the SD at intake (Becker 1988, "standardized mean change" with the
pre-test SD), with the large-sample standard error sqrt(2(1 − r)/n + d²/(2n)), r the
intake–last correlation (Becker 1988; Morris & DeShon 2002, Table 2).

The multilevel model (Raudenbush & Bryk 2002, ch. 4; therapist effects as in Saxon & Barkham
2012, Counselling and Psychotherapy Research; Johns et al. 2019, Clin Psych Review): for
episode i of therapist j, ``improvement_ij = β0 + β1·(intake_ij − mean intake) + u_j + e_ij``
with u_j ~ N(0, τ²), e_ij ~ N(0, σ²), fitted by REML (statsmodels ``MixedLM``). A therapist's
severity-adjusted outcome is β0 + û_j, where û_j = λ_j · (mean residual of j) and
λ_j = τ² / (τ² + σ²/n_j) (the empirical-Bayes shrinkage towards the practice mean); its
95 % interval is ± 1.96 · sqrt(λ_j σ²/n_j + (1 − λ_j)² · Var(β̂0)): the conditional variance
of u_j given the estimated variances plus the part of the uncertainty of β0 that the
shrunken estimate inherits (Henderson's prediction error variance, leaving out the
uncertainty of the variances themselves, so the interval is a little narrow). When τ² is
estimated as 0 every therapist's estimate is the practice mean, with β0's interval.
The ICC is τ² / (τ² + σ²). The funnel plot shows each therapist's *unshrunken*
adjusted mean (β0 + mean residual) against n with control limits β0 ± z · sqrt(τ² + σ²)/√n
at z = 1.96 (95 %) and 3.09 (99.8 %) (Spiegelhalter 2005, Statistics in Medicine 24:1185).

Small numbers are shown honestly: a profile needs :data:`MIN_CASELOAD` episodes with an
intake and a last score (default 10); a therapist with fewer is listed as ``too_few`` and
given no estimate. The model needs at least two therapists with a profile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import altair as alt
import numpy as np
import polars as pl

from commonfactors.analysis import wilson_interval
from commonfactors.change._instrument import better_of
from commonfactors.errors import CommonFactorsError
from commonfactors.instruments.registry import get_instrument
from commonfactors.instruments.schema import Z_975

__all__ = [
    "MEASURES",
    "MIN_CASELOAD",
    "PracticeError",
    "TherapistProfiles",
    "completeness",
    "effect_size",
    "ended_in",
    "funnel_chart",
    "funnel_table",
    "outcomes",
    "therapist_profiles",
    "trend",
]

#: Episodes with an intake and a last score a therapist needs before a profile is shown.
MIN_CASELOAD = 10
#: z of the outer (99.8 %) funnel control limits (Spiegelhalter 2005).
Z_998 = 3.090232306167813

#: The measures of :func:`outcomes`, in order: name → what its denominator is.
MEASURES: dict[str, str] = {
    "episodes finished": "episodes that ended (finished or dropped out)",
    "recovery": "NHS TT: finished courses of treatment that were cases at the first measurement",
    "reliable improvement": "NHS TT: finished courses of treatment (>= 2 attended sessions, "
    "first and last PHQ-9 and GAD-7)",
    "reliable deterioration": "NHS TT: finished courses of treatment",
    "dropout": "episodes that ended (finished or dropped out)",
    "pre-post effect size": "ended episodes with an intake and a last primary score",
}

_SCHEMA = {
    "measure": pl.String,
    "among": pl.String,
    "count": pl.Int64,
    "n": pl.Int64,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}


class PracticeError(CommonFactorsError, ValueError):
    """Data that cannot be summarised; ``problems`` names every problem."""


# --------------------------------------------------------------------------------------
# Practice outcomes


def _check_columns(frame: pl.DataFrame, needed: Sequence[str], what: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise PracticeError(
            f"the {what} table cannot be summarised",
            [f"column {c!r} is missing" for c in missing],
        )


def ended_in(
    episodes: pl.DataFrame, since: date | None = None, until: date | None = None
) -> pl.DataFrame:
    """The episodes that ended (finished or dropped out) between ``since`` and ``until``
    (both inclusive, either open)."""
    _check_columns(episodes, ["status", "ended_on"], "episodes")
    if since is not None and until is not None and since > until:
        raise PracticeError("bad period", [f"the period starts ({since}) after it ends ({until})"])
    ended = episodes.filter((pl.col("status") != "active") & pl.col("ended_on").is_not_null())
    if since is not None:
        ended = ended.filter(pl.col("ended_on") >= since)
    if until is not None:
        ended = ended.filter(pl.col("ended_on") <= until)
    return ended


def effect_size(
    intake: Sequence[float] | np.ndarray,
    last: Sequence[float] | np.ndarray,
    *,
    lower_is_better: bool = True,
) -> tuple[float, float, float, int]:
    """The pre–post effect size (mean improvement / SD at intake) with its 95 % interval,
    and n: ``(d, low, high, n)``. Positive d is improvement. NaN with fewer than 3 pairs,
    or when the intake SD is 0."""
    pre = np.asarray(intake, dtype=np.float64)
    post = np.asarray(last, dtype=np.float64)
    n = int(pre.size)
    nan = float("nan")
    if n < 3:
        return nan, nan, nan, n
    sd = float(np.std(pre, ddof=1))
    if sd == 0:
        return nan, nan, nan, n
    gain = (pre - post) if lower_is_better else (post - pre)
    d = float(np.mean(gain)) / sd
    r = float(np.corrcoef(pre, post)[0, 1]) if np.std(post) > 0 else 0.0
    se = math.sqrt(2 * (1 - r) / n + d**2 / (2 * n))
    return d, d - Z_975 * se, d + Z_975 * se, n


def _rate_row(name: str, flag: pl.Series) -> tuple[str, str, int, int, float, float, float]:
    known = flag.drop_nulls()
    count, n = int(known.sum()), int(known.len())
    low, high = wilson_interval(count, n)
    value = count / n if n else float("nan")
    return name, MEASURES[name], count, n, value, float(low), float(high)


def _summary(ended: pl.DataFrame, lower_is_better: bool) -> pl.DataFrame:
    counted = ended.filter(pl.col("nhstt_counted").fill_null(False))
    finished = ended.get_column("status") == "finished"
    low, high = wilson_interval(int(finished.sum()), ended.height)
    rows = [
        (
            "episodes finished",
            MEASURES["episodes finished"],
            int(finished.sum()),
            ended.height,
            float(finished.sum()) / ended.height if ended.height else float("nan"),
            float(low),
            float(high),
        ),
        _rate_row("recovery", counted.get_column("nhstt_recovery")),
        _rate_row("reliable improvement", counted.get_column("nhstt_reliable_improvement")),
        _rate_row("reliable deterioration", counted.get_column("nhstt_reliable_deterioration")),
        _rate_row("dropout", ended.get_column("dropout")),
    ]
    paired = ended.filter(pl.col("intake_score").is_not_null() & pl.col("last_score").is_not_null())
    d, d_low, d_high, n = effect_size(
        paired.get_column("intake_score").to_numpy(),
        paired.get_column("last_score").to_numpy(),
        lower_is_better=lower_is_better,
    )
    rows.append(("pre-post effect size", MEASURES["pre-post effect size"], n, n, d, d_low, d_high))
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row").with_columns(
        pl.col("value", "ci_low", "ci_high").fill_nan(None)
    )


_EPISODE_COLUMNS = (
    "status",
    "ended_on",
    "dropout",
    "intake_score",
    "last_score",
    "nhstt_counted",
    "nhstt_recovery",
    "nhstt_reliable_improvement",
    "nhstt_reliable_deterioration",
)


def _lower_is_better(episodes: pl.DataFrame, primary: str | None) -> bool:
    if primary is None and "primary_instrument" in episodes.columns and episodes.height:
        primary = str(episodes.get_column("primary_instrument")[0])
    return better_of(get_instrument(primary or "phq9").definition) == "lower"


def outcomes(
    episodes: pl.DataFrame,
    *,
    since: date | None = None,
    until: date | None = None,
    by: str | None = None,
    primary: str | None = None,
) -> pl.DataFrame:
    """The practice's outcomes for the episodes that ended in the period: one row per
    measure of :data:`MEASURES` (and per group of ``by``), with ``count``, ``n`` (the
    denominator, named in ``among``), ``value`` (a rate, or the effect size) and the 95 %
    interval ``ci_low`` – ``ci_high`` (empty where n is too small)."""
    _check_columns(episodes, [*_EPISODE_COLUMNS, *([by] if by else [])], "episodes")
    ended = ended_in(episodes, since, until)
    lower = _lower_is_better(episodes, primary)
    if by is None:
        return _summary(ended, lower)
    parts = []
    for key in ended.get_column(by).unique().sort(nulls_last=True).to_list():
        group = ended.filter(pl.col(by).is_null() if key is None else pl.col(by) == key)
        parts.append(_summary(group, lower).select(pl.lit(key).alias(by), pl.all()))
    if not parts:
        return pl.DataFrame(schema={by: episodes.schema[by], **_SCHEMA})
    return pl.concat(parts)


def trend(
    episodes: pl.DataFrame,
    *,
    since: date | None = None,
    until: date | None = None,
    primary: str | None = None,
) -> pl.DataFrame:
    """:func:`outcomes` by calendar month of the episode's end (``month``: the first day
    of the month), oldest first."""
    _check_columns(episodes, _EPISODE_COLUMNS, "episodes")
    ended = ended_in(episodes, since, until).with_columns(
        month=pl.col("ended_on").dt.truncate("1mo")
    )
    return outcomes(ended, by="month", primary=primary)


def completeness(
    sessions: pl.DataFrame,
    *,
    since: date | None = None,
    until: date | None = None,
    by: str | None = None,
) -> pl.DataFrame:
    """The share of attended sessions with a check-in (at least one instrument answered),
    from the tidy ``sessions`` table: ``count`` (with a check-in), ``n`` (attended), ``value``
    and the Wilson 95 % interval; overall or by ``by``."""
    _check_columns(
        sessions, ["date", "attendance", "instruments", *([by] if by else [])], "sessions"
    )
    attended = sessions.filter(pl.col("attendance") == "attended")
    if since is not None:
        attended = attended.filter(pl.col("date") >= since)
    if until is not None:
        attended = attended.filter(pl.col("date") <= until)
    keys = [by] if by else []
    grouped = (
        attended.group_by(keys, maintain_order=True) if keys else attended.group_by(pl.lit(1))
    ).agg(
        pl.col("instruments").is_not_null().sum().cast(pl.Int64).alias("count"),
        pl.len().cast(pl.Int64).alias("n"),
    )
    if not keys:
        grouped = grouped.select("count", "n")
        if grouped.height == 0:
            grouped = pl.DataFrame(
                {"count": [0], "n": [0]}, schema={"count": pl.Int64, "n": pl.Int64}
            )
    else:
        grouped = grouped.sort(by)
    low, high = wilson_interval(grouped.get_column("count"), grouped.get_column("n"))
    return grouped.with_columns(
        value=pl.when(pl.col("n") > 0).then(pl.col("count") / pl.col("n")),
        ci_low=pl.Series(low),
        ci_high=pl.Series(high),
    ).with_columns(pl.col("ci_low", "ci_high").fill_nan(None))


# --------------------------------------------------------------------------------------
# Therapist profiles


@dataclass(frozen=True)
class TherapistProfiles:
    """The result of :func:`therapist_profiles`.

    ``profiles``: one row per therapist — ``therapist``, ``n`` (episodes in the model),
    ``status`` (``shown`` or ``too_few``), ``raw_mean`` (mean improvement), ``adjusted``
    (unshrunken severity-adjusted mean), ``estimate`` (shrunken), ``ci_low``, ``ci_high``,
    ``shrinkage`` (λ), and the funnel limits at that n (``limit95_low`` … ``limit998_high``);
    estimates are empty for ``too_few``. ``practice_mean`` is β0 (the adjusted improvement
    of an average therapist at the mean intake), ``tau2`` and ``sigma2`` the therapist and
    episode variances, ``icc`` τ²/(τ²+σ²); ``intake_slope`` β1; ``n_episodes`` the episodes in
    the model; ``funnel`` the control-limit curves for n from 1 to the largest caseload.
    """

    profiles: pl.DataFrame
    funnel: pl.DataFrame
    practice_mean: float
    intake_slope: float
    tau2: float
    sigma2: float
    icc: float
    n_episodes: int
    min_caseload: int
    instrument: str
    lower_is_better: bool


def _fit(
    improvement: np.ndarray, intake: np.ndarray, groups: np.ndarray
) -> tuple[float, float, float, float, float]:
    """REML fit of the random-intercept model: (β0, β1, τ², σ², Var(β̂0)).

    statsmodels estimates the variances; the fixed effects and their covariance are then
    computed here by generalised least squares given those variances (V_j⁻¹ =
    (I − τ²/(σ² + n_j τ²) · 11ᵀ)/σ²), which stays well defined when τ² is estimated at 0,
    where statsmodels' own fixed effects can break down. At that boundary the REML
    estimate of σ² is the least-squares residual variance (N − 2 degrees of freedom)."""
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    design = np.column_stack([np.ones_like(intake), intake - intake.mean()])
    model = MixedLM(improvement, design, groups=groups)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # boundary fits warn; τ² = 0 is handled below
            result = model.fit(reml=True)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise PracticeError(f"the multilevel model could not be fitted: {exc}") from exc
    if not result.converged:
        raise PracticeError("the multilevel model did not converge; check the data")
    tau2 = float(np.asarray(result.cov_re, dtype=float)[0, 0])
    s2 = float(result.scale)
    if not tau2 > 1e-8 * s2:
        tau2 = 0.0
        coef, *_ = np.linalg.lstsq(design, improvement, rcond=None)
        s2 = float(np.sum((improvement - design @ coef) ** 2)) / (len(improvement) - 2)
    xtvx = np.zeros((2, 2))
    xtvy = np.zeros(2)
    for g in np.unique(groups):
        at = groups == g
        x, y = design[at], improvement[at]
        w = tau2 / (s2 + at.sum() * tau2)
        sx, sy = x.sum(axis=0), y.sum()
        xtvx += (x.T @ x - w * np.outer(sx, sx)) / s2
        xtvy += (x.T @ y - w * sx * sy) / s2
    cov = np.linalg.inv(xtvx)
    beta = cov @ xtvy
    return float(beta[0]), float(beta[1]), tau2, s2, float(cov[0, 0])


def therapist_profiles(
    episodes: pl.DataFrame,
    *,
    therapist: str = "therapist",
    since: date | None = None,
    until: date | None = None,
    min_caseload: int = MIN_CASELOAD,
    primary: str | None = None,
) -> TherapistProfiles:
    """Severity-adjusted, shrunken outcomes of each therapist (see the module docstring),
    over the episodes that ended in the period with an intake and a last primary score.
    Improvement is intake − last for an instrument where lower is better (last − intake
    otherwise), so a larger number is always a better outcome. Raises
    :class:`PracticeError` when fewer than two therapists reach ``min_caseload``."""
    _check_columns(episodes, [*_EPISODE_COLUMNS, therapist], "episodes")
    if min_caseload < 2:
        raise PracticeError("bad minimum caseload", ["min_caseload must be at least 2"])
    lower = _lower_is_better(episodes, primary)
    name = primary or (
        str(episodes.get_column("primary_instrument")[0])
        if "primary_instrument" in episodes.columns and episodes.height
        else "phq9"
    )
    paired = ended_in(episodes, since, until).filter(
        pl.col("intake_score").is_not_null()
        & pl.col("last_score").is_not_null()
        & pl.col(therapist).is_not_null()
    )
    sign = 1.0 if lower else -1.0
    paired = paired.select(
        pl.col(therapist).cast(pl.String).alias("therapist"),
        pl.col("intake_score").cast(pl.Float64).alias("intake"),
        (sign * (pl.col("intake_score") - pl.col("last_score"))).cast(pl.Float64).alias("y"),
    )
    sizes = paired.group_by("therapist").agg(pl.len().alias("n"))
    shown = sizes.filter(pl.col("n") >= min_caseload).get_column("therapist").to_list()
    if len(shown) < 2:
        raise PracticeError(
            "too few therapists for a multilevel model",
            [
                f"{len(shown)} therapist(s) with at least {min_caseload} ended episodes "
                "with an intake and a last score; at least 2 are needed"
            ],
        )
    data = paired.filter(pl.col("therapist").is_in(shown)).sort("therapist")
    groups = data.get_column("therapist").to_numpy()
    intake = data.get_column("intake").to_numpy()
    y = data.get_column("y").to_numpy()
    b0, b1, tau2, s2, var_b0 = _fit(y, intake, groups)
    centre = float(intake.mean())
    resid = data.with_columns(r=pl.col("y") - b0 - b1 * (pl.col("intake") - centre))
    per = resid.group_by("therapist").agg(
        pl.len().alias("n"), pl.col("y").mean().alias("raw_mean"), pl.col("r").mean().alias("mr")
    )
    total_sd = math.sqrt(tau2 + s2)
    n = pl.col("n").cast(pl.Float64)
    lam = tau2 / (tau2 + s2 / n)
    shown_rows = per.with_columns(
        status=pl.lit("shown"),
        adjusted=b0 + pl.col("mr"),
        estimate=b0 + lam * pl.col("mr"),
        half=Z_975 * (lam * s2 / n + (1 - lam) ** 2 * var_b0).sqrt(),
        shrinkage=lam,
    ).with_columns(
        ci_low=pl.col("estimate") - pl.col("half"), ci_high=pl.col("estimate") + pl.col("half")
    )
    few = sizes.filter(pl.col("n") < min_caseload).select(
        "therapist", pl.col("n"), status=pl.lit("too_few")
    )
    profiles = pl.concat(
        [
            shown_rows.select(
                "therapist",
                pl.col("n").cast(pl.Int64),
                "status",
                "raw_mean",
                "adjusted",
                "estimate",
                "ci_low",
                "ci_high",
                "shrinkage",
            ),
            few.with_columns(pl.col("n").cast(pl.Int64)),
        ],
        how="diagonal",
    )
    profiles = _with_limits(profiles, b0, total_sd).sort("therapist")
    largest = int(sizes.get_column("n").max() or 1)  # type: ignore[arg-type]
    funnel = _with_limits(
        pl.DataFrame({"n": list(range(2, max(largest, min_caseload) + 1))}, schema={"n": pl.Int64}),
        b0,
        total_sd,
    )
    return TherapistProfiles(
        profiles=profiles,
        funnel=funnel,
        practice_mean=b0,
        intake_slope=b1,
        tau2=tau2,
        sigma2=s2,
        icc=tau2 / (tau2 + s2),
        n_episodes=data.height,
        min_caseload=min_caseload,
        instrument=name,
        lower_is_better=lower,
    )


def _with_limits(frame: pl.DataFrame, mean: float, sd: float) -> pl.DataFrame:
    root = pl.col("n").cast(pl.Float64).sqrt()
    return frame.with_columns(
        limit95_low=mean - Z_975 * sd / root,
        limit95_high=mean + Z_975 * sd / root,
        limit998_low=mean - Z_998 * sd / root,
        limit998_high=mean + Z_998 * sd / root,
    )


# --------------------------------------------------------------------------------------
# The funnel plot

_INK, _MUTED, _POINT, _MEAN = "#1b1f24", "#59636e", "#0072B2", "#009E73"


def funnel_table(
    result: TherapistProfiles, labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The funnel plot as rows (the chart's table alternative): the therapists with a
    profile, by ``labels`` (id → name; therapists not in ``labels`` are left out when it is
    given), with n, the unshrunken adjusted mean, the 95 % and 99.8 % limits at that n, and
    where the point lies (``within``, ``above 95 %`` … ``below 99.8 %``)."""
    rows = []
    for p in result.profiles.filter(pl.col("status") == "shown").iter_rows(named=True):
        if labels is not None and p["therapist"] not in labels:
            continue
        value = p["adjusted"]
        if value > p["limit998_high"]:
            where = "above 99.8 %"
        elif value > p["limit95_high"]:
            where = "above 95 %"
        elif value < p["limit998_low"]:
            where = "below 99.8 %"
        elif value < p["limit95_low"]:
            where = "below 95 %"
        else:
            where = "within"
        rows.append(
            {
                "therapist": p["therapist"],
                "label": labels[p["therapist"]] if labels is not None else p["therapist"],
                "n": p["n"],
                "adjusted": value,
                "limit95_low": p["limit95_low"],
                "limit95_high": p["limit95_high"],
                "limit998_low": p["limit998_low"],
                "limit998_high": p["limit998_high"],
                "where": where,
            }
        )
    return rows


def _rows(values: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=values)  # type: ignore[no-untyped-call]


def funnel_chart(
    result: TherapistProfiles,
    labels: Mapping[str, str] | None = None,
    *,
    width: int = 520,
    height: int = 320,
) -> alt.LayerChart:
    """A funnel plot (Spiegelhalter 2005): each therapist's severity-adjusted mean
    improvement against the number of episodes, with the practice mean and its 95 % and
    99.8 % control limits. Only the therapists in ``labels`` (id → name) are drawn when it
    is given. Render it with :func:`commonfactors.charts.to_svg`."""
    points = _rows(funnel_table(result, labels))
    curves = _rows(result.funnel.to_dicts())
    x = alt.X("n:Q", title="Episodes with an intake and a last score")
    unit = "improvement (points, severity-adjusted)"
    y_scale = alt.Scale(zero=False)
    limits = []
    for level, dash in (("95", [4, 3]), ("998", [1, 2])):
        for side in ("low", "high"):
            limits.append(
                alt.Chart(curves)
                .mark_line(color=_MUTED, strokeDash=dash, strokeWidth=1.2)
                .encode(x=x, y=alt.Y(f"limit{level}_{side}:Q", title=unit, scale=y_scale))
            )
    mean = (
        alt.Chart(_rows([{"mean": result.practice_mean}]))
        .mark_rule(color=_MEAN, strokeWidth=1.5)
        .encode(y=alt.Y("mean:Q", scale=y_scale))
    )
    dots = (
        alt.Chart(points)
        .mark_point(filled=True, size=90, color=_POINT, shape="circle")
        .encode(
            x=x,
            y=alt.Y("adjusted:Q", scale=y_scale),
            tooltip=[
                alt.Tooltip("label:N", title="Therapist"),
                alt.Tooltip("n:Q", title="Episodes"),
                alt.Tooltip("adjusted:Q", title="Adjusted improvement", format=".1f"),
                alt.Tooltip("where:N", title="Against the limits"),
            ],
        )
    )
    names = (
        alt.Chart(points)
        .mark_text(align="left", dx=8, dy=-6, color=_INK, fontSize=12)
        .encode(x=x, y=alt.Y("adjusted:Q", scale=y_scale), text="label:N")
    )
    subtitle = (
        f"Practice mean {result.practice_mean:.1f} (green line); dashed: 95 % limits; "
        f"dotted: 99.8 % limits. Instrument: {result.instrument}."
    )
    chart = alt.layer(*limits, mean, dots, names).properties(
        width=width,
        height=height,
        title=alt.TitleParams(
            "Therapist outcomes against the practice (funnel plot)",
            subtitle=subtitle,
            anchor="start",
        ),
    )
    return cast(alt.LayerChart, chart)  # properties() keeps the chart's type
