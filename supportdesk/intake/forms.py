"""What a customer sends in through the web form or the API, validated the same way."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class TicketIntakeForm(forms.Form):
    """What every intake channel must provide. Used by the web form and the API."""

    email = forms.EmailField(max_length=254, label=gettext_lazy("Your e-mail address"))
    name = forms.CharField(max_length=200, required=False, label=gettext_lazy("Your name"))
    locale = forms.CharField(max_length=35, required=False)
    subject = forms.CharField(max_length=250, label=gettext_lazy("Subject"))
    body = forms.CharField(
        max_length=settings.MAX_MESSAGE_CHARS,
        widget=forms.Textarea,
        label=gettext_lazy("Your message"),
    )

    def clean_locale(self) -> str:
        locale = self.cleaned_data["locale"].strip()
        if locale and not LOCALE_RE.match(locale):
            raise ValidationError(gettext_lazy("Use a language tag such as en, ja-JP or zh-Hant."))
        return locale

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise ValidationError(gettext_lazy("This field is required."))
        return subject


class ContactForm(TicketIntakeForm):
    # Hidden from people by CSS; bots fill it in.
    website = forms.CharField(required=False, label=gettext_lazy("Leave this empty"))

    field_order = ["name", "email", "subject", "body", "locale", "website"]

    def full_clean(self) -> None:
        super().full_clean()
        # Screen readers announce a field's error with the field: point at it.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}-error"


# The REST API stores a caller's external id under this prefix, so it never collides with the
# Message-IDs of e-mail or the ids other channels store in the same unique column.
API_EXTERNAL_ID_PREFIX = "api:"


class TicketMessageForm(forms.Form):
    """A customer message added to an existing ticket through the API."""

    body = forms.CharField(max_length=settings.MAX_MESSAGE_CHARS)
    external_id = forms.CharField(
        max_length=255 - len(API_EXTERNAL_ID_PREFIX), required=False, strip=False
    )

    def clean_external_id(self) -> str:
        value = self.cleaned_data["external_id"]
        if value != value.strip() or any(not c.isprintable() for c in value):
            raise ValidationError("Use printable characters without surrounding spaces.")
        return value
