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
