"""Intake and time since intake, computed once for fitting and predicting alike."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from commonfactors.trajectories._common import EPISODE, SCORE, SESSION

__all__ = ["INTAKE", "INTAKE_SESSION", "T", "quantile_name", "with_intake"]

INTAKE, INTAKE_SESSION, T = "intake", "intake_session", "t"

Floats = npt.NDArray[np.float64]


def with_intake(canon: pl.DataFrame) -> pl.DataFrame:
    """Add ``intake`` (the episode's first score), ``intake_session`` (its session) and
    ``t`` (the session counted from the intake, which is t = 1; null before the intake) to
    a sorted long frame from :func:`long_frame`."""
    scored = pl.col(SCORE).is_not_null()
    first = pl.col(SESSION).filter(scored).min().over(EPISODE)
    out = canon.with_columns(first.alias(INTAKE_SESSION))
    at_intake = pl.col(SESSION) == pl.col(INTAKE_SESSION)
    return out.with_columns(
        pl.col(SCORE).filter(at_intake).first().over(EPISODE).alias(INTAKE),
        pl.when(pl.col(SESSION) >= pl.col(INTAKE_SESSION))
        .then(pl.col(SESSION) - pl.col(INTAKE_SESSION) + 1)
        .alias(T),
    )


def quantile_name(q: float) -> str:
    """The column of a band: 0.75 -> ``p75``."""
    return f"p{round(q * 100)}"
