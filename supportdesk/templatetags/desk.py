"""Template filters of the desk's pages: the words people read for the engines' codes."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

from feedback.models import FeedbackEvent
from supportdesk import words
from supportdesk.confidence import confidence_word as _confidence_word
from supportdesk.reasons import reason_words
from triage.models import RouteAction

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


@register.filter
def reason(text: str) -> str:
    """A reason an engine gave (stored in English) in the reader's language."""
    return reason_words(text) if text else ""


@register.filter
def route_word(action: str) -> str:
    """A route's code ("supervisor") as people read it ("Supervisor alert")."""
    return str(dict(RouteAction.choices).get(action, action))


@register.filter
def share(value: float | None) -> str:
    return words.share(value)


@register.filter
def duration(seconds: float | None) -> str:
    return words.duration(seconds)


@register.filter
def get_item(mapping: dict, key: str):
    """`mapping[key]`, for keys a template holds in a variable."""
    return mapping.get(key)


@register.filter
def edit_reason_word(code: str) -> str:
    """What the agent said was wrong with a draft ("tone" → "Tone"), in the reader's language."""
    return str(dict(FeedbackEvent.EditReason.choices).get(code, code))


@register.filter
def ago(moment: datetime | None) -> str:
    """How long ago, in the reader's language: "just now" under a minute, never "0 minutes ago"."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment)}
