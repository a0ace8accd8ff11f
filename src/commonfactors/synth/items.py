"""Item answers from a latent severity θ: the graded response model (GRM).

For item j with discrimination ``a`` and ordered thresholds ``b₁ < b₂ < b₃``,
``P(X ≥ k | θ) = logistic(a·(θ − b_k))``. Equivalently, a latent response
``y = θ + ε/a`` with a standard logistic ``ε`` gives ``X = #{k : y > b_k}``; the generator
samples that way (one logistic draw per answer instead of three logistic evaluations).
Locally dependent item pairs share a normal term added to θ.

θ is on the metric of the PHQ-9 parameters below: θ = 0 is the general-population mean
(NHANES), an IAPT intake case (PHQ-9 ≈ 15) sits near θ = 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

__all__ = ["GAD7_GRM", "PHQ9_GRM", "ItemModel"]

Floats = npt.NDArray[np.float64]

_LOGISTIC_SD = float(np.pi / np.sqrt(3.0))  # SD of the standard logistic distribution
_GRID = np.linspace(-5.0, 9.0, 7001)  # θ grid of the expected-score tables
_STEP = float(_GRID[1] - _GRID[0])


@dataclass(frozen=True)
class ItemModel:
    """Graded-response parameters of one instrument's items (0–3 answers)."""

    instrument: str
    items: tuple[str, ...]
    discrimination: tuple[float, ...]
    thresholds: tuple[tuple[float, float, float], ...]
    #: Locally dependent item pairs (0-based item positions).
    pairs: tuple[tuple[int, int], ...]
    source: str

    def probabilities(self, theta: Floats) -> Floats:
        """P(X_j ≥ k | θ), shape (len(theta), items, 3)."""
        a = np.asarray(self.discrimination)[None, :, None]
        b = np.asarray(self.thresholds)[None, :, :]
        z = np.clip(a * (np.asarray(theta, dtype=np.float64)[:, None, None] - b), -60, 60)
        out: Floats = 1.0 / (1.0 + np.exp(-z))
        return out

    def moments(self, theta: Floats) -> tuple[Floats, Floats]:
        """Expected total and its variance from item sampling alone, at each θ."""
        cum = self.probabilities(theta)
        mean_items = cum.sum(axis=2)
        # E[X²] = Σ_k (2k − 1)·P(X ≥ k)
        second = (cum * np.array([1.0, 3.0, 5.0])).sum(axis=2)
        mean: Floats = mean_items.sum(axis=1)
        var: Floats = (second - mean_items**2).sum(axis=1)
        return mean, var

    @cached_property
    def _table(self) -> Floats:
        return self.moments(_GRID)[0]

    def expected_total(self, theta: Floats) -> Floats:
        """The true score: the expected total at θ (linear interpolation on a fine uniform
        grid, error < 0.001 points; θ outside the grid is held at its ends)."""
        table = self._table
        pos = (np.asarray(theta, dtype=np.float64) - _GRID[0]) / _STEP
        np.clip(pos, 0.0, _GRID.shape[0] - 1.000001, out=pos)
        k = pos.astype(np.intp)
        pos -= k
        out: Floats = table[k] + pos * (table[k + 1] - table[k])
        return out

    def theta_for_total(self, total: Floats) -> Floats:
        """The θ whose expected total is ``total`` (the inverse of :meth:`expected_total`)."""
        out: Floats = np.interp(total, self._table, _GRID)
        return out

    def sample(
        self,
        theta: Floats,
        rng: np.random.Generator,
        *,
        pair_sd: float = 0.0,
        stability: float = 0.0,
        stable: tuple[Floats, npt.NDArray[np.intp]] | None = None,
    ) -> list[npt.NDArray[np.int8]]:
        """One answer (0–3, Int8) per item and θ.

        ``stability`` is the share of each item's latent error variance that is stable
        within a client: the occasion error then has discrimination ``a/√(1 − s)`` and the
        client's own item offsets carry the rest, so an answer still follows the published
        GRM marginally while repeated answers agree more (higher test–retest reliability).
        ``stable`` gives those offsets as standard normals, one row per client (episode)
        and one column per item, and the row of each θ."""
        n = int(theta.shape[0])
        shared = [rng.normal(0.0, pair_sd, n) for _ in self.pairs]
        pair_of = {j: k for k, pair in enumerate(self.pairs) for j in pair}
        answers = []
        for j, (a, b) in enumerate(zip(self.discrimination, self.thresholds, strict=True)):
            u = rng.random(n)
            np.clip(u, 1e-12, 1 - 1e-12, out=u)
            y = np.log(u / (1.0 - u))
            y *= np.sqrt(1.0 - stability) / a
            y += theta
            if stable is not None and stability > 0:
                offsets, owner = stable
                y += offsets[owner, j] * (np.sqrt(stability) * _LOGISTIC_SD / a)
            if j in pair_of:
                y += shared[pair_of[j]]
            x = (y > b[0]).astype(np.int8)
            x += y > b[1]
            x += y > b[2]
            answers.append(x)
        return answers

    def solve_intake(self, mean: float, sd: float, state_sd: float) -> tuple[float, float]:
        """The normal distribution of latent intake θ (mean, SD) whose *observed* totals have
        the given mean and SD, when θ also carries session state noise of ``state_sd``.

        Moments by Gauss–Hermite quadrature; a fixed-point iteration on the mean (by the
        local slope) and on the between-client SD (by the variance left after item noise).
        Item-pair dependence is ignored here (its extra variance is small)."""
        nodes, weights = np.polynomial.hermite_e.hermegauss(80)
        weights = weights / weights.sum()
        mu, total_sd = 2.0, 0.5
        for _ in range(200):
            theta = mu + total_sd * nodes
            tau, item_var = self.moments(theta)
            m = float(weights @ tau)
            between = float(weights @ (tau - m) ** 2)
            within = float(weights @ item_var)
            slope = float(weights @ np.gradient(tau, theta))
            mu += (mean - m) / max(slope, 1e-6)
            wanted = max(sd**2 - within, 1e-6)
            total_sd *= (wanted / max(between, 1e-12)) ** 0.5
        if total_sd <= state_sd:
            raise ValueError(
                f"{self.instrument}: an observed SD of {sd:g} leaves no room for the "
                f"between-client spread beside the item and state noise"
            )
        return mu, float(np.sqrt(total_sd**2 - state_sd**2))


#: PHQ-9: a public re-analysis of NHANES 2015–16 (N ≈ 5,700; ``ltm::grm``, θ ~ N(0, 1) in
#: the general population), GitHub alexm123/CFAvsIRT [V2] (trajectories.md §8.2). Items 1–2
#: and 3–4 are locally dependent ([V] Rasch analysis in UK primary care, §8.1).
PHQ9_GRM = ItemModel(
    instrument="phq9",
    items=tuple(f"phq9_{k}" for k in range(1, 10)),
    discrimination=(1.98, 3.01, 1.64, 1.91, 1.64, 2.80, 2.00, 1.90, 2.46),
    thresholds=(
        (0.86, 1.76, 2.28),
        (0.82, 1.69, 2.19),
        (0.43, 1.50, 2.05),
        (-0.07, 1.26, 1.87),
        (0.92, 1.92, 2.49),
        (1.15, 1.88, 2.33),
        (1.29, 2.06, 2.51),
        (1.70, 2.44, 2.91),
        (2.21, 2.80, 3.22),
    ),
    pairs=((0, 1), (2, 3)),
    source="NHANES 2015-16 re-analysis (GitHub alexm123/CFAvsIRT) [V2]",
)

#: GAD-7: no verified item parameters exist (§8.2, UNVERIFIED). Engineering choice following
#: the reference's suggestion (discriminations ≈ 2, thresholds spaced like the PHQ-9 ones),
#: tuned so that θ = 0 gives GAD-7 ≈ 2.9 (general-population norms 2.7–3.2 [V] Löwe 2008)
#: and θ = 2 gives ≈ 14 (IAPT intake [V2]). Items 2–3 (two worry items) share a term by
#: analogy with the PHQ-9 pairs (engineering choice).
GAD7_GRM = ItemModel(
    instrument="gad7",
    items=tuple(f"gad7_{k}" for k in range(1, 8)),
    discrimination=(2.0, 2.16, 2.08, 1.84, 1.6, 1.68, 1.76),
    thresholds=(
        (0.18, 1.42, 2.14),
        (0.28, 1.52, 2.24),
        (0.18, 1.42, 2.14),
        (0.23, 1.47, 2.19),
        (0.58, 1.82, 2.54),
        (0.38, 1.62, 2.34),
        (0.63, 1.87, 2.59),
    ),
    pairs=((1, 2),),
    source="engineering choice (no verified GAD-7 item parameters; see docs/synth.md)",
)
