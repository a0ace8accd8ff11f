"""Reliable change of one client on one instrument, by the instrument's own threshold.

An instrument definition states its reliable-change threshold in raw points, published
(e.g. NHS Talking Therapies: 6 points on the PHQ-9, 4 on the GAD-7) or derived from a stated
SD and reliability (Jacobson & Truax 1991: 1.959964 × √2 × SD × √(1 − r)), and which end of
the scale is better. :func:`reliable_change` judges one pre-post pair;
:func:`reliable_change_frame` judges a whole frame; both use :func:`change_columns`, so
the rule exists once.

* A *published* threshold is inclusive: a change of the threshold or more is reliable
  ("6 or more points").
* A *derived* threshold is strict, as in Jacobson & Truax (|RC| > 1.96): the change must
  exceed it.
* *Recovered* (when the instrument defines caseness): a case at pre, not a case at post,
  and reliably improved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import polars as pl

from commonfactors.change._common import (
    CHANGE_DTYPE,
    Better,
    ChangeError,
    as_polars,
    fmt,
    holds,
    listed,
)
from commonfactors.instruments.registry import Instrument, get_instrument
from commonfactors.instruments.schema import Definition

__all__ = [
    "ClientChange",
    "better_of",
    "change_columns",
    "reliable_change",
    "reliable_change_frame",
    "reliable_flags",
    "rule_of",
    "score_problems",
    "threshold_of",
]

#: Float noise allowed when a change equals a published threshold (e.g. 6 points).
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ClientChange:
    """One client's change on one instrument, with the rule and its source."""

    instrument: str
    pre: float
    post: float
    change: float
    threshold: float
    basis: Literal["published", "derived"]
    better: Better
    category: Literal["improved", "unchanged", "deteriorated"]
    case_pre: bool | None
    case_post: bool | None
    recovered: bool | None
    rule: str
    source: str
    definition_version: str


def better_of(d: Definition) -> Better:
    return "lower" if d.direction == "higher_is_worse" else "higher"


def threshold_of(d: Definition) -> tuple[float, bool]:
    """The reliable-change threshold in raw points and whether it is inclusive."""
    rc = d.reliable_change
    if rc is None:
        raise ChangeError(
            f"{d.id} states no reliable-change threshold; use clinical_significance() "
            "with the instrument's reliability instead"
        )
    return rc.value, rc.basis == "published"


def rule_of(d: Definition) -> tuple[str, str]:
    """The rule in words, and its sources."""
    threshold, inclusive = threshold_of(d)
    rc = d.reliable_change
    better = better_of(d)
    t = fmt(threshold)
    if inclusive:
        size = f"a change of {t} or more points (published threshold)"
        down, up = f"post <= pre - {t}", f"post >= pre + {t}"
    else:
        size = (
            f"a change of more than {t} points (derived: 1.959964 x sqrt(2) x SD "
            f"{fmt(rc.sd or 0)} x sqrt(1 - {fmt(rc.reliability or 0)}))"
            if rc is not None
            else ""
        )
        down, up = f"post < pre - {t}", f"post > pre + {t}"
    improved, deteriorated = (down, up) if better == "lower" else (up, down)
    rule = (
        f"{d.short_name}: reliable change is {size}; {better} scores are better, so "
        f"improved: {improved}; deteriorated: {deteriorated}"
    )
    sources = [rc.source if rc is not None else ""]
    if (c := d.caseness_cutoff) is not None:
        rule += (
            f"; recovered: a case at pre (total {c.op} {fmt(c.value)}), not a case at post, "
            "and reliably improved"
        )
        sources.append(f"caseness: {c.source}")
    return rule, "; ".join(sources)


def reliable_flags(d: Definition, pre: pl.Expr, post: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(reliably better, reliably worse) by the instrument's threshold and direction."""
    threshold, inclusive = threshold_of(d)
    gain = (pre - post) if better_of(d) == "lower" else (post - pre)  # positive = better
    if inclusive:
        slack = _TOLERANCE * max(1.0, threshold)
        return gain >= threshold - slack, gain <= -threshold + slack
    return gain > threshold, gain < -threshold


def change_columns(d: Definition, pre: pl.Expr, post: pl.Expr) -> dict[str, pl.Expr]:
    """``change, category, case_pre, case_post, recovered`` as expressions; null where a
    score is missing (and the caseness columns null when the instrument has no caseness)."""
    improved, deteriorated = reliable_flags(d, pre, post)
    category = (
        pl.when(pre.is_null() | post.is_null())
        .then(None)
        .when(improved)
        .then(pl.lit("improved"))
        .when(deteriorated)
        .then(pl.lit("deteriorated"))
        .otherwise(pl.lit("unchanged"))
        .cast(CHANGE_DTYPE)
    )
    c = d.caseness_cutoff
    if c is None:
        none = pl.lit(None, dtype=pl.Boolean)
        case_pre, case_post, recovered = none, none, none
    else:
        case_pre, case_post = holds(c, pre), holds(c, post)
        recovered = case_pre & ~case_post & improved
    return {
        "change": post - pre,
        "category": category,
        "case_pre": case_pre,
        "case_post": case_post,
        "recovered": recovered,
    }


def score_problems(d: Definition, frame: pl.DataFrame, columns: dict[str, str]) -> list[str]:
    """Columns (role → name) that are missing, not numeric, or hold scores outside the
    instrument's range (rows are 1-based)."""
    problems: list[str] = []
    lo, hi = d.score_range
    for role, name in columns.items():
        if name not in frame.columns:
            problems.append(f"column {name!r} ({role}) is not in the frame")
            continue
        if not frame.schema[name].is_numeric():
            problems.append(f"column {name!r} ({role}) must be numeric, not {frame.schema[name]}")
            continue
        v = pl.col(name).cast(pl.Float64)
        bad = (
            frame.with_row_index("__cf_row", offset=1)
            .filter(v.is_nan() | (v < lo) | (v > hi))
            .get_column("__cf_row")
            .to_list()
        )
        if bad:
            problems.append(
                f"column {name!r} ({role}): {len(bad)} score(s) outside the {d.short_name} "
                f"range {fmt(lo)}-{fmt(hi)} in row(s) {listed(bad)}"
            )
    return problems


def reliable_change_frame(
    instrument: str | Definition | Instrument,
    frame: object,
    *,
    pre: str = "pre",
    post: str = "post",
) -> pl.DataFrame:
    """:func:`reliable_change` for every row of ``frame`` (Polars or pandas), one client per
    row with the scores in columns ``pre`` and ``post``.

    Returns the frame with ``change, category, case_pre, case_post, recovered`` added
    (null where a score is missing). Scores outside the instrument's range raise
    :class:`ChangeError` naming every bad row.
    """
    d = get_instrument(instrument).definition
    data = as_polars(frame)
    threshold_of(d)
    problems = score_problems(d, data, {"pre": pre, "post": post})
    if problems:
        raise ChangeError(f"{d.id}: reliable change cannot be computed", problems)
    p, q = pl.col(pre).cast(pl.Float64), pl.col(post).cast(pl.Float64)
    return data.with_columns(**change_columns(d, p, q))


def reliable_change(
    instrument: str | Definition | Instrument, pre: float, post: float
) -> ClientChange:
    """Did one client change reliably on ``instrument`` between ``pre`` and ``post``?

    Uses the instrument definition's reliable-change threshold and direction, and its
    caseness cut-off for ``recovered`` (None when the instrument defines no caseness).
    Raises :class:`ChangeError` for scores that are not numbers in the instrument's range,
    or an instrument without a reliable-change threshold.
    """
    d = get_instrument(instrument).definition
    threshold, _ = threshold_of(d)
    lo, hi = d.score_range
    problems = []
    for name, value in (("pre", pre), ("post", post)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{name} must be a number, not {value!r}")
        elif not (math.isfinite(value) and lo <= value <= hi):
            problems.append(
                f"{name} {fmt(value)} is outside the {d.short_name} range {fmt(lo)}-{fmt(hi)}"
            )
    if problems:
        raise ChangeError(f"{d.id}: reliable change cannot be computed", problems)
    row = reliable_change_frame(d, pl.DataFrame({"pre": [float(pre)], "post": [float(post)]})).row(
        0, named=True
    )
    rule, source = rule_of(d)
    return ClientChange(
        instrument=d.id,
        pre=float(pre),
        post=float(post),
        change=row["change"],
        threshold=threshold,
        basis="published"
        if d.reliable_change and d.reliable_change.basis == "published"
        else "derived",
        better=better_of(d),
        category=row["category"],
        case_pre=row["case_pre"],
        case_post=row["case_post"],
        recovered=row["recovered"],
        rule=rule,
        source=source,
        definition_version=d.version,
    )
