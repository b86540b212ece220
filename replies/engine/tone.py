"""Tone and locale profiles: every sentence the draft engine writes that is not from the KB.

Profiles are data, not code, so an admin can override one from the database:
``ToneProfile.from_dict(stored)`` fills whatever the stored dict leaves out from the
built-in profile for its locale. Placeholders: ``{name}`` in ``greeting``, ``{title}`` in
``follow_up_intro``, ``{brand}`` in ``signature`` and ``new_user_line``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from knowledge.text import language_key
from replies.engine.profiles import PROFILE_DATA

FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class ToneProfile:
    locale: str
    greeting: str
    greeting_anonymous: str
    # Keys are triage emotions (angry, anxious, confused, sad, positive, neutral);
    # "neutral" is the fallback, so every profile must have it.
    acknowledgements: dict[str, str]
    intro_answer: str
    steps_intro: str
    no_match: str
    follow_up_intro: str
    next_steps: str
    vip_line: str
    new_user_line: str
    closing: str
    signature: str
    sources_label: str = "Sources:"
    see_also: str = "This may help too:"
    translation_note: str = ""
    # The reply to a message that only thanks us (no question): no answer, no holding reply.
    thanks_reply: str = ""
    # The opening line of a holding reply, or of an answer that is not a procedure, for the
    # emotions whose everyday line announces help that follows in the same message ("I'll walk
    # you through it"): neither has steps to walk through.
    holding_acknowledgements: dict[str, str] = field(default_factory=dict)
    # A message that asks two things: the lead-in to the answer to the other one, and the
    # plain word that a colleague follows up on a question the knowledge base does not answer.
    other_question: str = "As for your other question:"
    other_question_follow_up: str = (
        "Your other question needs a closer look, so I've passed it to a colleague, who will "
        "follow up with you on it shortly."
    )
    # Overrides for the formal register (same keys as above, acknowledgements merged).
    formal: dict[str, Any] = field(default_factory=dict)

    def formal_variant(self) -> ToneProfile:
        """The same profile in its formal register; unchanged if it has none."""
        if not self.formal:
            return self
        known = {f.name for f in fields(self)} - {"locale", "formal"}
        overrides = {k: v for k, v in self.formal.items() if k in known}
        overrides["acknowledgements"] = {
            **self.acknowledgements,
            **dict(self.formal.get("acknowledgements") or {}),
        }
        overrides["holding_acknowledgements"] = {
            **self.holding_acknowledgements,
            **dict(self.formal.get("holding_acknowledgements") or {}),
        }
        return replace(self, **overrides, formal={})

    def acknowledgement(self, emotion: str) -> str:
        return self.acknowledgements.get(emotion) or self.acknowledgements.get("neutral", "")

    def holding_acknowledgement(self, emotion: str) -> str:
        """The opening line of a reply without steps: it announces nothing that does not
        follow."""
        return self.holding_acknowledgements.get(emotion) or self.acknowledgement(emotion)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToneProfile:
        """Build a profile from stored data. Missing keys come from the built-in profile for
        the locale (so an override can change one sentence); unknown keys are rejected so a
        typo in an admin override fails loudly instead of being ignored."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown tone profile fields: {', '.join(sorted(unknown))}")
        locale = str(data.get("locale") or FALLBACK_LOCALE)
        base = _builtin(locale)
        values = {**base, **data, "locale": locale}
        values["acknowledgements"] = {
            **base["acknowledgements"],
            **dict(data.get("acknowledgements") or {}),
        }
        values["holding_acknowledgements"] = {
            **base.get("holding_acknowledgements", {}),
            **dict(data.get("holding_acknowledgements") or {}),
        }
        values["formal"] = {**base.get("formal", {}), **dict(data.get("formal") or {})}
        unknown_formal = set(values["formal"]) - known - {"locale", "formal"}
        if unknown_formal:
            raise ValueError(
                f"Unknown formal tone profile fields: {', '.join(sorted(unknown_formal))}"
            )
        return cls(**values)


def _builtin(locale: str) -> dict[str, Any]:
    """The built-in data closest to ``locale`` (always complete)."""
    key = _resolve(locale, PROFILE_DATA)
    return {**PROFILE_DATA[key], "locale": key}


def _resolve(language: str, available: Mapping[str, Any]) -> str:
    """The available locale best matching a BCP 47 tag: exact, then Chinese by script, then
    the bare language, then English."""
    by_lower = {name.lower(): name for name in available}
    tag = language.replace("_", "-").strip().lower()
    if tag in by_lower:
        return by_lower[tag]
    # Plain "zh" means Traditional: Simplified only when the tag says so (zh-CN, zh-Hans).
    key = language_key(tag)
    if key in by_lower:
        return by_lower[key]
    if key.split("-")[0] in by_lower:
        return by_lower[key.split("-")[0]]
    return by_lower.get(FALLBACK_LOCALE, next(iter(available), FALLBACK_LOCALE))


DEFAULT_PROFILES: dict[str, ToneProfile] = {
    locale: ToneProfile(locale=locale, **data) for locale, data in PROFILE_DATA.items()
}


def profile_for(language: str, profiles: Mapping[str, ToneProfile] | None = None) -> ToneProfile:
    """The profile to write ``language`` in: "zh" → zh-Hant, "es-MX" → es, unknown → en.
    ``profiles`` lets the caller pass admin overrides (merged over the defaults)."""
    available = {**DEFAULT_PROFILES, **(profiles or {})}
    return available[_resolve(language or FALLBACK_LOCALE, available)]


def language_matches(a: str, b: str) -> bool:
    """Whether a text in ``a`` can be sent unchanged to a reader of ``b``."""
    return language_key(a) == language_key(b)
