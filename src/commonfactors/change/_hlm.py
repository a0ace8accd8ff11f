"""The multilevel (random slope) method of reliable change (Raudenbush & Bryk 2002).

A linear mixed model ``y = (β0 + u0j) + (β1 + u1j)·time + e`` with a random intercept and a
random slope per client is fitted by REML (statsmodels ``MixedLM``). Each client's slope is
its empirical-Bayes estimate β1 + E[u1j | data]; its standard error is the conditional
(posterior) SD of u1j given the data and the estimated parameters; z = slope / SD. A client
whose |z| exceeds 1.959964 changed reliably.

The empirical-Bayes quantities are computed here on whole columns from each client's
sufficient statistics (n, Σt, Σt², Σr, Σt·r with r = y − β0 − β1·t), with 2 × 2 matrix
algebra written out: with G the random-effects covariance, σ² the residual variance and
S = [[n, Σt], [Σt, Σt²]], the posterior covariance is C = G·(I + S·G/σ²)⁻¹ (equal to
(G⁻¹ + S/σ²)⁻¹ without inverting G) and the posterior mean is C·[Σr, Σt·r]/σ².
"""

from __future__ import annotations

import numpy as np
import polars as pl

from commonfactors.change._common import ChangeError
from commonfactors.change._pairs import ID, T, Y

__all__ = ["fit_slopes", "slopes"]


def fit_slopes(rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit the random-slope model to ``rows`` (``id``, time, y); return the fixed effects
    (β0, β1), the random-effects covariance G (2 × 2) and the residual variance σ²."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    groups = rows.select(pl.col(ID).rank("dense")).to_series().to_numpy()
    t = rows.get_column(T).to_numpy()
    design = np.column_stack([np.ones_like(t), t])
    model = MixedLM(rows.get_column(Y).to_numpy(), design, groups=groups, exog_re=design)
    try:
        result = model.fit(reml=True)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise ChangeError(f"the multilevel model could not be fitted: {exc}") from exc
    if not result.converged:
        raise ChangeError("the multilevel model did not converge; check the data")
    beta = np.asarray(result.fe_params, dtype=float)
    cov = np.asarray(result.cov_re, dtype=float)
    return beta, cov, float(result.scale)


def slopes(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per client: ``id, slope, slope_sd, z`` (see the module docstring)."""
    beta, g, s2 = fit_slopes(rows)
    if not g[1, 1] > 1e-12 * max(1.0, abs(g[0, 0])):
        raise ChangeError(
            "the multilevel model estimates no variation of slopes between clients "
            "(random slope variance 0), so no client's change can be told apart from the "
            "average; use a pre-post method instead"
        )
    g00, g01, g11 = float(g[0, 0]), float(g[0, 1]), float(g[1, 1])
    b0, b1 = float(beta[0]), float(beta[1])
    t, r = pl.col(T), pl.col(Y) - b0 - b1 * pl.col(T)
    stats = rows.group_by(ID, maintain_order=True).agg(
        n=pl.len().cast(pl.Float64), st=t.sum(), stt=(t * t).sum(), sr=r.sum(), str=(t * r).sum()
    )
    n, st, stt = pl.col("n"), pl.col("st"), pl.col("stt")
    # M = I + S·G/σ², written out; C = G·M⁻¹
    m00 = 1 + (n * g00 + st * g01) / s2
    m01 = (n * g01 + st * g11) / s2
    m10 = (st * g00 + stt * g01) / s2
    m11 = 1 + (st * g01 + stt * g11) / s2
    det = m00 * m11 - m01 * m10
    c10 = (g01 * m11 - g11 * m10) / det
    c11 = (g11 * m00 - g01 * m01) / det
    u1 = (c10 * pl.col("sr") + c11 * pl.col("str")) / s2
    return stats.select(
        ID,
        (b1 + u1).alias("slope"),
        c11.sqrt().alias("slope_sd"),
    ).with_columns((pl.col("slope") / pl.col("slope_sd")).alias("z"))
