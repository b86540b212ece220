"""The inbox's and the API's reading forms: filters, triage corrections, pagination."""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy, pgettext_lazy

from feedback.models import FeedbackEvent
from replies.models import Draft
from supportdesk.inbox.selectors import SORTS, InboxFilters
from supportdesk.intake.api_base import MAX_ID
from supportdesk.models import Ticket
from supportdesk.services import tag_name
from supportdesk.words import EMOTIONS as EMOTION_WORDS
from triage.engine.types import EMOTIONS

URGENCY_CHOICES = [
    ("high", pgettext_lazy("urgency", "High")),
    ("medium", pgettext_lazy("urgency", "Medium")),
    ("low", pgettext_lazy("urgency", "Low")),
]
EMOTION_CHOICES = [(e, EMOTION_WORDS.get(e, e)) for e in EMOTIONS]


class InboxFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label=gettext_lazy("Search"),
        help_text=gettext_lazy("Every status, unless you choose one below."),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": gettext_lazy("Words, name, #12"),
                "autocomplete": "off",
                "aria-keyshortcuts": "/",
            }
        ),
    )
    sort = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Sort"),
        choices=[(key, label) for key, (label, _) in SORTS.items()],
    )
    status = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Status"),
        choices=[
            ("", pgettext_lazy("tickets", "Active")),
            ("active", pgettext_lazy("tickets", "Active only")),
            *Ticket.Status.choices,
            ("all", pgettext_lazy("tickets", "All")),
        ],
    )
    urgency = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Urgency"),
        choices=[("", gettext_lazy("Any urgency")), *URGENCY_CHOICES],
    )
    category = forms.ChoiceField(required=False, label=gettext_lazy("Category"))
    emotion = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Emotion"),
        choices=[("", gettext_lazy("Any emotion")), *EMOTION_CHOICES],
    )
    tag = forms.CharField(required=False, max_length=40, label=gettext_lazy("Tag"))
    mine = forms.BooleanField(required=False, label=gettext_lazy("Assigned to me"))
    escalated = forms.BooleanField(required=False, label=gettext_lazy("Escalated"))

    def __init__(self, *args, categories=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", gettext_lazy("Any category"))] + [
            (c.slug, c.name) for c in categories
        ]

    def filters(self) -> InboxFilters:
        if not self.is_valid():
            return InboxFilters()
        data = self.cleaned_data
        query = " ".join(data["q"].split())
        return InboxFilters(
            q=query,
            sort=data["sort"] or "urgency",
            # A search looks in every state unless a status is chosen: the ticket a customer
            # refers to is often solved.
            status=data["status"] or ("all" if query else "active"),
            urgency=data["urgency"],
            category=data["category"],
            emotion=data["emotion"],
            mine=data["mine"],
            escalated=data["escalated"],
            tag=tag_name(data["tag"]),
        )


class TriageCorrectionForm(forms.Form):
    category = forms.ChoiceField(required=False, label=gettext_lazy("Category"))
    emotion = forms.ChoiceField(label=gettext_lazy("Emotion"), choices=EMOTION_CHOICES)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=URGENCY_CHOICES)

    def __init__(self, *args, categories=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", gettext_lazy("Out of scope"))] + [
            (c.slug, c.name) for c in categories
        ]


API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 100


class ApiPageForm(forms.Form):
    cursor = forms.CharField(required=False, max_length=200)
    limit = forms.IntegerField(required=False, min_value=1, max_value=API_MAX_PAGE_SIZE)


def _as_utc(value: datetime | None) -> datetime | None:
    try:
        # Stored times are UTC: a time that has no UTC equivalent cannot be compared.
        return value.astimezone(UTC) if value is not None else None
    except OverflowError:
        raise ValidationError("Enter a date and time between years 1 and 9999 in UTC.") from None


class ApiTicketListForm(ApiPageForm):
    status = forms.ChoiceField(required=False, choices=[("", "")] + Ticket.Status.choices)
    channel = forms.ChoiceField(required=False, choices=[("", "")] + Ticket.Channel.choices)
    customer_email = forms.EmailField(required=False, max_length=254)
    updated_since = forms.DateTimeField(required=False)

    def clean_updated_since(self) -> datetime | None:
        return _as_utc(self.cleaned_data["updated_since"])


class ApiDraftListForm(ApiPageForm):
    status = forms.ChoiceField(required=False, choices=[("", "")] + Draft.Status.choices)
    ticket = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    since = forms.DateTimeField(required=False)

    def clean_since(self) -> datetime | None:
        return _as_utc(self.cleaned_data["since"])


class ApiFeedbackEventListForm(ApiPageForm):
    kind = forms.ChoiceField(required=False, choices=[("", "")] + FeedbackEvent.Kind.choices)
    ticket = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    since = forms.DateTimeField(required=False)

    def clean_since(self) -> datetime | None:
        return _as_utc(self.cleaned_data["since"])


class ApiDraftSendForm(forms.Form):
    """Edit-and-send through the API: the text to send and, optionally, why it was changed."""

    text = forms.CharField(max_length=settings.MAX_MESSAGE_CHARS)
    reason = forms.ChoiceField(
        required=False, choices=[("", "")] + FeedbackEvent.EditReason.choices
    )


def status_label(status: str) -> str:
    """The inbox status filter's value as people read it in a sentence ("open")."""
    label = dict(InboxFilterForm.base_fields["status"].choices).get(status, status)
    return str(label).lower()
