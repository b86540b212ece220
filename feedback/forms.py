from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.services import RATING_COMMENT_MAX_CHARS


class RatingCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Anything you would like to add?"),
        help_text=_("Your rating is saved already; a comment is up to you."),
        max_length=RATING_COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "aria-describedby": "comment-help"}),
    )


class MetricsFilterForm(forms.Form):
    """The metrics page's filters, read from the query string; a bad value falls back to none."""

    weeks = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        choices=[],
    )
    category = forms.CharField(label=_("Category"), required=False, max_length=60)
    language = forms.CharField(label=_("Language"), required=False, max_length=35)
    channel = forms.CharField(label=_("Channel"), required=False, max_length=10)
    agent = forms.IntegerField(label=_("Agent"), required=False, min_value=0)
    week = forms.DateField(required=False, widget=forms.HiddenInput)
    measure = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        from feedback.reports import PERIODS

        super().__init__(*args, **kwargs)
        self.fields["weeks"].choices = [
            (n, _("Last %(weeks)s weeks") % {"weeks": n}) for n in PERIODS
        ]
