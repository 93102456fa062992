"""Latency summaries shared by the benchmarks."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; samples in any order."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean in milliseconds from samples in seconds."""
    return {
        "p50_ms": percentile(samples_s, 50) * 1e3,
        "p99_ms": percentile(samples_s, 99) * 1e3,
        "mean_ms": statistics.fmean(samples_s) * 1e3,
        "n": float(len(samples_s)),
    }


def line(label: str, s: dict[str, float]) -> str:
    return f"{label:48} p50 {s['p50_ms']:8.3f} ms   p99 {s['p99_ms']:8.3f} ms   (n={int(s['n'])})"
