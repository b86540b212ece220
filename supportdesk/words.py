"""The words people read for the engines' codes, in the reader's language.

The engines and the database speak codes ("angry", "high", "strong"); rules, the API and the
CSS classes use those. Pages show these words instead, so a translated desk says 「生氣」, not
"angry".
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext_lazy

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


def share(value: float | None) -> str:
    """A share as a whole percentage in the reader's language, "—" when there is none."""
    if value is None:
        return "—"
    return gettext("%(percent)s %%") % {"percent": round(value * 100)}


def duration(seconds: float | None) -> str:
    """A span of time as people say it: "45 min", "3 h 20 min", "2 d 4 h"; "—" for none."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
