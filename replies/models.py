"""Drafted replies and their fate."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from supportdesk import words
from supportdesk.confidence import confidence_word


class Draft(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        SENT = "sent", _("Sent")
        ESCALATED = "escalated", _("Escalated")
        SUPERSEDED = "superseded", _("Superseded")

    ticket = models.ForeignKey(
        "supportdesk.Ticket", on_delete=models.CASCADE, related_name="drafts"
    )
    in_reply_to = models.ForeignKey(
        "supportdesk.Message", on_delete=models.CASCADE, related_name="drafts"
    )
    text = models.TextField()
    language = models.CharField(max_length=35)
    cited_articles = models.ManyToManyField("knowledge.Article", blank=True, related_name="+")
    # [{"article_id", "title", "language", "score", "passage"}] in citation order ([1], [2], …);
    # "passage" is the text the draft quotes, so agents can check it beside the draft.
    citations = models.JSONField(default=list)
    # What the agent asked for when regenerating ("shorter", "formal", "steps"), in order.
    instructions = models.JSONField(default=list, blank=True)
    grounded = models.BooleanField(default=False)
    needs_translation = models.BooleanField(default=False)
    confidence = models.FloatField(default=0.0)
    engine = models.CharField(max_length=40)
    engine_version = models.CharField(max_length=120)
    # Commitments (refund, credit, discount, date, legal) no cited passage or allowed policy
    # backs: [{"kind", "label", "text", "sentence", "before", "after", "start", "end"}].
    promise_flags = models.JSONField(default=list, blank=True)
    # Why the draft waits for a person although it is grounded and promises nothing: the
    # message gave instructions to the AI, so it was drafted without the model.
    needs_human_reason = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A rating of the reply finds the draft behind it from the message (feedback.services).
    sent_message = models.OneToOneField(
        "supportdesk.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_draft",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["ticket", "status", "-created_at"], name="draft_ticket"),
            # The REST API's list, newest first, all drafts or one status (keyset pagination).
            models.Index(fields=["created_at", "id"], name="draft_api_list"),
            models.Index(fields=["status", "created_at", "id"], name="draft_api_status"),
        ]

    def __str__(self) -> str:
        return f"Draft for ticket {self.ticket_id} ({self.status})"

    @property
    def blocks_auto_send(self) -> bool:
        """A draft may go out without a human only when grounded, promising nothing unbacked
        and not written for a message a person must read."""
        return bool(self.promise_flags) or not self.grounded or bool(self.needs_human_reason)

    @property
    def instruction_labels(self) -> list[str]:
        return [words.word(words.INSTRUCTIONS, i) for i in self.instructions]

    @property
    def confidence_level(self) -> str:
        """How far to trust the draft, in words an agent reads at a glance."""
        return confidence_word(self.confidence)


class ToneProfileSetting(models.Model):
    """An admin's changes to the built-in tone profile of one locale. Only the sentences given
    here replace the built-in ones; the rest stay as shipped."""

    locale = models.CharField(max_length=35, unique=True, help_text="BCP 47, e.g. es or ja")
    data = models.JSONField(
        default=dict,
        blank=True,
        help_text='Sentences to replace, e.g. {"closing": "Un abrazo,", '
        '"acknowledgements": {"neutral": "¡Gracias por escribir!"}}. Placeholders: {name} in '
        "greeting, {title} in follow_up_intro, {brand} in signature and new_user_line.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["locale"]
        verbose_name = "tone profile"

    def __str__(self) -> str:
        return f"Tone profile {self.locale}"


class BrandVoice(models.Model):
    """How every draft signs and sounds. One row; without it, BRAND_NAME and the everyday
    register are used."""

    brand_name = models.CharField(
        max_length=80, blank=True, help_text="Shown in greetings and signatures."
    )
    formal_by_default = models.BooleanField(
        default=False,
        help_text="Write every draft in the formal register (Dear …, usted, 拝啓-style).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "brand voice"
        verbose_name_plural = "brand voice"

    def __str__(self) -> str:
        return f"Brand voice ({self.brand_name or 'default name'})"


class Macro(models.Model):
    """A canned reply agents insert from the editor. Variants of one macro share a `key`, one
    per language; the variant with no language is the fallback. Placeholders such as
    {customer_first_name} are filled for the ticket (replies/engine/macros.py)."""

    key = models.SlugField(max_length=60, help_text="Groups the language variants of one macro.")
    language = models.CharField(
        max_length=35,
        blank=True,
        help_text="BCP 47 (en, zh-Hant, ja, es …); empty: any language without its own variant.",
    )
    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text="Placeholders: {customer_name}, {customer_first_name}, {ticket_number}, "
        "{agent_name}, {agent_first_name}."
    )
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="macro_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language or 'any language'})"
