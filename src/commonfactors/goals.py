"""Goals agreed with the client: goal ratings and Goal Attainment Scaling.

Both are *methods*, not licensed text.

**Goal ratings** (the Goal-Based Outcomes mechanics; Law & Jacob 2015): up to three goals
agreed together, each rated by the client from 0 (no progress) to 10 (goal reached) at
check-ins. The ``goals`` instrument definition scores one check-in (the mean of the rated
goals); :func:`goal_change` gives each goal's movement from its first rating.

**Goal Attainment Scaling** (Kiresuk & Sherman 1968): each goal is scored −2 (much less than
expected), −1, 0 (the expected level), +1, +2 (much more than expected), with a weight, and
the summary T-score is::

    T = 50 + 10 · Σ wᵢxᵢ / √((1 − ρ) Σ wᵢ² + ρ (Σ wᵢ)²)

where ρ is the assumed correlation between goal scales, conventionally 0.30. T = 50 means
the goals were attained exactly as expected; the T-score has SD 10 when the assumptions hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from commonfactors.errors import ScoringError

__all__ = ["GAS_LEVELS", "GoalChange", "gas_t_score", "gas_t_scores", "goal_change"]

#: The attainment levels of a GAS goal scale.
GAS_LEVELS = (-2, -1, 0, 1, 2)

#: Kiresuk & Sherman's conventional inter-goal correlation.
DEFAULT_RHO = 0.3


def gas_t_scores(
    attainment: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    rho: float = DEFAULT_RHO,
) -> npt.NDArray[np.float64]:
    """GAS T-scores for many clients at once.

    ``attainment`` is a 2-D array (clients × goals) of levels −2..+2, NaN where a client has
    fewer goals; ``weights`` has the same shape (or is None: all goals weigh 1). A client
    with no goals gets NaN. Raises :class:`ScoringError` naming every bad value.
    """
    x = np.atleast_2d(np.asarray(attainment, dtype=np.float64))
    w = np.ones_like(x) if weights is None else np.atleast_2d(np.asarray(weights, dtype=np.float64))
    problems: list[str] = []
    if not 0 <= rho < 1:
        problems.append(f"rho must be at least 0 and below 1, not {rho:g}")
    if w.shape != x.shape:
        problems.append(f"weights have shape {w.shape}, attainment has shape {x.shape}")
    else:
        present = ~np.isnan(x)
        bad = present & ~np.isin(x, GAS_LEVELS)
        for r, c in zip(*np.nonzero(bad), strict=True):
            problems.append(f"row {r + 1}, goal {c + 1}: {x[r, c]:g} is not one of −2, −1, 0, 1, 2")
        for r, c in zip(*np.nonzero(present & ~(w > 0)), strict=True):
            problems.append(f"row {r + 1}, goal {c + 1}: weight {w[r, c]:g} must be positive")
    if problems:
        raise ScoringError("Goal Attainment Scaling: the goals cannot be scored", problems)
    w = np.where(present, w, 0.0)
    xs = np.where(present, x, 0.0)
    numerator = (w * xs).sum(axis=1)
    denominator = np.sqrt((1 - rho) * (w**2).sum(axis=1) + rho * w.sum(axis=1) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = 50 + 10 * numerator / denominator
    return np.where(present.any(axis=1), t, np.nan)


def gas_t_score(
    attainment: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    rho: float = DEFAULT_RHO,
) -> float:
    """The GAS T-score of one client's goals (see the module docstring for the formula)."""
    if not attainment:
        raise ScoringError("Goal Attainment Scaling needs at least one goal")
    w = None if weights is None else [list(weights)]
    return float(gas_t_scores([list(attainment)], w, rho=rho)[0])


@dataclass(frozen=True)
class GoalChange:
    """One goal's movement on the 0–10 rating scale."""

    goal: int
    first: float
    latest: float
    change: float
    ratings: int


def goal_change(ratings: Sequence[Sequence[float | None]]) -> list[GoalChange]:
    """Per-goal change from the first to the latest rating.

    ``ratings`` is a sequence of check-ins, each a sequence of up to three goal ratings
    (None where a goal was not rated). Goals rated fewer than twice have no change to report.
    """
    problems = [
        f"check-in {i + 1}, goal {g + 1}: {v!r} is not a rating from 0 to 10"
        for i, row in enumerate(ratings)
        for g, v in enumerate(row)
        if v is not None and not (isinstance(v, int | float) and 0 <= v <= 10 and not math.isnan(v))
    ]
    problems += [
        f"check-in {i + 1}: {len(row)} goals; at most 3 goals are agreed"
        for i, row in enumerate(ratings)
        if len(row) > 3
    ]
    if problems:
        raise ScoringError("goal ratings cannot be read", problems)
    out = []
    for g in range(max((len(r) for r in ratings), default=0)):
        seen = [float(v) for r in ratings if g < len(r) and (v := r[g]) is not None]
        if len(seen) >= 2:
            out.append(GoalChange(g + 1, seen[0], seen[-1], seen[-1] - seen[0], len(seen)))
    return out
