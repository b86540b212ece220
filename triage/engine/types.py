"""Data that goes into and comes out of a triage engine. Plain Python, no ORM."""

from __future__ import annotations

from dataclasses import dataclass, field

EMOTIONS = ("angry", "anxious", "sad", "confused", "positive", "neutral")
URGENCIES = ("high", "medium", "low")


@dataclass(frozen=True)
class CustomerContext:
    vip: bool = False
    plan: str = "free"  # free | paying | enterprise
    is_new: bool = False
    recent_contacts: int = 0  # other tickets from this customer in the repeat window
    locale: str = ""


@dataclass(frozen=True)
class TriageInput:
    text: str
    subject: str = ""
    customer: CustomerContext = field(default_factory=CustomerContext)


@dataclass(frozen=True)
class TriageResult:
    language: str  # BCP 47: "en", "ja", "zh-Hant", "zh-Hans", "es", ...
    language_confidence: float
    category: str  # "" when out of scope
    category_confidence: float
    out_of_scope: bool
    emotion: str  # one of EMOTIONS
    emotion_confidence: float
    urgency: str  # one of URGENCIES
    urgency_reasons: tuple[str, ...]
    needs_human: bool
    needs_human_reasons: tuple[str, ...]
    engine: str
    engine_version: str
    # How strongly the emotion is expressed, 0-1 (0 for neutral): an angry 0.9 shouts or
    # threatens, an angry 0.4 is mildly annoyed.
    emotion_intensity: float = 0.0
