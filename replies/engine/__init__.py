"""Draft composition: plain Python, dataclasses in and out, no ORM."""

from replies.engine.compose import LocalDraftEngine, draft_reply
from replies.engine.tone import (
    DEFAULT_PROFILES,
    ToneProfile,
    language_key,
    language_matches,
    profile_for,
)
from replies.engine.types import Citation, DraftInput, DraftResult, Passage

__all__ = [
    "DEFAULT_PROFILES",
    "Citation",
    "DraftInput",
    "DraftResult",
    "LocalDraftEngine",
    "Passage",
    "ToneProfile",
    "draft_reply",
    "language_key",
    "language_matches",
    "profile_for",
]
