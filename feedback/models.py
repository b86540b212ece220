"""Every human decision on an AI output, kept as training signal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from supportdesk.outbox.rating_links import SCORES


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
        # Not a click on the draft, but a verdict on it all the same: the answer did not end
        # the matter (feedback.services.follow_up_record, takeover_record).
        FOLLOW_UP = "follow_up", "Customer wrote again after it was solved"
        TAKEOVER = "takeover", "Agent took over after an automatic reply"

    class EditReason(models.TextChoices):
        """Why an agent changed a draft before sending it: one click beside the send button."""

        WRONG_FACTS = "wrong_facts", _("Wrong facts")
        TONE = "tone", _("Tone")
        LANGUAGE = "language", _("Language")
        MISSING_STEP = "missing_step", _("Missing step")
        POLICY = "policy", _("Policy")
        OTHER = "other", _("Other")

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
    # The message that gave the verdict, for the kinds a message gives (the customer's
    # follow-up, the agent's reply that took over): one event per message and kind.
    message = models.ForeignKey(
        "supportdesk.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    diff = models.TextField(blank=True)
    # For an edited draft: what was wrong with it, as the agent said ("" when they did not say).
    reason = models.CharField(max_length=20, blank=True, choices=EditReason.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Reports by kind, and the REST API's list (all kinds or one; keyset pagination).
            models.Index(fields=["kind", "created_at", "id"], name="feedback_kind_list"),
            models.Index(fields=["created_at", "id"], name="feedback_api_list"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(draft__isnull=False, triage__isnull=True, routing__isnull=True)
                    | Q(draft__isnull=True, triage__isnull=False, routing__isnull=True)
                    | Q(draft__isnull=True, triage__isnull=True, routing__isnull=False)
                ),
                name="feedback_judges_one_output",
            ),
            # Intake is at-least-once and the pipeline may run a message twice: the same
            # follow-up or takeover is counted once.
            models.UniqueConstraint(
                fields=["kind", "message"],
                condition=Q(message__isnull=False),
                name="feedback_once_per_message",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on ticket {self.ticket_id}"


class Rating(models.Model):
    """A customer's one-click rating of one reply (the link in its e-mail), with an optional
    comment. The first rating of a reply stands. ``draft`` is the AI draft the reply was sent
    from (null for a reply a person wrote from scratch), so ratings count per AI output."""

    class Score(models.TextChoices):
        GOOD = "good", _("Good")
        OKAY = "okay", _("Okay")
        BAD = "bad", _("Not good")

    message = models.OneToOneField(
        "supportdesk.Message", on_delete=models.CASCADE, related_name="rating"
    )
    ticket = models.ForeignKey("supportdesk.Ticket", on_delete=models.CASCADE, related_name="+")
    draft = models.ForeignKey(
        "replies.Draft", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.CharField(max_length=4, choices=Score.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    commented_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # A metrics page reads ratings by period, and by score within a period.
            models.Index(fields=["-created_at"], name="rating_created"),
            models.Index(fields=["score", "-created_at"], name="rating_score"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__in=SCORES), name="rating_score_known")
        ]

    def __str__(self) -> str:
        return f"{self.score} for message {self.message_id}"
