"""Template filters of the desk's pages."""

from __future__ import annotations

from django import template

from supportdesk.confidence import confidence_word as _confidence_word

register = template.Library()


@register.filter
def confidence_word(value: float | None) -> str:
    """0.83 → "high" (see supportdesk.confidence)."""
    return _confidence_word(value)
