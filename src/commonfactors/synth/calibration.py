"""How well a generated registry reproduces its published targets.

:func:`calibration` measures, on the *observed* data the way an analyst would (plus the
ground-truth shares), each figure the parameters were chosen to reproduce. The tests and
``docs/synth.md`` use it; ``python -m commonfactors.synth.calibration`` prints it.
"""

from __future__ import annotations

import argparse

import numpy as np
import numpy.typing as npt
import polars as pl

from commonfactors.instruments.registry import default_registry
from commonfactors.synth.registry import OUTCOMES, SyntheticRegistry, generate, nhs_outcomes

__all__ = ["TARGETS", "calibration", "therapist_icc"]

#: Published target (low, high) of each calibrated figure; sources in ``SynthParams``.
TARGETS: dict[str, tuple[float, float]] = {
    "intake_phq9_mean": (15.0, 15.8),
    "intake_phq9_sd": (5.2, 5.8),
    "intake_gad7_mean": (13.6, 14.4),
    "intake_gad7_sd": (4.2, 4.8),
    "dropout": (0.20, 0.40),
    "recovery": (0.45, 0.55),
    "reliable_improvement": (0.60, 0.75),
    "reliable_deterioration": (0.05, 0.10),
    "mean_attended_finished": (6.5, 8.5),
    "r_alliance": (0.23, 0.33),
    "r_expectancy": (0.13, 0.23),
    "r_readiness": (0.15, 0.25),
    "r_homework": (0.31, 0.43),
    "therapist_icc": (0.03, 0.07),
}


def therapist_icc(values: npt.ArrayLike, groups: npt.ArrayLike) -> float:
    """ICC(1) from a one-way ANOVA of ``values`` by ``groups``:
    (MSB − MSW) / (MSB + (n₀ − 1)·MSW), with n₀ the adjusted mean group size."""
    frame = pl.DataFrame({"y": np.asarray(values, dtype=np.float64), "g": np.asarray(groups)})
    grand = frame.get_column("y").mean()
    by = frame.group_by("g").agg(pl.len().alias("n"), pl.col("y").mean().alias("m"))
    within = frame.join(by, on="g").select(((pl.col("y") - pl.col("m")) ** 2).sum()).item()
    n_total, n_groups = frame.height, by.height
    if not isinstance(grand, float) or n_groups < 2 or n_total <= n_groups:
        return float("nan")
    counts, means = by.get_column("n").to_numpy(), by.get_column("m").to_numpy()
    msb = float((counts * (means - grand) ** 2).sum()) / (n_groups - 1)
    msw = float(within) / (n_total - n_groups)
    n0 = (n_total - float((counts**2).sum()) / n_total) / (n_groups - 1)
    return (msb - msw) / (msb + (n0 - 1) * msw)


def _residual_improvement(finished: pl.DataFrame) -> npt.NDArray[np.float64]:
    """Last PHQ-9 regressed on intake PHQ-9; the residual, signed so higher = better."""
    x = finished.get_column("intake_phq9").to_numpy().astype(np.float64)
    y = finished.get_column("last_phq9").to_numpy().astype(np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    out: npt.NDArray[np.float64] = -(y - (intercept + slope * x))
    return out


def _corr(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    return float(
        np.corrcoef(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[0, 1]
    )


def calibration(registry: SyntheticRegistry) -> dict[str, float]:
    """The calibrated figures of ``registry`` (keys as in :data:`TARGETS`, plus context).

    Denominators: intake over all episodes; NHS Talking Therapies outcomes over finished
    episodes (≥ 2 attended sessions) that were a case at intake; correlations and the
    therapist ICC over finished episodes, against the residual PHQ-9 improvement (last
    score regressed on intake, sign flipped); alliance = mean of the first three attended
    sessions; homework = mean of the episode's homework ratings."""
    e, s = registry.episodes, registry.sessions
    reg = default_registry()
    phq9, gad7 = reg.definition("phq9"), reg.definition("gad7")
    early = (
        s.filter(pl.col("treatment_session") <= 3)
        .group_by("episode_id")
        .agg(pl.col("alliance").mean().alias("early_alliance"))
    )
    homework = s.group_by("episode_id").agg(pl.col("homework").mean().alias("mean_homework"))
    f = (
        e.filter(pl.col("finished"))
        .join(early, on="episode_id", how="left")
        .join(homework, on="episode_id", how="left")
    )
    o = nhs_outcomes(
        (f.get_column("intake_phq9").to_numpy(), f.get_column("intake_gad7").to_numpy()),
        (f.get_column("last_phq9").to_numpy(), f.get_column("last_gad7").to_numpy()),
        phq9,
        gad7,
    )
    case = o["case"]
    gain = _residual_improvement(f)
    cases = f.filter(pl.Series(case))
    out = {
        "episodes": float(e.height),
        "sessions_per_episode": s.height / e.height,
        "intake_phq9_mean": _num(e.get_column("intake_phq9").mean()),
        "intake_phq9_sd": _num(e.get_column("intake_phq9").std()),
        "intake_gad7_mean": _num(e.get_column("intake_gad7").mean()),
        "intake_gad7_sd": _num(e.get_column("intake_gad7").std()),
        "dropout": _num(e.get_column("dropout").mean()),
        "finished": _num(e.get_column("finished").mean()),
        "attended_share": _num(s.get_column("attended").mean()),
        "mean_attended_finished": _num(f.get_column("n_attended").mean()),
        "recovery": float(o["recovered"][case].mean()),
        "reliable_recovery": float(o["reliably_recovered"][case].mean()),
        "reliable_improvement": float(o["improved"][case].mean()),
        "reliable_deterioration": float(o["deteriorated"][case].mean()),
        "end_phq9_mean": _num(cases.get_column("last_phq9").mean()),
        "end_phq9_sd": _num(cases.get_column("last_phq9").std()),
        "end_gad7_mean": _num(cases.get_column("last_gad7").mean()),
        "end_gad7_sd": _num(cases.get_column("last_gad7").std()),
        "r_alliance": _corr(f.get_column("early_alliance").to_numpy(), gain),
        "r_expectancy": _corr(f.get_column("expectancy").to_numpy(), gain),
        "r_readiness": _corr(f.get_column("readiness").to_physical().to_numpy(), gain),
        "r_homework": _corr(f.get_column("mean_homework").to_numpy(), gain),
        "therapist_icc": therapist_icc(gain, f.get_column("therapist_id").to_numpy()),
        "true_sudden_gain": _num(e.get_column("true_sudden_gain_session").is_not_null().mean()),
    }
    truth = e.get_column("true_outcome").value_counts(normalize=True)
    shares = dict(
        zip(truth.get_column("true_outcome"), truth.get_column("proportion"), strict=True)
    )
    out |= {f"true_{k}": float(shares.get(k, 0.0)) for k in OUTCOMES}
    return out


def _num(x: object) -> float:
    return float(x) if isinstance(x, int | float) else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description="Calibration figures of a synthetic registry.")
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    figures = calibration(generate(args.episodes, seed=args.seed))
    for key, value in figures.items():
        lo_hi = TARGETS.get(key)
        target = f"target {lo_hi[0]:g}–{lo_hi[1]:g}" if lo_hi else ""
        flag = "" if not lo_hi else ("ok" if lo_hi[0] <= value <= lo_hi[1] else "OFF")
        print(f"{key:28} {value:10.4f}  {target:24} {flag}")


if __name__ == "__main__":
    main()
