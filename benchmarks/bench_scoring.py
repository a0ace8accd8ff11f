"""Benchmark: score 10 million PHQ-9 administrations held in a Polars frame.

Printed beside two baselines run in the same process on the same data:

(a) a straightforward pandas row-wise implementation of the same rules (``DataFrame.apply``
    over rows, on a slice, scaled to administrations per second), and
(b) a numpy sum of the nine item columns: the memory-bandwidth floor, which checks nothing.

Two data sets are scored: complete answers (what the check-in form produces) and the same
answers with 1 % of administrations missing one item (exercising row checks and prorating).

Run with ``make bench`` (or ``python benchmarks/bench_scoring.py --n 1000000`` for a quick
look). Targets from the issue: within 5× of (b), at least 20× faster than (a), peak memory
under 4 GB. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

import commonfactors as cf
from measure import measured

ITEMS = [f"phq9_{k}" for k in range(1, 10)]


def make_answers(n: int, seed: int) -> pl.DataFrame:
    """Plausible PHQ-9 answers: a latent severity per administration, item thresholds that
    make item 9 (thoughts of self-harm) the rarest, integer answers 0–3 in Int64 columns
    (the dtype a CSV or Parquet reader gives)."""
    rng = np.random.default_rng(seed)
    severity = rng.normal(0.0, 1.0, n).astype(np.float32)
    difficulty = np.array([0.0, 0.1, -0.3, -0.4, 0.2, 0.3, 0.3, 0.7, 1.6], dtype=np.float32)
    columns = {}
    for k, item in enumerate(ITEMS):
        noise = rng.normal(0.0, 0.8, n).astype(np.float32)
        answer = np.clip(np.rint(1.3 + 1.0 * severity + noise - difficulty[k]), 0, 3)
        columns[item] = answer.astype(np.int64)
    return pl.DataFrame(columns)


def with_missing(frame: pl.DataFrame, share: float, seed: int) -> pl.DataFrame:
    """Blank one random item in ``share`` of the administrations."""
    rng = np.random.default_rng(seed + 1)
    rows = rng.random(frame.height) < share
    which = rng.integers(0, len(ITEMS), frame.height)
    return frame.with_columns(
        pl.when(pl.lit(pl.Series(rows & (which == k))))
        .then(None)
        .otherwise(pl.col(item))
        .alias(item)
        for k, item in enumerate(ITEMS)
    )


# ------------------------------------------------------------------------------ baselines


def numpy_floor(frame: pl.DataFrame) -> np.ndarray[Any, Any]:
    """(b) The sum of the nine item columns, nothing checked."""
    arrays = [frame.get_column(c).to_numpy() for c in ITEMS]
    total = arrays[0].copy()
    for a in arrays[1:]:
        total += a
    return total


def pandas_rowwise(frame: pd.DataFrame) -> pd.DataFrame:
    """(a) The same PHQ-9 rules, written the straightforward way: one row at a time."""
    bands = [
        (20, "severe"),
        (15, "moderately severe"),
        (10, "moderate"),
        (5, "mild"),
        (0, "minimal"),
    ]

    def score_row(row: pd.Series) -> pd.Series:
        values = [row[c] for c in ITEMS]
        problems = [
            f"{c}: {v}"
            for c, v in zip(ITEMS, values, strict=True)
            if not pd.isna(v) and v not in (0, 1, 2, 3)
        ]
        answered = [v for v in values if not pd.isna(v)]
        missing = len(values) - len(answered)
        risk = ["phq9_9"] if not pd.isna(values[8]) and values[8] >= 1 else []
        if problems or missing > 2:
            return pd.Series({"total": None, "band": None, "caseness": None, "risk_items": risk})
        total = sum(answered)
        if missing:
            total = math.floor(total * 9 / len(answered) + 0.5)
        band = next(label for edge, label in bands if total >= edge)
        return pd.Series(
            {"total": float(total), "band": band, "caseness": total >= 10, "risk_items": risk}
        )

    return frame.apply(score_row, axis=1)


# ------------------------------------------------------------------------------ measuring


def peak_rss_during(fn: Callable[[], Any]) -> tuple[float, int]:
    """Run ``fn``; return its wall time and the process's peak RSS while it ran."""
    _, seconds, peak = measured(fn)
    return seconds, peak


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, float, int]:
    times, peaks = [], []
    for _ in range(repeats):
        t, p = peak_rss_during(fn)
        times.append(t)
        peaks.append(p)
    return min(times), statistics.median(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="administrations")
    parser.add_argument("--pandas-n", type=int, default=50_000, help="rows for baseline (a)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    print(f"commonfactors {cf.__version__} · polars {pl.__version__} · numpy {np.__version__}")
    print(f"pandas {pd.__version__} · {os.cpu_count()} cores · {args.n:,} PHQ-9 administrations")
    complete = make_answers(args.n, args.seed)
    gappy = with_missing(complete, 0.01, args.seed)
    print(f"frame: {complete.estimated_size() / 1e6:,.0f} MB of Int64 item columns\n")

    floor_best, floor_median, _ = best_of(args.repeats, lambda: numpy_floor(complete))
    rows = []
    for label, frame in (("complete answers", complete), ("1 % missing one item", gappy)):
        scored = cf.score_frame("phq9", frame)  # warm up, and check the result below
        best, median, peak = best_of(args.repeats, lambda f=frame: cf.score_frame("phq9", f))
        rows.append((label, best, median, peak, scored))

    sample = complete.head(args.pandas_n).to_pandas()
    pandas_time = best_of(1, lambda: pandas_rowwise(sample))[0]
    pandas_rate = args.pandas_n / pandas_time

    def rate(seconds: float) -> str:
        return f"{args.n / seconds / 1e6:8.2f} M/s"

    print(f"{'implementation':44} {'best':>8} {'median':>8} {'admin/s':>12} {'peak RSS':>10}")
    print(f"{'(b) numpy sum of 9 columns (no checks)':44} {floor_best:8.3f} {floor_median:8.3f} "
          f"{rate(floor_best):>12}")  # fmt: skip
    for label, best, median, peak, _ in rows:
        print(f"{'score_frame, ' + label:44} {best:8.3f} {median:8.3f} {rate(best):>12} "
              f"{peak / 2**30:8.2f} GB")  # fmt: skip
    print(f"{f'(a) pandas row-wise apply ({args.pandas_n:,} rows, scaled)':44} "
          f"{args.n / pandas_rate:8.1f} {'':>8} {pandas_rate / 1e6:8.3f} M/s")  # fmt: skip
    print()
    for label, best, _, peak, scored in rows:
        speedup = (args.n / best) / pandas_rate
        print(f"{label}: {best / floor_best:5.1f}× the numpy floor (target ≤ 5×), "
              f"{speedup:7.0f}× pandas row-wise (target ≥ 20×), "
              f"peak {peak / 2**30:.2f} GB (target < 4 GB)")  # fmt: skip
        totals = scored.get_column("total")
        print(f"  check: mean total {totals.mean():.3f}, "
              f"{scored.get_column('risk_items').list.len().gt(0).mean():.1%} with a risk answer, "
              f"{scored.get_column('prorated').mean():.2%} prorated")  # fmt: skip
    agree = pandas_rowwise(sample.head(2000))
    ours = cf.score_frame("phq9", complete.head(2000))
    same = (agree["total"].to_numpy() == ours.get_column("total").to_numpy()).all()
    print(f"pandas baseline and score_frame agree on the first 2,000 totals: {bool(same)}")


if __name__ == "__main__":
    main()
