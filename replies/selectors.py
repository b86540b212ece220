"""Reads for drafting: the admins' tone profile changes and the brand voice."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from replies.engine import ToneProfile
from replies.models import BrandVoice, ToneProfileSetting


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


def brand_voice() -> Voice:
    row = BrandVoice.objects.order_by("pk").first()
    if row is None:
        return Voice(brand_name=settings.BRAND_NAME, formal=False)
    return Voice(brand_name=row.brand_name or settings.BRAND_NAME, formal=row.formal_by_default)
