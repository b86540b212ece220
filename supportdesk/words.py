"""The words people read for the engines' codes, in the reader's language.

The engines and the database speak codes ("angry", "high", "strong"); rules, the API and the
CSS classes use those. Pages show these words instead, so a translated desk says 「生氣」, not
"angry".
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

EMOTIONS = {
    "angry": pgettext_lazy("emotion", "angry"),
    "anxious": pgettext_lazy("emotion", "anxious"),
    "sad": pgettext_lazy("emotion", "sad"),
    "confused": pgettext_lazy("emotion", "confused"),
    "positive": pgettext_lazy("emotion", "positive"),
    "neutral": pgettext_lazy("emotion", "neutral"),
}

INTENSITIES = {
    "mild": pgettext_lazy("emotion intensity", "mild"),
    "clear": pgettext_lazy("emotion intensity", "clear"),
    "strong": pgettext_lazy("emotion intensity", "strong"),
}

URGENCIES = {
    "high": pgettext_lazy("urgency", "high"),
    "medium": pgettext_lazy("urgency", "medium"),
    "low": pgettext_lazy("urgency", "low"),
    "not triaged": pgettext_lazy("urgency", "not triaged"),
}

CONFIDENCES = {
    "high": pgettext_lazy("confidence", "high"),
    "medium": pgettext_lazy("confidence", "medium"),
    "low": pgettext_lazy("confidence", "low"),
    "unknown": pgettext_lazy("confidence", "unknown"),
}


INSTRUCTIONS = {
    "shorter": pgettext_lazy("regenerate", "shorter"),
    "formal": pgettext_lazy("regenerate", "more formal"),
    "steps": pgettext_lazy("regenerate", "add steps"),
}


def word(kind: dict[str, str], code: str | None) -> str:
    """The reader's word for a code; an unknown code (a new emotion, say) reads as itself."""
    if not code:
        return ""
    return str(kind.get(code, code))
