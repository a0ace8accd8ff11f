"""Benchmark: generate a synthetic registry of 1 million episodes (about 8 million sessions).

Measured: wall time and peak resident memory (``VmRSS`` sampled from ``/proc/self/status``
in a thread) of :func:`commonfactors.synth.generate`, then of :func:`write_registry`.
Printed beside a baseline run in the same process: the same model written the
straightforward way, one episode at a time in a Python loop (scalar random draws, a list of
row dicts, one frame at the end, scored by the library), on a slice of episodes, scaled to
the full size.

Run with ``.venv/bin/python benchmarks/bench_synth.py`` (``--episodes 100000`` for a quick
look). Targets from issue 3: 1 million episodes in ≤ 60 s and ≤ 6 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import commonfactors as cf
from commonfactors.synth import SynthParams, generate, write_registry
from commonfactors.synth.items import GAD7_GRM, PHQ9_GRM, ItemModel
from commonfactors.synth.people import Cast, draw_cast
from measure import measured, rss_bytes

# ------------------------------------------------------------------------------ measuring


# ------------------------------------------------------------------------------ baseline


def _items(model: ItemModel, theta: float, rng: np.random.Generator) -> list[int]:
    """One GRM answer per item at θ, one item at a time (no pair or stable effects)."""
    answers = []
    for a, b in zip(model.discrimination, model.thresholds, strict=True):
        u = min(max(rng.random(), 1e-12), 1 - 1e-12)
        y = theta + math.log(u / (1 - u)) / a
        answers.append(sum(y > bk for bk in b))
    return answers


def _episode(p: SynthParams, c: Cast, e: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One episode, appointment by appointment: the model of ``commonfactors.synth.course``
    written plainly (the within-person effects and ruptures left out)."""
    rows: list[dict[str, Any]] = []
    dose, leaving, state_d, state_a, last = 0, False, 0.0, 0.0, 0.0
    for t in range(1, p.max_appointments + 2):
        u = rng.random()
        if leaving or (t > 1 and p.cancel_share <= u < p.cancel_share + c.dna_share[e]):
            rows.append({"episode_id": e + 1, "session": t, "attendance": "did not attend"})
            if leaving:
                break
            continue
        if t > 1 and u < p.cancel_share:
            rows.append({"episode_id": e + 1, "session": t, "attendance": "cancelled"})
            continue
        dose += 1
        lnd = math.log(dose) / math.log(p.reference_session)
        dep = c.theta_dep[e] - c.progress_dep[e] * max(c.theta_dep[e], 0.0) * lnd
        anx = c.theta_anx[e] - c.progress_anx[e] * max(c.theta_anx[e], 0.0) * lnd
        r = p.state_autocorrelation if dose > 1 else 0.0
        state_d = r * state_d + math.sqrt(1 - r * r) * p.state_sd * rng.standard_normal()
        state_a = r * state_a + math.sqrt(1 - r * r) * p.state_sd * rng.standard_normal()
        alliance = (
            p.alliance_mean
            + p.alliance_between_sd * c.alliance_trait[e]
            + p.alliance_within_sd * rng.standard_normal()
        )
        homework = None
        if dose > 1:
            m = min(max(c.homework_mean[e] - p.homework_decline * (dose - 2), 0.02), 0.98)
            k = p.homework_concentration
            homework = rng.beta(k * m, k * (1 - m))
        row: dict[str, Any] = {"episode_id": e + 1, "session": t, "attendance": "attended"}
        phq = _items(PHQ9_GRM, dep + state_d, rng)
        gad = _items(GAD7_GRM, anx + state_a, rng)
        row |= {f"phq9_{k + 1}": v for k, v in enumerate(phq)}
        row |= {f"gad7_{k + 1}": v for k, v in enumerate(gad)}
        row |= {"alliance": min(max(round(alliance * 12) / 12, 1.0), 5.0), "homework": homework}
        rows.append(row)
        now = PHQ9_GRM.expected_total(np.array([dep + state_d]))[0]
        now_anx = GAD7_GRM.expected_total(np.array([anx + state_a]))[0]
        well = now < 10 and now_anx < 8
        gel = dose >= p.gel_min_sessions and well and rng.random() < p.gel_end_share
        if dose >= c.planned_sessions[e] or gel:
            break
        base = p.dropout_first if dose == 1 else p.dropout_later
        logit = math.log(base / (1 - base)) + c.dropout_offset[e]
        logit += p.dropout_improvement * (last - now if dose > 1 else 0.0)
        leaving = rng.random() < 1 / (1 + math.exp(-logit))
        last = now
        if t == p.max_appointments:
            break
    return rows


def baseline(episodes: int, seed: int) -> pl.DataFrame:
    """The straightforward generator: a Python loop over episodes, then one frame."""
    p = SynthParams()
    rng = np.random.default_rng(seed)
    cast = draw_cast(p, episodes, rng)
    rows: list[dict[str, Any]] = []
    for e in range(episodes):
        rows.extend(_episode(p, cast, e, rng))
    frame = pl.DataFrame(rows, infer_schema_length=None)
    attended = frame.filter(pl.col("attendance") == "attended")
    for instrument in ("phq9", "gad7"):
        items = [f"{instrument}_{k}" for k in range(1, 10 if instrument == "phq9" else 8)]
        total = cf.score_frame(instrument, attended.select(items)).get_column("total")
        attended = attended.with_columns(total.alias(f"{instrument}_total"))
    return attended


# ------------------------------------------------------------------------------ main


def run_vectorised(n: int, seed: int) -> tuple[float, int, float, int, int, int, float]:
    """Generate and write; return the timings, peaks, bytes written, sessions and mean
    intake PHQ-9 (the registry is freed on return, before the baseline runs)."""
    registry, gen_time, gen_peak = measured(lambda: generate(n, seed=seed))
    with tempfile.TemporaryDirectory() as tmp:
        paths, write_time, write_peak = measured(lambda: write_registry(registry, Path(tmp)))
        size = sum(path.stat().st_size for path in paths)
    intake = registry.episodes.get_column("intake_phq9").mean()
    mean_intake = float(intake) if isinstance(intake, int | float) else float("nan")
    return gen_time, gen_peak, write_time, write_peak, size, registry.sessions.height, mean_intake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1_000_000)
    parser.add_argument("--baseline-episodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    n, nb = args.episodes, args.baseline_episodes

    print(f"commonfactors {cf.__version__} · polars {pl.__version__} · numpy {np.__version__}")
    print(f"{os.cpu_count()} cores · {n:,} episodes · seed {args.seed}")
    print(f"RSS before: {rss_bytes() / 2**30:.2f} GB\n")
    figures = run_vectorised(n, args.seed)
    gen_time, gen_peak, write_time, write_peak, size, sessions, intake = figures

    base, base_time, _ = measured(lambda: baseline(nb, args.seed))
    base_rate = nb / base_time
    scaled = n / base_rate

    print(f"{'step':52} {'seconds':>9} {'episodes/s':>12} {'peak RSS':>10}")
    print(f"{'generate (vectorised)':52} {gen_time:9.1f} {n / gen_time:12,.0f} "
          f"{gen_peak / 2**30:7.2f} GB")  # fmt: skip
    print(f"{'write_registry (Parquet, ' + f'{size / 2**20:,.0f} MB)':52} {write_time:9.1f} "
          f"{'':>12} {write_peak / 2**30:7.2f} GB")  # fmt: skip
    print(f"{f'baseline: per-episode Python loop ({nb:,} episodes, scaled)':52} "
          f"{scaled:9.0f} {base_rate:12,.0f}")  # fmt: skip
    print()
    print(f"{sessions:,} sessions ({sessions / n:.2f} per episode); "
          f"generate {gen_time:.1f} s (target ≤ 60 s), peak {gen_peak / 2**30:.2f} GB "
          f"(target ≤ 6 GB); {scaled / gen_time:,.0f}× the per-episode loop")  # fmt: skip
    base_intake = base.group_by("episode_id").agg(pl.col("phq9_total").first())
    print(f"check: mean intake PHQ-9 {intake:.2f} (vectorised) vs "
          f"{base_intake.get_column('phq9_total').mean():.2f} (loop); "
          f"loop rows per episode {base.height / nb:.2f} attended")  # fmt: skip


if __name__ == "__main__":
    main()
