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
            # The rules report: people overruling routing decisions within a window, read
            # from the index alone (the kind and the decision ride along).
            models.Index(
                fields=["created_at", "kind", "routing"],
                condition=Q(routing__isnull=False),
                name="feedback_routing_window",
            ),
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


class Outcome(models.Model):
    """What became of one AI decision: a ticket's triage labels, its route, a draft, or an
    automatic reply. Opened (pending) by the service that makes the decision and settled by
    `feedback_record` when a person judges it: exactly one row per decision, so acceptance,
    override and edit rates are counts of rows."""

    class Decision(models.TextChoices):
        TRIAGE = "triage", _("Triage labels")
        ROUTE = "route", _("Route")
        DRAFT = "draft", _("Draft")
        AUTO_SEND = "auto_send", _("Automatic reply")

    class Verdict(models.TextChoices):
        PENDING = "pending", _("Not judged yet")
        ACCEPTED = "accepted", _("Accepted")
        EDITED = "edited", _("Edited")
        REJECTED = "rejected", _("Rejected")
        OVERRIDDEN = "overridden", _("Overridden")

    decision = models.CharField(max_length=10, choices=Decision.choices)
    ticket = models.ForeignKey("supportdesk.Ticket", on_delete=models.CASCADE, related_name="+")
    triage = models.OneToOneField(
        "triage.TriageResult", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    routing = models.OneToOneField(
        "triage.RoutingDecision",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    draft = models.OneToOneField(
        "replies.Draft", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    # For an edited draft: the reason the agent picked, and how many characters changed.
    reason = models.CharField(max_length=20, blank=True, choices=FeedbackEvent.EditReason.choices)
    edit_distance = models.PositiveIntegerField(null=True, blank=True)
    # For a draft: the knowledge base had no good answer to the question (an FAQ gap).
    kb_gap = models.BooleanField(default=False)
    # For overridden triage: which labels the agent changed ("category", "emotion", "urgency").
    changed = models.JSONField(default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.ForeignKey(
        FeedbackEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["ticket", "decision"], name="outcome_ticket"),
            models.Index(fields=["decision", "verdict", "-created_at"], name="outcome_verdict"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(decision="triage", triage__isnull=False, routing__isnull=True,
                      draft__isnull=True)
                    | Q(decision="route", triage__isnull=True, routing__isnull=False,
                        draft__isnull=True)
                    | Q(decision__in=("draft", "auto_send"), triage__isnull=True,
                        routing__isnull=True, draft__isnull=False)
                ),
                name="outcome_judges_one_decision",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.decision} {self.verdict} on ticket {self.ticket_id}"


class TicketMetrics(models.Model):
    """One ticket's figures, precomputed for the metrics page (feedback.metrics): its dimensions
    as they are now, what the AI did and how people judged it, times, SLA and satisfaction.
    Refreshed by the metrics sweep when the ticket changed or a judgement of it came in, so the
    page aggregates one narrow, indexed row per ticket instead of joining six tables."""

    ticket = models.OneToOneField(
        "supportdesk.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    # The Monday of the week the ticket came in, in the desk's time zone.
    week = models.DateField(db_index=True)
    category = models.CharField(max_length=60, blank=True)
    language = models.CharField(max_length=35, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replied = models.BooleanField(default=False)
    # Every reply went out automatically and no person took over.
    automated = models.BooleanField(default=False)
    drafts_accepted = models.PositiveSmallIntegerField(default=0)
    drafts_edited = models.PositiveSmallIntegerField(default=0)
    drafts_rejected = models.PositiveSmallIntegerField(default=0)
    auto_sent = models.PositiveSmallIntegerField(default=0)
    # Characters changed over the ticket's edited drafts (null: none edited).
    edit_distance = models.PositiveIntegerField(null=True, blank=True)
    edit_reasons = models.JSONField(default=list, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    solved = models.BooleanField(default=False)
    sla_applies = models.BooleanField(default=False)
    sla_breached = models.BooleanField(default=False)
    # A person looked at the triage (acted on the ticket or corrected it), and what they kept.
    triage_judged = models.BooleanField(default=False)
    category_kept = models.BooleanField(default=False)
    emotion_kept = models.BooleanField(default=False)
    # The latest surveyed rating, and the estimated one ("" when none).
    csat = models.CharField(max_length=4, blank=True)
    csat_estimated = models.CharField(max_length=4, blank=True)
    follow_ups = models.PositiveSmallIntegerField(default=0)
    takeovers = models.PositiveSmallIntegerField(default=0)
    # The knowledge base had no good answer for a question on this ticket.
    faq_gap = models.BooleanField(default=False)
    # The ticket's updated_at when these figures were computed (the sweep's watermark), and
    # whether a judgement arrived since (a rating or feedback that does not touch the ticket).
    ticket_updated_at = models.DateTimeField(db_index=True)
    stale = models.BooleanField(default=False)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["stale"], name="metrics_stale", condition=Q(stale=True)),
        ]

    def __str__(self) -> str:
        return f"metrics of ticket {self.ticket_id}"


class MetricsRollup(models.Model):
    """One week's figures for one group of tickets, summed from `TicketMetrics` by the sweep:
    the whole desk (no dimension), one value of one dimension ("language" = "ja"), or one
    value of a dimension within one value of another ("agent" = 7 within "language" = "ja").
    The metrics page adds up a period's weeks from these rows, so it reads a few hundred small
    rows whatever the number of tickets. `figures` holds counts ("n") and, for the medians,
    log-spaced histograms ("h") of edit distances and response and resolution times."""

    week = models.DateField()
    dimension = models.CharField(max_length=10, blank=True)
    key = models.CharField(max_length=60, blank=True)
    within = models.CharField(max_length=10, blank=True)
    within_key = models.CharField(max_length=60, blank=True)
    tickets = models.PositiveIntegerField(default=0)  # also in figures; summed by the database
    figures = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "within", "within_key", "week"], name="rollup_read"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["week", "dimension", "key", "within", "within_key"], name="rollup_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.dimension}={self.key} within {self.within}={self.within_key}"


class SatisfactionEstimate(models.Model):
    """How satisfied the customer probably is with a solved ticket, read from its conversation
    (feedback.engine.satisfaction), shown beside the surveyed rating and measured against it.
    One per ticket: solving the ticket again updates it."""

    ticket = models.OneToOneField(
        "supportdesk.Ticket", on_delete=models.CASCADE, related_name="satisfaction_estimate"
    )
    score = models.CharField(max_length=4, choices=Rating.Score.choices)
    # The chance, 0-1, that the customer would rate the ticket "good".
    probability = models.FloatField()
    reasons = models.JSONField(default=list)  # short English phrases, as the engine gave them
    engine = models.CharField(max_length=10)  # local | llm
    engine_version = models.CharField(max_length=120, blank=True)
    # The local model's inputs at the time, whichever engine answered: refitting reads them.
    features = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The agreement report reads estimates by period.
            models.Index(fields=["-updated_at"], name="satisfaction_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__in=SCORES), name="satisfaction_score_known"),
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=1),
                name="satisfaction_probability_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score} estimated for ticket {self.ticket_id}"

    @property
    def percent(self) -> int:
        return round(self.probability * 100)


class SatisfactionModel(models.Model):
    """The local satisfaction model's weights once fitted from surveyed ratings; the newest row
    is used. Without one the engine's documented priors apply."""

    weights = models.JSONField()  # {"coef": {score: {feature: w}}, "intercept": {score: b}}
    trained_on = models.PositiveIntegerField()  # surveyed tickets it learnt from
    class_counts = models.JSONField(default=dict)  # {score: n} among them
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"satisfaction model of {self.created_at:%Y-%m-%d} ({self.trained_on} ratings)"

    @property
    def version(self) -> str:
        return f"fit {self.pk} (n={self.trained_on})"


class SuggestionSnapshot(models.Model):
    """The latest suggestions of one source, as the suggestions page shows them. Computing them
    reads thousands of events (feedback.suggestions), too much for every page view: a periodic
    task stores them here and the page reads this one row per source."""

    class Source(models.TextChoices):
        THRESHOLDS = "thresholds", "Routing thresholds"
        EDITS = "edits", "Repeated edits"

    source = models.CharField(max_length=20, choices=Source.choices, unique=True)
    # Each suggestion's `Suggestion.as_json()`, in the page's order.
    suggestions = models.JSONField(default=list)
    # The events behind each, in the same order, as JSON text: decoded only when the page
    # renders its lists anew (hundreds of rows on a busy desk; it caches what it rendered).
    evidence = models.TextField(default="[]")
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source} suggestions of {self.computed_at:%Y-%m-%d %H:%M}"
