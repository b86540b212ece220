"""Triage: the installation's taxonomy, labelled examples, model versions, and per-message
analysis, routing decisions and supervisor escalations."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from supportdesk.models import BusinessHours, Category, Team
from triage.engine.rules import intensity_word
from triage.engine.types import EMOTIONS

EMOTION_CHOICES = [(e, e) for e in EMOTIONS]


# Examples imported with `--out-of-scope-label X` are stored under this label, so training
# knows which examples belong to no category without remembering X.
OUT_OF_SCOPE_LABEL = "__out_of_scope__"


def example_text_hash(text: str) -> str:
    """Identity of an example's text: same words, same example (whitespace and case aside)."""
    normalised = " ".join(text.split()).casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class LabelledExample(models.Model):
    class Target(models.TextChoices):
        CATEGORY = "category", "Category"
        EMOTION = "emotion", "Emotion"
        # Which knowledge-base answer a message asks for: the label is the answer's article id
        # (a translation's source), or OUT_OF_SCOPE_LABEL when the knowledge base has none.
        ANSWER = "answer", "Knowledge-base answer"

    class Source(models.TextChoices):
        IMPORT = "import", "Imported"
        # Messages as customers really write them (typos, greetings, any language), imported
        # with `import_examples --realistic`: with agents' corrections, the rows training
        # calibrates confidences and the out-of-scope cut on (templated rows flatter both).
        REALISTIC = "realistic", "Realistic message"
        CORRECTION = "correction", "Agent correction"

    target = models.CharField(max_length=10, choices=Target.choices)
    text = models.TextField()
    label = models.CharField(max_length=60)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.IMPORT)
    text_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["target", "label"], name="example_target_label"),
            # Counting a target's corrections (retraining) and reading the most recent held-back
            # ones (judging a new version).
            models.Index(fields=["target", "source", "-created_at"], name="example_recent_source"),
        ]
        constraints = [
            # Importing a file twice, or correcting the same ticket twice, keeps one example.
            models.UniqueConstraint(fields=["target", "text_hash"], name="example_unique_text")
        ]

    def __str__(self) -> str:
        return f"{self.target}:{self.label}"


class ModelVersion(models.Model):
    target = models.CharField(max_length=10, choices=LabelledExample.Target.choices)
    version = models.CharField(max_length=40)
    metrics = models.JSONField(default=dict)
    example_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["target", "version"], name="model_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.version}"


class TriageResult(models.Model):
    """What an engine said about one inbound message."""

    ticket = models.ForeignKey("supportdesk.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        "supportdesk.Message", on_delete=models.CASCADE, related_name="triage"
    )
    language = models.CharField(max_length=35)
    language_confidence = models.FloatField()
    category = models.CharField(max_length=60, blank=True)
    category_confidence = models.FloatField()
    out_of_scope = models.BooleanField(default=False)
    emotion = models.CharField(max_length=12, choices=EMOTION_CHOICES)
    emotion_confidence = models.FloatField()
    # How strongly the emotion is expressed, 0-1 (0 for neutral).
    emotion_intensity = models.FloatField(default=0.0)
    urgency = models.CharField(max_length=8)
    urgency_reasons = models.JSONField(default=list)
    needs_human = models.BooleanField(default=False)
    needs_human_reasons = models.JSONField(default=list)
    engine = models.CharField(max_length=40)
    engine_version = models.CharField(max_length=120)
    latency_ms = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ticket", "-created_at"], name="triage_ticket")]

    def __str__(self) -> str:
        return f"triage of message {self.message_id}"

    @property
    def intensity_word(self) -> str:
        return intensity_word(self.emotion_intensity)


class AgentSession(models.Model):
    """One open desk socket (inbox, ticket or supervisor page): its user is online."""

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "connected_at"], name="agent_session_user")]

    def __str__(self) -> str:
        return f"{self.user_id} online since {self.connected_at}"


class SlaPolicy(models.Model):
    """Service-level targets for tickets of an urgency and/or plan (empty: any)."""

    name = models.CharField(max_length=80)
    urgency = models.CharField(
        max_length=8, blank=True, choices=[(u, u) for u in ("high", "medium", "low")]
    )
    plan = models.CharField(
        max_length=20,
        blank=True,
        choices=[("free", "Free"), ("paying", "Paying"), ("enterprise", "Enterprise")],
    )
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    business_hours = models.ForeignKey(
        BusinessHours,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Count only these hours toward the targets. Empty: around the clock.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class RouteAction(models.TextChoices):
    AUTO_SEND = "auto_send", _("Auto-send the draft")
    AUTO_REPLY = "auto_reply", _("Auto-reply candidate")
    HUMAN = "human", _("Human agent")
    SUPERVISOR = "supervisor", _("Supervisor alert")


class RoutingRule(models.Model):
    """One ordered routing rule, edited in the admin. See triage.routing for the semantics."""

    class Match(models.TextChoices):
        ALL = "all", "All conditions"
        ANY = "any", "Any condition"

    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    name = models.CharField(max_length=120)
    enabled = models.BooleanField(default=True)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    stop_processing = models.BooleanField(
        default=True, help_text="When this rule fires, later rules are not evaluated."
    )
    # conditions: an empty value is no condition
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    out_of_scope = models.BooleanField(null=True, blank=True)
    category_routine = models.BooleanField("routine category", null=True, blank=True)
    confidence_below = models.FloatField(
        "category confidence below", null=True, blank=True, help_text="0 to 1."
    )
    confidence_at_least = models.FloatField(
        "category confidence at least", null=True, blank=True, help_text="0 to 1."
    )
    vip = models.BooleanField("VIP customer", null=True, blank=True)
    plans = models.JSONField(default=list, blank=True)
    new_customer = models.BooleanField(null=True, blank=True)
    repeat_contact = models.BooleanField(null=True, blank=True)
    emotions = models.JSONField(default=list, blank=True)
    min_emotion_confidence = models.FloatField(null=True, blank=True, help_text="0 to 1.")
    min_emotion_intensity = models.FloatField(
        null=True,
        blank=True,
        help_text="0 to 1: how strongly the emotion is expressed (0.7 and up reads as strong).",
    )
    urgencies = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    needs_human = models.BooleanField("triage asks for a human", null=True, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    # actions
    action = models.CharField(max_length=12, choices=RouteAction.choices, blank=True)
    notify_supervisors = models.BooleanField(default=False)
    assign_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assign_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An online member of this team gets the ticket.",
    )
    assign_matching_team = models.BooleanField(
        default=False,
        help_text="An online member of the team that handles the ticket's category and "
        "language gets the ticket.",
    )
    set_urgency = models.CharField(
        max_length=8, blank=True, choices=[(u, u) for u in ("high", "medium", "low")]
    )
    sla_policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Use these targets instead of the policy for the ticket's urgency and plan.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["enabled", "position", "id"], name="routing_rule_order")]

    def __str__(self) -> str:
        return self.name


class RoutingSettings(models.Model):
    """The desk-wide auto-send switches: one row, edited in the admin."""

    auto_send_paused = models.BooleanField(
        default=False,
        help_text="Kill switch: no draft is sent automatically while this is on. "
        "The AUTO_SEND_PAUSED environment variable pauses it too.",
    )
    auto_send_min_category_confidence = models.FloatField(
        default=0.85, help_text="Triage must be at least this sure of the category (0 to 1)."
    )
    auto_send_min_draft_confidence = models.FloatField(
        default=0.6, help_text="The draft engine must be at least this sure (0 to 1)."
    )
    on_duty_supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Supervisors on duty: each gets an e-mail for every high-urgency escalation.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "routing settings"

    def __str__(self) -> str:
        return "Routing settings"

    @classmethod
    def current(cls) -> RoutingSettings:
        return cls.objects.get_or_create(pk=1)[0]


class RoutingDecision(models.Model):
    Action = RouteAction

    ticket = models.ForeignKey("supportdesk.Ticket", on_delete=models.CASCADE, related_name="+")
    triage = models.ForeignKey(TriageResult, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=12, choices=Action.choices)
    reasons = models.JSONField(default=list)
    # [{"rule_id", "name", "action", "conditions": [...]}] in evaluation order.
    fired_rules = models.JSONField(default=list)
    rule = models.ForeignKey(
        RoutingRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
        help_text="The rule that chose the action.",
    )
    # Repeat contact when routed: earlier tickets of the customer in the window, and whether
    # the customer had written again after the ticket was solved.
    repeat_contacts = models.PositiveIntegerField(default=0)
    reopened = models.BooleanField(default=False)
    # The auto-send verdict: {"allowed", "blocked_by": [...], "message_id"}; empty until the
    # draft was checked (only for routes that chose auto-send).
    auto_send = models.JSONField(default=dict, blank=True)
    # {"team", "agent", "reason"} when a rule assigned the ticket.
    assignment = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "-created_at"], name="routing_ticket"),
            # Reports and suggestions read the decisions of a recent window, newest first.
            models.Index(fields=["-created_at"], name="routing_created"),
            # The rules report counts a window's decisions per rule from the index alone.
            models.Index(fields=["created_at", "rule"], name="routing_window_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.action} for ticket {self.ticket_id}"


class RoutingRuleDay(models.Model):
    """How many tickets one rule decided on one UTC day, and how often people overruled those
    decisions, by kind. Kept by the routing and override services in their own transactions,
    so the rules report sums at most a window's days per rule instead of counting every
    decision. Overrides are counted on the day of the decision they overrule."""

    day = models.DateField()
    # The deciding rule's id, 0 for the defaults. Not a foreign key: a deleted rule's days stay,
    # and the report lists them under the defaults, as its decisions (rule set to NULL) are.
    rule_key = models.PositiveIntegerField(default=0)
    decisions = models.PositiveIntegerField(default=0)
    rerouted = models.PositiveIntegerField(default=0)
    reassigned = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)
    deescalated = models.PositiveIntegerField(default=0)

    # The override kinds (FeedbackEvent.ROUTING_OVERRIDES), each with its own counter.
    OVERRIDES = ("rerouted", "reassigned", "escalated", "deescalated")
    COUNTERS = ("decisions", *OVERRIDES)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "rule_key"], name="routing_rule_day_unique")
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_key} on {self.day}: {self.decisions}"


class Escalation(models.Model):
    """A live alert for supervisors. Open until someone acknowledges it."""

    ticket = models.ForeignKey(
        "supportdesk.Ticket", on_delete=models.CASCADE, related_name="escalations"
    )
    reason = models.CharField(max_length=300)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # When on-duty supervisors were e-mailed about it (high urgency only); set once.
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["acknowledged_at", "-created_at"], name="escalation_open")]

    def __str__(self) -> str:
        return f"Escalation of ticket {self.ticket_id}: {self.reason}"
