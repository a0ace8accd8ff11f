"""Reliable and clinically significant change for a whole data set.

:func:`clinical_significance` takes long data (one row per client and measurement), pairs
each client's pre and post scores, computes a reliable change index (RCI) by one of seven
published methods, a clinical cut-off (a, b or c), and puts each client in one category:
``recovered``, ``improved``, ``unchanged``, ``deteriorated`` or ``harmed``.

Every formula runs as a Polars expression over whole columns; the sample statistics
(means, SDs, the pre-post correlation) are computed once. Formulas, defaults and the
differences from the R package ``clinicalsignificance`` are in ``docs/change.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import polars as pl

from commonfactors.change._common import (
    CATEGORY_DTYPE,
    Z_95,
    Z_975,
    Better,
    ChangeError,
    as_polars,
    fmt,
)
from commonfactors.change._cutoffs import BSd, CutoffKind, cutoff_problems, cutoff_value
from commonfactors.change._hlm import slopes
from commonfactors.change._pairs import ID, Incomplete, column_problems, measurements, pairs

__all__ = ["METHODS", "METHOD_SOURCES", "Method", "clinical_significance"]

Method = Literal["jt", "gln", "hll", "en", "nk", "ha", "hlm"]
METHODS: tuple[Method, ...] = ("jt", "gln", "hll", "en", "nk", "ha", "hlm")

#: Who published each method.
METHOD_SOURCES = {
    "jt": "Jacobson & Truax (1991)",
    "gln": "Gulliksen-Lord-Novick (Hsu 1989)",
    "hll": "Hsu-Linn-Lord (Hsu 1995)",
    "en": "Edwards-Nunnally (Speer 1992)",
    "nk": "Nunnally & Kotsch (1983)",
    "ha": "Hageman & Arrindell (1999)",
    "hlm": "multilevel random slopes (Raudenbush & Bryk 2002)",
}


@dataclass(frozen=True)
class _Sample:
    """The sample's own statistics, computed once (SDs with n − 1, as R's ``sd``)."""

    n: int
    m_pre: float
    var_pre: float
    m_post: float
    var_post: float
    r12: float

    @property
    def sd_pre(self) -> float:
        return math.sqrt(self.var_pre)

    @property
    def sd_post(self) -> float:
        return math.sqrt(self.var_post)

    @classmethod
    def of(cls, wide: pl.DataFrame) -> _Sample:
        row = wide.select(
            pl.len().alias("n"),
            pl.col("pre").mean().alias("m_pre"),
            pl.col("pre").var().alias("var_pre"),
            pl.col("post").mean().alias("m_post"),
            pl.col("post").var().alias("var_post"),
            pl.corr("pre", "post").alias("r12"),
        ).row(0, named=True)

        def num(key: str) -> float:
            value = row[key]
            return float("nan") if value is None else float(value)

        return cls(
            n=int(row["n"]),
            m_pre=num("m_pre"),
            var_pre=num("var_pre"),
            m_post=num("m_post"),
            var_post=num("var_post"),
            r12=num("r12"),
        )


def _rci(method: Method, s: _Sample, r: float, r_post: float) -> pl.Expr:
    """The reliable change index of ``method`` in the scale's own direction (positive when
    the score rose). Notation: M/SD the sample's pre-treatment mean and SD, r the
    reliability."""
    pre, post = pl.col("pre"), pl.col("post")
    m, var = s.m_pre, s.var_pre
    sd = math.sqrt(var)
    expected_post = r * (pre - m) + m  # the estimated true pre score (regression to the mean)
    if method == "jt":  # change / SD of the difference of two error-laden scores
        return (post - pre) / math.sqrt(2 * var * (1 - r))
    if method == "gln":  # post vs its prediction; SE of prediction SD·√(1 − r²)
        return (post - expected_post) / (sd * math.sqrt(1 - r * r))
    if method == "hll":  # as GLN, with the post scores centred on their own mean
        return ((post - s.m_post) - r * (pre - m)) / (sd * math.sqrt(1 - r * r))
    if method == "en":  # post vs the estimated true pre score, in SEs of measurement
        return (post - expected_post) / (sd * math.sqrt(1 - r))
    # nk: as EN, with the error of the estimate and of the post score combined
    return (post - expected_post) / math.sqrt(r * r * var * (1 - r) + var * (1 - r_post))


@dataclass(frozen=True)
class _Ha:
    """Hageman & Arrindell (1999): the reliability of the difference score and of the post
    scores, implied by the sample and the instrument's SE of measurement."""

    se: float
    r_dd: float
    r_post: float

    @classmethod
    def of(cls, s: _Sample, r: float) -> _Ha:
        se2 = s.var_pre * (1 - r)
        if not s.var_post > 0 or math.isnan(s.r12):  # all post scores equal
            return cls(se=math.sqrt(se2), r_dd=math.nan, r_post=math.nan)
        r1 = (s.var_pre - se2) / s.var_pre  # = r
        r2 = (s.var_post - se2) / s.var_post
        cross = 2 * s.sd_pre * s.sd_post * s.r12
        spread = s.var_pre + s.var_post - cross
        r_dd = (s.var_pre * r1 + s.var_post * r2 - cross) / spread if spread > 0 else math.nan
        return cls(se=math.sqrt(se2), r_dd=r_dd, r_post=r2)

    def problems(self) -> list[str]:
        out = []
        if not self.r_dd > 0:
            out.append(
                f"method 'ha': the difference scores carry no reliable variance in this "
                f"sample (r_dd = {fmt(self.r_dd)}); use another method"
            )
        if not self.r_post > 0:
            out.append(
                "method 'ha': the post scores vary less than the error of measurement "
                f"(implied post reliability {fmt(self.r_post)}); use another method"
            )
        return out

    def rci(self, s: _Sample) -> pl.Expr:
        change = pl.col("post") - pl.col("pre")
        mean_change = s.m_post - s.m_pre
        num = change * self.r_dd + mean_change * (1 - self.r_dd)
        return num / (math.sqrt(self.r_dd) * math.sqrt(2) * self.se)

    def csi(self, s: _Sample, cutoff: float) -> pl.Expr:
        """The individual clinical-significance index: the post true-score estimate's
        distance from the (true-score) cut-off, in its standard errors."""
        true_post = s.m_post + (pl.col("post") - s.m_post) * self.r_post
        return (true_post - cutoff) / (math.sqrt(self.r_post) * self.se)


#: The allowed values of each choice-like parameter of clinical_significance.
_CHOICES: dict[str, tuple[object, ...]] = {
    "better": ("lower", "higher"),
    "cutoff": (None, "a", "b", "c"),
    "b_sd": ("functional", "clinical"),
    "incomplete": ("raise", "drop"),
}


def _parameter_problems(
    method: object,
    reliability: float | None,
    reliability_post: float | None,
    pre: object,
    post: object,
    **choices: object,
) -> list[str]:
    """Every problem with the parameters alone (before the data are looked at)."""
    problems: list[str] = []
    if method not in METHODS:
        problems.append(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")
    for name, value in choices.items():
        if value not in _CHOICES[name]:
            options = ", ".join(map(repr, _CHOICES[name]))
            problems.append(f"{name} must be one of {options}, not {value!r}")
    if pre == post:
        problems.append(f"pre and post must differ (both are {pre!r})")
    for name, value in (("reliability", reliability), ("reliability_post", reliability_post)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1
        ):
            problems.append(f"{name} must be a number strictly between 0 and 1, not {value!r}")
    if method == "hlm" and reliability is not None:
        problems.append("method 'hlm' does not use a reliability; pass reliability=None")
    if method in METHODS and method != "hlm" and reliability is None:
        problems.append(f"method {method!r} needs the instrument's reliability")
    if reliability_post is not None and method != "nk":
        problems.append("reliability_post is used by method 'nk' only")
    return problems


def _categories(
    rci: pl.Expr,
    crit: float,
    better: Better,
    functional_post: pl.Expr,
    clinical_post: pl.Expr,
    clinical_pre: pl.Expr | None,
) -> pl.Expr:
    """recovered > improved; harmed > deteriorated; the rest unchanged. Without
    ``clinical_pre`` (method "ha") recovery needs no clinical pre score."""
    up, down = rci > crit, rci < -crit
    improved, deteriorated = (down, up) if better == "lower" else (up, down)
    recovered = improved & functional_post
    harmed = deteriorated & clinical_post
    if clinical_pre is not None:
        recovered = recovered & clinical_pre
        harmed = harmed & ~clinical_pre
    return (
        pl.when(recovered)
        .then(pl.lit("recovered"))
        .when(improved)
        .then(pl.lit("improved"))
        .when(harmed)
        .then(pl.lit("harmed"))
        .when(deteriorated)
        .then(pl.lit("deteriorated"))
        .otherwise(pl.lit("unchanged"))
        .cast(CATEGORY_DTYPE)
    )


def clinical_significance(
    data: object,
    *,
    id: str,
    time: str,
    outcome: str,
    pre: object,
    post: object,
    reliability: float | None,
    method: Method = "jt",
    better: Better = "lower",
    cutoff: CutoffKind | None = None,
    m_functional: float | None = None,
    sd_functional: float | None = None,
    m_clinical: float | None = None,
    sd_clinical: float | None = None,
    reliability_post: float | None = None,
    b_sd: BSd = "functional",
    incomplete: Incomplete = "raise",
) -> pl.DataFrame:
    """Reliable and clinically significant change of every client in ``data``.

    ``data`` is a Polars or pandas frame in long format, one row per client (``id``) and
    measurement (``time``), with the score in ``outcome``; ``pre`` and ``post`` are the
    values of ``time`` that mark the two measurements compared (for ``method="hlm"``, every
    measurement from ``pre`` to ``post`` is used, at least 3 per client, with a numeric time).

    ``method``: "jt" (Jacobson & Truax 1991), "gln" (Gulliksen-Lord-Novick), "hll"
    (Hsu-Linn-Lord), "en" (Edwards-Nunnally), "nk" (Nunnally-Kotsch; ``reliability_post``
    defaults to ``reliability``), "ha" (Hageman & Arrindell 1999; one-tailed 1.644854 and
    true-score cut-offs) or "hlm" (multilevel random slopes; ``reliability=None``). Each
    RCI uses the sample's own pre (and post) statistics; the critical value is the exact
    normal quantile 1.959964 (1.644854 for "ha").

    ``cutoff``: "a", "b" or "c" (default "c" when the functional mean and SD are given,
    otherwise "a"). The clinical mean and SD default to the sample's pre-treatment mean and
    SD. ``b_sd``: cut-off b uses the functional SD as Jacobson & Truax (1991) describe
    ("functional", the default) or the clinical SD as the R package does ("clinical").

    Returns one row per client, in order of first appearance: ``id, pre, post, change,
    rci, category, clinical_pre, functional_post, cutoff`` (``category`` one of recovered,
    improved, unchanged, deteriorated, harmed), plus ``csi`` for "ha" and ``slope,
    slope_sd, n_measurements`` for "hlm". Clients without both measurements raise an
    error, or are left out with ``incomplete="drop"``. Raises :class:`ChangeError` naming
    every problem at once.
    """
    frame = as_polars(data)
    problems = _parameter_problems(
        method,
        reliability,
        reliability_post,
        pre,
        post,
        better=better,
        cutoff=cutoff,
        b_sd=b_sd,
        incomplete=incomplete,
    )
    columns = column_problems(frame, id, time, outcome)
    if problems or columns:
        raise ChangeError("clinical significance cannot be computed", problems + columns)
    mode: Incomplete = "drop" if incomplete == "drop" else "raise"
    rows: pl.DataFrame | None = None
    if method == "hlm":
        rows, wide, problems = measurements(
            frame, id=id, time=time, outcome=outcome, pre=pre, post=post, incomplete=mode
        )
    else:
        wide, problems = pairs(
            frame, id=id, time=time, outcome=outcome, pre=pre, post=post, incomplete=mode
        )
    sample = _Sample.of(wide)
    if not problems and (wide.height < 2 or not sample.var_pre > 0):
        problems.append(
            "the sample's pre-treatment SD is needed and must be positive: at least 2 "
            f"clients with different {pre!r} scores (found {wide.height} client(s))"
        )
    kind: CutoffKind = cutoff or ("c" if m_functional is not None else "a")
    m_c = sample.m_pre if m_clinical is None else m_clinical
    sd_c = sample.sd_pre if sd_clinical is None else sd_clinical
    if not problems:
        problems += cutoff_problems(
            kind,
            m_clinical=m_c,
            sd_clinical=sd_c,
            m_functional=m_functional,
            sd_functional=sd_functional,
            better=better,
            b_sd=b_sd,
        )
    ha = None
    if not problems and method == "ha":
        ha = _Ha.of(sample, reliability or 0.0)
        problems += ha.problems()
    if problems:
        raise ChangeError("clinical significance cannot be computed", problems)
    cut = cutoff_value(
        kind,
        m_clinical=m_c,
        sd_clinical=sd_c,
        m_functional=m_functional,
        sd_functional=sd_functional,
        better=better,
        b_sd=b_sd,
        true_score_se=None if ha is None else ha.se,
    )
    return _classify(wide, rows, method, sample, ha, cut, better, reliability, reliability_post)


def _classify(
    wide: pl.DataFrame,
    rows: pl.DataFrame | None,
    method: Method,
    sample: _Sample,
    ha: _Ha | None,
    cut: float,
    better: Better,
    reliability: float | None,
    reliability_post: float | None,
) -> pl.DataFrame:
    """Add change, RCI, category and the cut-off columns to the paired scores."""

    def functional(x: pl.Expr) -> pl.Expr:
        return x < cut if better == "lower" else x > cut

    extra: dict[str, pl.Expr] = {}
    if rows is not None:  # hlm
        wide = wide.join(slopes(rows), on=ID, how="left", maintain_order="left")
        rci, crit = pl.col("z"), Z_975
    elif ha is not None:
        rci, crit = ha.rci(sample), Z_95
        extra["csi"] = ha.csi(sample, cut)
    else:
        r = reliability or 0.0  # present for every method but hlm: checked above
        rci = _rci(method, sample, r, reliability_post or r)
        crit = Z_975
    out = wide.with_columns(
        (pl.col("post") - pl.col("pre")).alias("change"), rci.alias("rci"), **extra
    )
    if ha is not None:
        csi = pl.col("csi")
        beyond_better = csi < -Z_95 if better == "lower" else csi > Z_95
        beyond_worse = csi > Z_95 if better == "lower" else csi < -Z_95
        category = _categories(pl.col("rci"), crit, better, beyond_better, beyond_worse, None)
        functional_post = beyond_better
    else:
        functional_post = functional(pl.col("post"))
        category = _categories(
            pl.col("rci"),
            crit,
            better,
            functional_post,
            ~functional_post,
            ~functional(pl.col("pre")),
        )
    out = out.with_columns(
        category.alias("category"),
        (~functional(pl.col("pre"))).alias("clinical_pre"),
        functional_post.alias("functional_post"),
        pl.lit(cut, dtype=pl.Float64).alias("cutoff"),
    )
    base = [
        "id",
        "pre",
        "post",
        "change",
        "rci",
        "category",
        "clinical_pre",
        "functional_post",
        "cutoff",
    ]
    tail = {"ha": ["csi"], "hlm": ["slope", "slope_sd", "n_measurements"]}.get(method, [])
    return out.select(*base, *tail)
