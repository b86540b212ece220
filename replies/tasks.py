"""Worker tasks of the replies room: they take ids and call services."""

from __future__ import annotations

from replies import gaps


def gap_from_agent(message_id: int, reason: str = "") -> None:
    gaps.gap_from_agent(message_id=message_id, reason=reason)


def suggestion_published(suggestion_id: int) -> None:
    gaps.suggestion_published(suggestion_id=suggestion_id)
