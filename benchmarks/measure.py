"""Wall time and peak memory of a call, shared by the benchmarks in this folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["measured", "rss_bytes"]


def rss_bytes() -> int:
    """This process's resident memory now (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def measured(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """Run ``fn``; return its result, wall time and the process's peak RSS while it ran
    (sampled every 2 ms in a thread)."""
    peak = rss_bytes()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    return result, elapsed, max(peak, rss_bytes())
