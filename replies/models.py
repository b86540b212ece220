"""Drafted replies and their fate."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Draft(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        SENT = "sent", "Sent"
        ESCALATED = "escalated", "Escalated"
        SUPERSEDED = "superseded", "Superseded"

    ticket = models.ForeignKey(
        "supportdesk.Ticket", on_delete=models.CASCADE, related_name="drafts"
    )
    in_reply_to = models.ForeignKey(
        "supportdesk.Message", on_delete=models.CASCADE, related_name="drafts"
    )
    text = models.TextField()
    language = models.CharField(max_length=35)
    cited_articles = models.ManyToManyField("knowledge.Article", blank=True, related_name="+")
    # [{"article_id", "title", "language", "score"}] in citation order ([1], [2], …).
    citations = models.JSONField(default=list)
    grounded = models.BooleanField(default=False)
    needs_translation = models.BooleanField(default=False)
    confidence = models.FloatField(default=0.0)
    engine = models.CharField(max_length=40)
    engine_version = models.CharField(max_length=120)
    # Commitments (refund, credit, discount, date, legal) no cited passage or allowed policy
    # backs: [{"kind", "label", "text", "sentence", "before", "after", "start", "end"}].
    promise_flags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    sent_message = models.OneToOneField(
        "supportdesk.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["ticket", "status", "-created_at"], name="draft_ticket")]

    def __str__(self) -> str:
        return f"Draft for ticket {self.ticket_id} ({self.status})"

    @property
    def blocks_auto_send(self) -> bool:
        """A draft may go out without a human only when grounded and promising nothing
        unbacked."""
        return bool(self.promise_flags) or not self.grounded
