"""What every part of :mod:`commonfactors.change` shares: the error, the critical values,
the category names, frame conversion and the reading of a cut-off as an expression."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

import polars as pl

from commonfactors.errors import ChangeError
from commonfactors.instruments.schema import Z_975, Cutoff

__all__ = [
    "CATEGORIES",
    "CATEGORY_DTYPE",
    "CHANGE_CATEGORIES",
    "CHANGE_DTYPE",
    "Z_95",
    "Z_975",
    "Better",
    "ChangeError",
    "as_polars",
    "fmt",
    "holds",
    "listed",
]

#: The critical value of a one-tailed test at alpha = .05 (Hageman & Arrindell 1999): the
#: exact normal quantile, as ``Z_975`` is for the two-tailed test.
Z_95 = 1.6448536269514722

#: The per-client categories of clinically significant change, best first.
CATEGORIES = ("recovered", "improved", "unchanged", "deteriorated", "harmed")
CATEGORY_DTYPE = pl.Enum(CATEGORIES)

#: The categories of reliable change alone.
CHANGE_CATEGORIES = ("improved", "unchanged", "deteriorated")
CHANGE_DTYPE = pl.Enum(CHANGE_CATEGORIES)

#: Which end of the scale is better.
Better = Literal["lower", "higher"]


def as_polars(data: object, what: str = "data") -> pl.DataFrame:
    """A Polars frame from a Polars or pandas frame (pandas is converted, never required)."""
    if isinstance(data, pl.DataFrame):
        return data
    if type(data).__module__.split(".")[0] == "pandas" and type(data).__name__ == "DataFrame":
        return pl.from_pandas(data)
    raise ChangeError(f"{what} must be a Polars or pandas DataFrame, not {type(data).__name__}")


def holds(cutoff: Cutoff, value: pl.Expr) -> pl.Expr:
    """The cut-off's rule (e.g. ``total >= 10``) as an expression over ``value``."""
    return {
        ">=": value >= cutoff.value,
        ">": value > cutoff.value,
        "<=": value <= cutoff.value,
        "<": value < cutoff.value,
    }[cutoff.op]


def fmt(x: float) -> str:
    """A number as people write it: 6, 6.5, 1.959964."""
    if math.isfinite(x) and x == round(x):
        return str(round(x))
    return f"{x:.6g}"


def listed(values: Iterable[object], limit: int = 10) -> str:
    """The first ``limit`` values, comma-separated, and how many more there are."""
    items: Sequence[object] = list(values)
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown
