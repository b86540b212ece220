"""Forms of the article pages. They validate input; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from knowledge import selectors


def language_label(code: str) -> str:
    """The language's name in the reader's language ("Japanese"), or its code."""
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


class ArticleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search titles and texts"), required=False, max_length=200)
    language = forms.ChoiceField(label=_("Language"), required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All")),
            (selectors.STATE_PUBLISHED, _("Published")),
            (selectors.STATE_UNPUBLISHED, _("Unpublished")),
            (selectors.STATE_REVIEW, _("Translation awaiting review")),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("All")), *language_choices()]


class ArticleEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=250)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 14}))
    note = forms.CharField(
        label=_("What changed (optional)"),
        required=False,
        max_length=250,
        help_text=_("A short note for the version history."),
    )
    # The version the editor started from: saving over someone else's newer version is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    # Translations only: the editor brought it up to date with the source's current version.
    up_to_date = forms.BooleanField(
        label=_("This translation now matches the current source"), required=False
    )


class TranslationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=250)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 10}))


class TranslationRejectForm(forms.Form):
    reason = forms.CharField(label=_("Why (optional)"), required=False, max_length=200)
