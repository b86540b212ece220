"""Reads for drafting: the admins' tone profile changes, the brand voice, and macros."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from replies.engine import ToneProfile
from replies.models import BrandVoice, Macro, ToneProfileSetting


@dataclass(frozen=True)
class Voice:
    brand_name: str
    formal: bool


def tone_profiles() -> dict[str, ToneProfile]:
    """Admin overrides, merged over the built-in profiles (a handful of rows at most)."""
    return {
        row.locale: ToneProfile.from_dict({**row.data, "locale": row.locale})
        for row in ToneProfileSetting.objects.all()[:100]
    }


def tone_profile_ids(*, locales: list[str]) -> dict[str, int]:
    """The stored tone profile rows of these locales, by locale (one query on the unique
    locale column); a locale without one has only the built-in profile."""
    return dict(ToneProfileSetting.objects.filter(locale__in=locales).values_list("locale", "pk"))


def brand_voice() -> Voice:
    row = BrandVoice.objects.order_by("pk").first()
    if row is None:
        return Voice(brand_name=settings.BRAND_NAME, formal=False)
    return Voice(brand_name=row.brand_name or settings.BRAND_NAME, formal=row.formal_by_default)


MACRO_ROWS = 1000  # every variant of every macro a desk keeps, read at once
MACRO_LIMIT = 40  # macros one picker shows


def macros_for(*, language: str, query: str = "") -> list[Macro]:
    """Active macros for a ticket written in `language`, one variant each: the ticket's own
    language, else one of the same language (zh-Hant for zh-Hans), else the any-language
    variant, else English. `query` keeps the macros whose title or text holds every word."""
    base = language.split("-")[0].lower()
    rows = Macro.objects.filter(active=True).filter(
        Q(language__iexact=language) | Q(language__istartswith=base) | Q(language__in=["", "en"])
    )
    for word in query.split()[:6]:
        rows = rows.filter(Q(title__icontains=word) | Q(body__icontains=word))

    def rank(macro: Macro) -> int:
        code = macro.language.lower()
        if code == language.lower():
            return 0
        if code.split("-")[0] == base and code:
            return 1
        return 2 if code == "" else 3

    chosen: dict[str, Macro] = {}
    for macro in rows[:MACRO_ROWS]:
        kept = chosen.get(macro.key)
        if kept is None or rank(macro) < rank(kept):
            chosen[macro.key] = macro
    return sorted(chosen.values(), key=lambda m: m.title.lower())[:MACRO_LIMIT]
