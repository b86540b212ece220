"""Every human decision on an AI output, kept as training signal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class FeedbackEvent(models.Model):
    """One person's decision about one AI output: which output, who, when, and what changed."""

    class Kind(models.TextChoices):
        DRAFT_APPROVED = "draft_approved", "Draft approved as written"
        DRAFT_EDITED = "draft_edited", "Draft edited, then sent"
        ESCALATED = "escalated", "Escalated to a supervisor"
        TRIAGE_CORRECTED = "triage_corrected", "Triage corrected"
        REROUTED = "rerouted", "Routing overruled"
        REASSIGNED = "reassigned", "Reassigned"
        DEESCALATED = "deescalated", "De-escalated by a supervisor"

    # People overruling a routing decision (the routing rules report counts them).
    ROUTING_OVERRIDES = (Kind.REROUTED, Kind.REASSIGNED, Kind.ESCALATED, Kind.DEESCALATED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey("supportdesk.Ticket", on_delete=models.CASCADE, related_name="+")
    # The AI output this decision judges: exactly one of these is set.
    draft = models.ForeignKey(
        "replies.Draft", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    triage = models.ForeignKey(
        "triage.TriageResult", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    routing = models.ForeignKey(
        "triage.RoutingDecision", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    diff = models.TextField(blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "-created_at"], name="feedback_kind")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(draft__isnull=False, triage__isnull=True, routing__isnull=True)
                    | Q(draft__isnull=True, triage__isnull=False, routing__isnull=True)
                    | Q(draft__isnull=True, triage__isnull=True, routing__isnull=False)
                ),
                name="feedback_judges_one_output",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on ticket {self.ticket_id}"
