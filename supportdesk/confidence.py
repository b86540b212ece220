"""How far to trust a model's reading, in the words agents see ("Confidence: low"); the numbers
stay behind the supervisors' engine details."""

from __future__ import annotations

HIGH, MEDIUM = 0.7, 0.5


def confidence_word(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value >= HIGH:
        return "high"
    return "medium" if value >= MEDIUM else "low"
