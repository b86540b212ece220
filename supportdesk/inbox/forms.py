from __future__ import annotations

import re
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from supportdesk.inbox.selectors import InboxFilters
from supportdesk.models import Ticket
from triage.engine.types import EMOTIONS

LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class TicketIntakeForm(forms.Form):
    """What every intake channel must provide. Used by the web form and the API."""

    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=200, required=False)
    locale = forms.CharField(max_length=35, required=False)
    subject = forms.CharField(max_length=250)
    body = forms.CharField(max_length=settings.MAX_MESSAGE_CHARS, widget=forms.Textarea)

    def clean_locale(self) -> str:
        locale = self.cleaned_data["locale"].strip()
        if locale and not LOCALE_RE.match(locale):
            raise ValidationError("Use a language tag such as en, ja-JP or zh-Hant.")
        return locale

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise ValidationError("This field is required.")
        return subject


class ContactForm(TicketIntakeForm):
    # Hidden from people by CSS; bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")

    field_order = ["name", "email", "subject", "body", "locale", "website"]

    def full_clean(self) -> None:
        super().full_clean()
        # Screen readers announce a field's error with the field: point at it.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}-error"


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("active", "Active"),
            ("new", "New"),
            ("open", "Open"),
            ("waiting", "Waiting on customer"),
            ("solved", "Solved"),
            ("all", "All"),
        ],
    )
    urgency = forms.ChoiceField(
        required=False,
        choices=[("", "Any urgency"), ("high", "High"), ("medium", "Medium"), ("low", "Low")],
    )
    category = forms.ChoiceField(required=False)
    emotion = forms.ChoiceField(
        required=False, choices=[("", "Any emotion")] + [(e, e.capitalize()) for e in EMOTIONS]
    )
    mine = forms.BooleanField(required=False, label="Assigned to me")
    escalated = forms.BooleanField(required=False, label="Escalated")

    def __init__(self, *args, categories=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Any category")] + [
            (c.slug, c.name) for c in categories
        ]

    def filters(self) -> InboxFilters:
        if not self.is_valid():
            return InboxFilters()
        data = self.cleaned_data
        return InboxFilters(
            status=data["status"] or "active",
            urgency=data["urgency"],
            category=data["category"],
            emotion=data["emotion"],
            mine=data["mine"],
            escalated=data["escalated"],
        )


class TriageCorrectionForm(forms.Form):
    category = forms.ChoiceField(required=False)
    emotion = forms.ChoiceField(choices=[(e, e.capitalize()) for e in EMOTIONS])
    urgency = forms.ChoiceField(choices=[("high", "High"), ("medium", "Medium"), ("low", "Low")])

    def __init__(self, *args, categories=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Out of scope")] + [
            (c.slug, c.name) for c in categories
        ]


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


API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 100


class ApiPageForm(forms.Form):
    cursor = forms.CharField(required=False, max_length=200)
    limit = forms.IntegerField(required=False, min_value=1, max_value=API_MAX_PAGE_SIZE)


class ApiTicketListForm(ApiPageForm):
    status = forms.ChoiceField(required=False, choices=[("", "")] + Ticket.Status.choices)
    channel = forms.ChoiceField(required=False, choices=[("", "")] + Ticket.Channel.choices)
    customer_email = forms.EmailField(required=False, max_length=254)
    updated_since = forms.DateTimeField(required=False)

    def clean_updated_since(self) -> datetime | None:
        value = self.cleaned_data["updated_since"]
        try:
            # Stored times are UTC: a time that has no UTC equivalent cannot be compared.
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:
            raise ValidationError(
                "Enter a date and time between years 1 and 9999 in UTC."
            ) from None
