from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _


def language_label(code: str) -> str:
    """The language's name in the page's language ("Traditional Chinese"), else its code."""
    try:
        return str(get_language_info(code.lower())["name_translated"])
    except KeyError:
        return code


def language_choices() -> list[tuple[str, str]]:
    return [(code, language_label(code)) for code in settings.SUPPORTED_LANGUAGES]


class SuggestionForm(forms.Form):
    """The FAQ entry as it will be published."""

    title = forms.CharField(label=_("Title"), max_length=250)
    answer = forms.CharField(
        label=_("Answer"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 12, "aria-describedby": "answer-help"}),
        help_text=_(
            "Written for every customer who asks: no names, order numbers or promises for one "
            "case. Ctrl+Enter publishes."
        ),
    )
    language = forms.ChoiceField(label=_("Language of the article"), choices=language_choices)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this not an FAQ?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MergeForm(forms.Form):
    article = forms.IntegerField(label=_("Add to article"), min_value=1)
