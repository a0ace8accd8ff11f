"""Benchmark: ``analyze`` on a synthetic registry of 1 million episodes (~8 million sessions).

Printed beside a straightforward pandas groupby-apply implementation of the same per-episode
rules (first and last PHQ-9, change, reliable change by the 6-point threshold, recovery) run
in the same process on a slice of the registry and scaled. Targets from the issue: ≤ 30 s
and ≤ 6 GB on 2 cores. Run with ``make bench`` or
``python benchmarks/bench_analyze.py --episodes 200000`` for a quicker look.
"""

from __future__ import annotations

import argparse
import os

import pandas as pd
import polars as pl

from commonfactors.analysis import analyze
from commonfactors.synth import generate
from measure import measured, rss_bytes


def pandas_baseline(sessions: pd.DataFrame) -> pd.DataFrame:
    """The same per-episode PHQ-9 rules, the straightforward pandas way."""

    def one(group: pd.DataFrame) -> pd.Series:
        scored = group[group["attended"] & group["phq9_total"].notna()].sort_values("session")
        if len(scored) < 2:
            return pd.Series({"pre": None, "post": None, "category": None, "recovered": None})
        pre, post = scored["phq9_total"].iloc[0], scored["phq9_total"].iloc[-1]
        change = post - pre
        category = "improved" if change <= -6 else "deteriorated" if change >= 6 else "unchanged"
        recovered = pre >= 10 and post < 10 and category == "improved"
        return pd.Series({"pre": pre, "post": post, "category": category, "recovered": recovered})

    return sessions.groupby("episode_id").apply(one, include_groups=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1_000_000)
    parser.add_argument("--baseline-episodes", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    registry = generate(args.episodes, seed=args.seed)
    sessions = registry.sessions.join(
        registry.episodes.select("episode_id", "finished"), on="episode_id"
    )
    print(f"{os.cpu_count()} cores · polars {pl.__version__} · pandas {pd.__version__}")
    print(f"registry: {args.episodes:,} episodes, {sessions.height:,} sessions (seed {args.seed})")
    base_rss = rss_bytes()

    result, seconds, peak = measured(lambda: analyze(sessions))
    per_second = args.episodes / seconds

    slice_ = sessions.filter(pl.col("episode_id") <= args.baseline_episodes)
    frame = slice_.select("episode_id", "session", "attended", "phq9_total").to_pandas()
    baseline, base_seconds, _ = measured(lambda: pandas_baseline(frame))
    base_rate = args.baseline_episodes / base_seconds

    print(f"\n{'implementation':46} {'seconds':>9} {'episodes/s':>12}")
    print(f"{'analyze (polars), whole registry':46} {seconds:9.2f} {per_second:12,.0f}")
    print(
        f"{f'pandas groupby-apply ({args.baseline_episodes:,} episodes, scaled)':46} "
        f"{args.episodes / base_rate:9.1f} {base_rate:12,.0f}"
    )
    print(
        f"\nanalyze: {seconds:.1f} s (target ≤ 30 s), peak RSS {peak / 2**30:.2f} GB "
        f"(target ≤ 6 GB; {base_rss / 2**30:.2f} GB before it started, registry included), "
        f"{per_second / base_rate:.0f}× the pandas baseline"
    )
    ours = result.episodes.filter(pl.col("episode_id") <= args.baseline_episodes).sort("episode_id")
    theirs = [None if pd.isna(c) else c for c in baseline["category"].tolist()]
    same = ours.get_column("category").cast(pl.String).to_list() == theirs
    print(f"categories agree with the baseline on its {args.baseline_episodes:,} episodes: {same}")
    print(result.summary.select("measure", "count", "n", "rate", "ci_low", "ci_high"))


if __name__ == "__main__":
    main()
