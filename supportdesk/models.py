"""The floor: the taxonomy (categories, teams, business hours), customers, tickets, the messages
in them, and API tokens."""

from __future__ import annotations

import uuid
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The installation's taxonomy and organisation: what tickets are about, who answers them, and
# when the team works. Triage labels tickets with these; routing and SLA timers read them.
# (Their tables keep the names they were created with.)


class Category(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    routine = models.BooleanField(
        default=False, help_text="Calm customers asking this may get an automatic reply."
    )
    auto_send = models.BooleanField(
        default=False,
        help_text="Drafts for this category may be sent without a person when a routing rule "
        "says auto-send and every guardrail passes.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "triage_category"
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A queue of agents with the categories and languages it handles (empty: any)."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_LOADED = "least_loaded", "Least loaded"

    name = models.CharField(max_length=80, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", db_table="triage_team_members"
    )
    categories = models.ManyToManyField(
        Category, blank=True, related_name="teams", db_table="triage_team_categories"
    )
    languages = models.JSONField(default=list, blank=True)
    strategy = models.CharField(
        max_length=12, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    active = models.BooleanField(default=True)
    # Round-robin pointer: the member who got the team's previous ticket.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "triage_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


def validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"Unknown time zone {value!r}; use e.g. Europe/Berlin.") from error


class BusinessHours(models.Model):
    """When the team works: the same hours on each chosen weekday, except holidays. An SLA
    policy that names a schedule counts only these hours (supportdesk.hours)."""

    name = models.CharField(max_length=80)
    timezone = models.CharField(
        "time zone",
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA name, e.g. Europe/Berlin, Asia/Tokyo, America/Mexico_City.",
    )
    days = models.CharField(
        max_length=7, default="01234", help_text="Working weekdays (0 = Monday … 6 = Sunday)."
    )
    opens = models.TimeField(default=time(9))
    closes = models.TimeField(default=time(17))

    class Meta:
        db_table = "triage_businesshours"
        ordering = ["name"]
        verbose_name = verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.days or set(self.days) - {code for code, _ in WEEKDAYS}:
            raise ValidationError({"days": "Choose at least one working day."})
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError({"closes": "Closing time must be after opening time."})


class Holiday(models.Model):
    """A day the team does not work: no SLA time counts on it."""

    schedule = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=80, blank=True)

    class Meta:
        db_table = "triage_holiday"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="holiday_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Customer(models.Model):
    class Plan(models.TextChoices):
        FREE = "free", _("Free")
        PAYING = "paying", _("Paying")
        ENTERPRISE = "enterprise", _("Enterprise")

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=35, blank=True, help_text="BCP 47, e.g. ja-JP")
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    is_vip = models.BooleanField("VIP", default=False, db_index=True)
    first_seen = models.DateTimeField(default=timezone.now)
    # Set when mail to this customer bounced or was refused for good. Nothing is sent to them
    # automatically while it is set; an agent can still reply by hand (and clear it).
    outbound_blocked_at = models.DateTimeField(null=True, blank=True)
    outbound_blocked_reason = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]


class Tag(models.Model):
    """A label agents put on tickets ("refund-abuse", "press", "bug-1234"); the inbox filters
    by it."""

    name = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting on customer")
        SOLVED = "solved", _("Solved")

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        EMAIL = "email", _("E-mail")
        API = "api", _("API")
        ZENDESK = "zendesk", _("Zendesk")

    class Urgency(models.IntegerChoices):
        # Stored as a rank so "sort by urgency, then age" is one index scan.
        HIGH = 0, _("high")
        MEDIUM = 1, _("medium")
        LOW = 2, _("low")
        UNKNOWN = 3, _("not triaged")

    # FK indexes are left to the composite indexes in Meta, which start with the same column.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    subject = models.CharField(max_length=250)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(max_length=35, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,
    )
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices, default=Urgency.UNKNOWN)
    # The team assignment picked while none of its members was online: the ticket goes to the
    # first member who comes online (triage.waiting). Cleared once someone has it.
    waiting_team = models.ForeignKey(
        "Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Current triage labels, copied from the latest TriageResult so the inbox filters on columns.
    category = models.ForeignKey(
        "Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    emotion = models.CharField(max_length=12, blank=True)
    needs_human = models.BooleanField(default=False)
    is_escalated = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    # Set when an agent merged this ticket into another of the same customer's: its messages
    # and notes moved there, and it is solved.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # An AI step failed: the ticket waits for a person to triage it by hand.
    needs_manual_triage = models.BooleanField(default=False)
    # How often the customer wrote again after the ticket was solved (repeat contact).
    reopen_count = models.PositiveIntegerField(default=0)
    # Service-level timers, set when the ticket is routed (supportdesk.sla explains the states).
    first_response_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sla_state = models.CharField(max_length=10, blank=True)  # "" | ok | at_risk | breached
    sla_due_at = models.DateTimeField(null=True, blank=True)  # the target the inbox counts down
    sla_next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # While the ticket waits on the customer the resolution timer is paused: since when, and
    # how long all earlier pauses took (resolution_due_at already moved on by those).
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_paused_for = models.DurationField(default=timedelta(0))
    # The business hours the timers count (from the SLA policy at routing); null: around the clock.
    sla_hours = models.ForeignKey(
        "BusinessHours",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # When the ticket was last solved (null while it is not): its resolution time.
    solved_at = models.DateTimeField(null=True, blank=True)
    ai_error = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic-locking counter.")
    # The ticket's id in Zendesk when it came from there; replies go back through its API.
    zendesk_ticket_id = models.PositiveBigIntegerField(null=True, blank=True)
    # What search finds the ticket by (supportdesk/search.py): subject, customer, and what
    # they wrote, as tokens. On PostgreSQL also as a tsvector with a GIN index (created by
    # migration 0018 there only); elsewhere search reads the document.
    search_document = models.TextField(blank=True, default="", editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["urgency", "created_at"]
        indexes = [
            # Every inbox filter has an index that ends in the sort key (urgency, created_at, id).
            models.Index(fields=["urgency", "created_at", "id"], name="ticket_queue"),
            models.Index(
                fields=["status", "urgency", "created_at", "id"], name="ticket_status_queue"
            ),
            models.Index(fields=["assignee", "urgency", "created_at", "id"], name="ticket_mine"),
            models.Index(
                fields=["category", "urgency", "created_at", "id"], name="ticket_category"
            ),
            models.Index(fields=["emotion", "urgency", "created_at", "id"], name="ticket_emotion"),
            models.Index(
                fields=["is_escalated", "urgency", "created_at", "id"], name="ticket_escalated"
            ),
            models.Index(fields=["customer", "created_at"], name="ticket_customer"),
            # Only the few tickets waiting for an agent (partial: the rest are NULL).
            models.Index(
                fields=["waiting_team", "urgency", "created_at", "id"],
                name="ticket_waiting",
                condition=Q(waiting_team__isnull=False),
            ),
            # The REST list: newest first, keyset on (created_at, id), alone or per filter.
            models.Index(fields=["created_at", "id"], name="ticket_api_list"),
            models.Index(fields=["status", "created_at", "id"], name="ticket_api_status"),
            models.Index(fields=["channel", "created_at", "id"], name="ticket_api_channel"),
            models.Index(fields=["updated_at"], name="ticket_updated"),
        ]
        constraints = [
            # Also the lookup index for webhook deliveries; concurrent first deliveries of one
            # Zendesk ticket cannot create two tickets.
            models.UniqueConstraint(
                fields=["zendesk_ticket_id"],
                condition=Q(zendesk_ticket_id__isnull=False),
                name="ticket_zendesk_id",
            )
        ]
        permissions = [
            ("work_inbox", "Can work tickets in the agent inbox"),
            ("supervise", "Can see and handle supervisor escalations"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"#{self.pk}"

    @property
    def urgency_label(self) -> str:
        """The urgency's code ("high", "medium", "low", "not triaged"): what rules, SLA
        policies and the API speak. People read get_urgency_display(), in their language."""
        return URGENCY_CODES[self.urgency]


URGENCY_CODES = {
    Ticket.Urgency.HIGH: "high",
    Ticket.Urgency.MEDIUM: "medium",
    Ticket.Urgency.LOW: "low",
    Ticket.Urgency.UNKNOWN: "not triaged",
}


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Delivery(models.TextChoices):
        NOT_APPLICABLE = "", "—"
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Handed to the mail server, but the worker died before hearing back: it may or may
        # not have gone out, so it is never re-sent automatically (supportdesk/outbox/delivery.py).
        UNCONFIRMED = "unconfirmed", _("Unconfirmed")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, help_text="Sanitised HTML; never rendered raw.")
    # E-mail only: the quoted earlier mail and the signature that ``body_text`` (what triage
    # reads) leaves out, kept so nothing the customer sent is lost.
    body_quoted = models.TextField(blank=True)
    # Inbound: why nothing automatic may answer it (an auto-reply, bulk or list mail, a no-reply
    # sender); empty when a person wrote it. Outbound: sent without a person (auto-send).
    automated_reason = models.CharField(max_length=200, blank=True)
    automatic = models.BooleanField(default=False)
    # Inbound: this message brought a solved ticket back to open, a follow-up that counts
    # against the reply that solved it (feedback.services.follow_up_record).
    reopened = models.BooleanField(default=False)
    # The text was longer than MESSAGE_TEXT_MAX_CHARS and is stored cut (the ticket page says so).
    truncated = models.BooleanField(default=False)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Message-ID for e-mail, the caller's id for API/Zendesk: one delivery, one message.
    external_id = models.CharField(max_length=255, blank=True)
    delivery_status = models.CharField(
        max_length=12, choices=Delivery.choices, default=Delivery.NOT_APPLICABLE, blank=True
    )
    delivery_error = models.TextField(blank=True)
    # The outbox: one key per outbound message, written with the ticket state in one
    # transaction; the e-mail's Message-ID is derived from it before anything is sent.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    # When a worker last claimed it (sending) or the sweeper last re-enqueued it (queued).
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set just before the point of no return (SMTP DATA): after it, a retry could duplicate.
    handed_over_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Inbound: the AI pipeline (triage → routing → draft) finished with this message, or gave up
    # and flagged the ticket. Until then the pipeline sweeper (supportdesk/pipeline.py) enqueues
    # it again: whatever lost it (broker down, a lost enqueue, a killed worker).
    pipeline_done_at = models.DateTimeField(null=True, blank=True)
    # The last time the sweeper enqueued it or a task started on it.
    pipeline_queued_at = models.DateTimeField(null=True, blank=True)
    pipeline_attempts = models.PositiveSmallIntegerField(default=0)  # tasks started on it
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_thread"),
            # The pipeline sweeper's scan: only inbound messages not yet through the pipeline.
            models.Index(
                fields=["created_at"],
                condition=Q(direction="in", pipeline_done_at__isnull=True),
                name="message_pipeline_pending",
            ),
            # The sweeper's scan: only messages still in flight are in this index.
            models.Index(
                fields=["delivery_status", "claimed_at"],
                condition=Q(delivery_status__in=["queued", "sending"]),
                name="message_outbox",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="message_external_id"
            )
        ]

    is_note = False  # see Note

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message on {self.ticket_id}"

    @property
    def author_label(self) -> str:
        if self.direction == self.Direction.INBOUND:
            return self.ticket.customer.display_name
        return self.author_user.get_username() if self.author_user else "SupportDesk"


class Note(models.Model):
    """An internal note on a ticket: written by and for the team, never to the customer. A model
    of its own, not a kind of Message, so no path that mails, syncs or exports messages can ever
    pick one up."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="notes", db_index=False
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    is_note = True  # the ticket page's timeline mixes notes with messages

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="note_thread")]

    def __str__(self) -> str:
        return f"Note on {self.ticket_id}"

    @property
    def author_label(self) -> str:
        return self.author.get_username() if self.author else "someone"


class SavedView(models.Model):
    """An agent's named inbox view: a search, filters and an order, one click away."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=600)  # the inbox's query string, as its form reads it
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name"),
        ]

    def __str__(self) -> str:
        return self.name


class AgentPreference(models.Model):
    """How one person sees the desk: its language and the time zone every date is shown in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_preference"
    )
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="IANA name; empty: the desk's"
    )
    language = models.CharField(
        max_length=16, blank=True, help_text="One of LANGUAGES; empty: the browser's"
    )

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"


def attachment_storage() -> FileSystemStorage:
    """Attachment files live outside static/media URLs: only the download view serves them."""
    return FileSystemStorage(location=settings.ATTACHMENTS_DIR, base_url=None)


def _attachment_path(instance: MessageAttachment, filename: str) -> str:
    # Never the sender's file name on disk: a random name, sharded by month.
    return timezone.now().strftime(f"%Y/%m/{uuid.uuid4().hex}")


class MessageAttachment(models.Model):
    """A file that came with a message, or the record of one that was not kept (over a limit)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)  # sanitised, shown and used for downloads only
    content_type = models.CharField(max_length=255, blank=True)  # as declared by the sender
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    file = models.FileField(
        storage=attachment_storage, upload_to=_attachment_path, max_length=255, blank=True
    )
    not_kept_reason = models.CharField(max_length=200, blank=True)  # set when there is no file
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def kept(self) -> bool:
        return bool(self.file)


class AutomaticMail(models.Model):
    """One automatic e-mail (acknowledgement, automatic reply) to one recipient about one ticket.

    The rows are both the outbox for these mails and the loop limit's ledger: counting them per
    (recipient, ticket, window) holds across every web and worker process.
    """

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "ack", "Acknowledgement"
        FOLLOW_UP = "ack-follow-up", "Follow-up acknowledgement"
        AUTO_REPLY = "auto-reply", "Automatic reply"

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Not sent (loop guard)")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="automatic_mails", db_index=False
    )
    recipient = models.EmailField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The inbound message this mail answers (In-Reply-To), when there is one.
    in_reply_to = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    message_id = models.CharField(max_length=255, blank=True)
    # Why it was suppressed, or how sending failed.
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "recipient", "created_at"], name="automail_window"),
            # The sweeper's scan for acknowledgements whose enqueue was lost.
            models.Index(
                fields=["created_at"], condition=Q(status="queued"), name="automail_queued"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} on {self.ticket_id}"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class IdempotencyKey(models.Model):
    """One POST made with an ``Idempotency-Key`` header, and the response it got.

    The row is written in the same transaction as the work it guards, so it exists exactly
    when the work committed; the unique constraint makes a concurrent twin wait, then replay.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and the canonical JSON body: "the same request".
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


class Presence(models.Model):
    """One open ticket page (one socket). Shared by every web process through the database."""

    channel_name = models.CharField(max_length=200, unique=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connected_at = models.DateTimeField(auto_now=True)
    # Last sign that this person is typing a reply or note on the ticket (their page says so
    # while they type; PRESENCE_EDITING_SECONDS after the last sign it no longer counts).
    editing_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "connected_at"], name="presence_ticket")]

    def __str__(self) -> str:
        return f"{self.user_id} viewing ticket {self.ticket_id}"
