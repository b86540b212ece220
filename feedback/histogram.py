"""Log-spaced histograms: how the metrics rollups keep medians they can add up.

A value falls in bucket 0 when below 1, otherwise in bucket 1 + floor(log(v) / log(RATIO)).
Histograms of weeks and groups add up bucket by bucket, and the median read back lies in the
bucket holding the true one (within 10 %), placed by interpolation inside it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

RATIO = 1.1


def bucket(value: float) -> int:
    if value < 1:
        return 0
    return 1 + int(math.log(value) / math.log(RATIO))


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
    """The median, placed inside its bucket by how far into the bucket's count half the values
    fall (geometrically, as the buckets grow): grouped data's usual estimate."""
    count = sum(histogram.values())
    if not count:
        return None
    half, seen = count / 2, 0
    for index in sorted(histogram):
        in_bucket = histogram[index]
        if seen + in_bucket >= half:
            if index == 0:
                return 0.0
            lower = RATIO ** (index - 1)
            return lower * RATIO ** ((half - seen) / in_bucket)
        seen += in_bucket
    return None  # pragma: no cover - the loop always reaches half
