"""Percentiles the benchmarks report are nearest-rank and order-independent."""

import pytest

from bench.stats import percentile


def test_percentile_is_nearest_rank():
    samples = [float(i) for i in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile(list(reversed(samples)), 100) == 100.0


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 50)
