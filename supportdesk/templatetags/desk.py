"""Template filters of the desk's pages: the words people read for the engines' codes."""

from __future__ import annotations

from django import template

from supportdesk import words
from supportdesk.confidence import confidence_word as _confidence_word

register = template.Library()


@register.filter
def confidence_word(value: float | None) -> str:
    """0.83 → "high", in the reader's language (see supportdesk.confidence)."""
    return words.word(words.CONFIDENCES, _confidence_word(value))


@register.filter
def confidence_level_word(level: str) -> str:
    """A confidence level code ("low") in the reader's language."""
    return words.word(words.CONFIDENCES, level)


@register.filter
def emotion_word(code: str | None) -> str:
    return words.word(words.EMOTIONS, code)


@register.filter
def intensity_word(code: str | None) -> str:
    return words.word(words.INTENSITIES, code)


@register.filter
def urgency_word(code: str | None) -> str:
    return words.word(words.URGENCIES, code)
