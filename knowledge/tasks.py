"""Worker tasks of the knowledge room: they take ids and call services."""

from __future__ import annotations

from knowledge import services


def suggestion_refresh(suggestion_id: int) -> None:
    services.suggestion_refresh(suggestion_id=suggestion_id)
