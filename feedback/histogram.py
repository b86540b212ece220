"""Log-spaced histograms: how the metrics rollups keep medians they can add up.

A value falls in bucket 0 when below 1, otherwise in bucket 1 + floor(log(v) / log(RATIO)).
Histograms of weeks and groups add up bucket by bucket, and the median read back is the
geometric middle of the bucket holding it: within RATIO's half-width (±5 %) of the true one."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

RATIO = 1.1


def bucket(value: float) -> int:
    if value < 1:
        return 0
    return 1 + int(math.log(value) / math.log(RATIO))


def bucket_middle(index: int) -> float:
    if index == 0:
        return 0.0
    return RATIO ** (index - 1) * math.sqrt(RATIO)


def merged(histograms: Iterable[Mapping[str, int]]) -> dict[int, int]:
    """Add up histograms stored as {"bucket": count} (JSON keys are strings)."""
    total: dict[int, int] = {}
    get = total.get
    for histogram in histograms:
        for index, count in histogram.items():
            key = int(index)
            total[key] = get(key, 0) + count
    return total


def median(histogram: Mapping[int, int]) -> float | None:
    count = sum(histogram.values())
    if not count:
        return None
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen * 2 >= count:
            return bucket_middle(index)
    return None  # pragma: no cover - the loop always reaches half
