"""Reads for the feedback exports: every decision on a draft (approved, edited, auto-sent,
escalated) and every reply a person wrote instead, each joined to the customer's message it
answers, that message's triage labels and the draft the AI proposed.

Both walks are ordered by decision time and read in chunks from server-side cursors, with every
row they need joined in (a manual reply's message and draft come in one query per chunk), so an
export of 100,000 tickets runs in constant memory and a fixed number of queries per chunk.
What followed a decision (the customer's rating of the reply, follow-ups and a takeover counted
against the draft) comes in as subqueries of the same rows, served by the unique rating-per-
message and the feedback-per-draft indexes.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from feedback.models import FeedbackEvent, Rating
from replies.autosend import AUTO_SEND_USERNAME
from replies.engine.export import Decision, DeskVoice, eval_row, finetune_row
from replies.models import Draft
from replies.selectors import brand_voice, tone_profiles
from supportdesk.models import Customer, Message, Ticket
from triage.models import TriageResult

FORMATS = ("eval", "finetune")
CHUNK_SIZE = 1000

_DRAFT_KINDS = (
    FeedbackEvent.Kind.DRAFT_APPROVED,
    FeedbackEvent.Kind.DRAFT_EDITED,
    FeedbackEvent.Kind.ESCALATED,
)


@dataclass(frozen=True)
class ExportFilters:
    since: date | None = None  # decided on or after this day (the desk's time zone)
    until: date | None = None  # decided on or before this day
    category: str = ""  # category slug of the answered message
    language: str = ""  # "zh" matches zh-Hant and zh-Hans
    outcome: str = ""  # one of replies.engine.export.OUTCOMES


def decisions_for_export(
    *, filters: ExportFilters, drafts: QuerySet[Draft] | None = None
) -> Iterator[Decision]:
    """Every decision matching `filters`, oldest first; with `drafts`, only the decisions on
    those drafts (a manual reply counts when it set one of them aside)."""
    return heapq.merge(
        _draft_decisions(_draft_events(filters, drafts)),
        _manual_decisions(_manual_replies(filters, drafts)),
        key=lambda decision: decision.decided_at,
    )


def decisions_count(*, filters: ExportFilters, drafts: QuerySet[Draft] | None = None) -> int:
    return _draft_events(filters, drafts).count() + _manual_replies(filters, drafts).count()


def export_lines(decisions: Iterable[Decision], *, format: str) -> Iterator[str]:
    """JSON Lines, one decision a line (in the fine-tuning format only the replies a person
    stood behind). Reads the desk's voice once."""
    if format not in FORMATS:
        raise ValueError(f"Unknown export format {format!r}; choose from {', '.join(FORMATS)}.")
    voice = brand_voice()
    desk = DeskVoice(brand=voice.brand_name, formal=voice.formal, profiles=tone_profiles())
    for decision in decisions:
        row = eval_row(decision) if format == "eval" else finetune_row(decision, desk)
        if row is not None:
            yield json.dumps(row, ensure_ascii=False) + "\n"


# -- decisions on drafts ---------------------------------------------------------------------


def _draft_events(filters: ExportFilters, drafts: QuerySet[Draft] | None) -> QuerySet:
    events = FeedbackEvent.objects.filter(kind__in=_DRAFT_KINDS, draft__isnull=False)
    events = events.filter(_decided_between(filters, "created_at"))
    if drafts is not None:
        events = events.filter(draft__in=drafts.values("pk"))
    robot = Q(actor__username=AUTO_SEND_USERNAME)
    approved = Q(kind=FeedbackEvent.Kind.DRAFT_APPROVED)
    events = events.filter(
        {
            "": Q(),
            "accepted": approved & ~robot,
            "auto": approved & robot,
            "edited": Q(kind=FeedbackEvent.Kind.DRAFT_EDITED),
            "escalated": Q(kind=FeedbackEvent.Kind.ESCALATED),
        }.get(filters.outcome, Q(pk__in=[]))
    )
    triage = "draft__in_reply_to__triage"
    events = events.filter(
        _label_q(triage, "ticket", filters),
        _language_q(triage, "ticket__language", filters.language),
    )
    return (
        events.select_related(
            "actor", "ticket__customer", "ticket__category", triage, "draft__sent_message"
        )
        .defer("ticket__search_document", "ticket__search_vector")
        .annotate(
            **_rating_of(OuterRef("draft__sent_message")),
            follow_ups=Coalesce(
                Subquery(
                    FeedbackEvent.objects.filter(
                        kind=FeedbackEvent.Kind.FOLLOW_UP, draft=OuterRef("draft")
                    )
                    .order_by()
                    .values("draft")
                    .annotate(n=Count("pk"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            ),
            taken_over=Exists(
                FeedbackEvent.objects.filter(
                    kind=FeedbackEvent.Kind.TAKEOVER, draft=OuterRef("draft")
                )
            ),
        )
        .order_by("created_at", "pk")
    )


def _draft_decisions(events: QuerySet) -> Iterator[Decision]:
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        draft = event.draft
        sent = draft.sent_message
        outcome = {
            FeedbackEvent.Kind.DRAFT_EDITED: "edited",
            FeedbackEvent.Kind.ESCALATED: "escalated",
        }.get(event.kind, "accepted")
        person = event.actor
        if person is not None and person.get_username() == AUTO_SEND_USERNAME:
            outcome, person = "auto", None
        yield _decision(
            key=f"draft-{draft.pk}",
            ticket=event.ticket,
            decided_at=event.created_at,
            outcome=outcome,
            message=draft.in_reply_to,
            triage=_triage_of(draft.in_reply_to),
            draft=draft,
            # What the customer received; the event keeps it should the message be deleted.
            sent=sent.body_text if sent is not None else (event.after or {}).get("text"),
            person=person,
            note=event.note if outcome == "escalated" else "",
            edit_reason=event.reason,
            rating=event.rating_score or "",
            rating_comment=event.rating_comment or "",
            follow_ups=event.follow_ups,
            taken_over=event.taken_over,
        )


# -- replies a person wrote instead --------------------------------------------------------------


def _manual_replies(filters: ExportFilters, drafts: QuerySet[Draft] | None) -> QuerySet:
    """Replies a person wrote, each the first reply to the customer's message before it: a
    further reply sent after a draft answers nothing new."""
    if filters.outcome not in ("", "manual"):
        return Message.objects.none()
    answered = Message.objects.filter(
        ticket=OuterRef("ticket"),
        direction=Message.Direction.INBOUND,
        created_at__lte=OuterRef("created_at"),
    ).order_by("-created_at", "-pk")
    replies = (
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND, author_user__isnull=False, automatic=False
        )
        .filter(_decided_between(filters, "created_at"))
        .exclude(Exists(Draft.objects.filter(sent_message=OuterRef("pk"))))
        .annotate(
            answered_id=Subquery(answered.values("pk")[:1]),
            answered_at=Subquery(answered.values("created_at")[:1]),
        )
        .filter(answered_id__isnull=False)
        .exclude(
            Exists(
                Message.objects.filter(
                    ticket=OuterRef("ticket"),
                    direction=Message.Direction.OUTBOUND,
                    author_user__isnull=False,
                    created_at__gte=OuterRef("answered_at"),
                    created_at__lt=OuterRef("created_at"),
                )
            )
        )
        .annotate(
            draft_id=Subquery(
                Draft.objects.filter(in_reply_to=OuterRef("answered_id"))
                .order_by("-created_at", "-pk")
                .values("pk")[:1]
            )
        )
    )
    if drafts is not None:
        replies = replies.filter(draft_id__in=drafts.values("pk"))
    if filters.category or filters.language:
        triage = TriageResult.objects.filter(message=OuterRef("answered_id"))
        replies = replies.annotate(
            answered_category=Subquery(triage.values("category")[:1]),
            answered_language=Subquery(triage.values("language")[:1]),
            triaged=Exists(triage),
        )
        if filters.category:
            replies = replies.filter(
                Q(triaged=True, answered_category=filters.category)
                | Q(triaged=False, ticket__category__slug=filters.category)
            )
        if filters.language:
            replies = replies.filter(
                _code_q("answered_language", filters.language)
                | (Q(triaged=False) & _code_q("ticket__language", filters.language))
            )
    return (
        replies.select_related("author_user", "ticket__customer", "ticket__category")
        .defer("ticket__search_document", "ticket__search_vector")
        .annotate(**_rating_of(OuterRef("pk")))
        .order_by("created_at", "pk")
    )


def _manual_decisions(replies: QuerySet) -> Iterator[Decision]:
    rows = replies.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        answered = Message.objects.select_related("triage").in_bulk(
            [reply.answered_id for reply in chunk]
        )
        drafts = Draft.objects.in_bulk([reply.draft_id for reply in chunk if reply.draft_id])
        for reply in chunk:
            message = answered[reply.answered_id]
            yield _decision(
                key=f"reply-{reply.pk}",
                ticket=reply.ticket,
                decided_at=reply.created_at,
                outcome="manual",
                message=message,
                triage=_triage_of(message),
                draft=drafts.get(reply.draft_id),
                sent=reply.body_text,
                person=reply.author_user,
                rating=reply.rating_score or "",
                rating_comment=reply.rating_comment or "",
            )


# -- shared --------------------------------------------------------------------------------------


def _decision(
    *,
    key: str,
    ticket: Ticket,
    decided_at: datetime,
    outcome: str,
    message: Message,
    triage: TriageResult | None,
    draft: Draft | None,
    sent: str | None,
    person,
    note: str = "",
    edit_reason: str = "",
    rating: str = "",
    rating_comment: str = "",
    follow_ups: int = 0,
    taken_over: bool = False,
) -> Decision:
    customer = ticket.customer
    if triage is not None:
        labels = (triage.category, triage.emotion, triage.urgency, triage.language)
    else:  # never triaged (the AI failed): the labels people gave the ticket
        labels = (
            ticket.category.slug if ticket.category else "",
            ticket.emotion,
            ticket.urgency_label,
            ticket.language,
        )
    category, emotion, urgency, language = labels
    return Decision(
        key=key,
        ticket_id=ticket.pk,
        decided_at=decided_at,
        outcome=outcome,
        subject=ticket.subject,
        message=message.body_text,
        language=language,
        category=category,
        emotion=emotion,
        urgency=urgency,
        customer_type=_customer_type(customer),
        # A customer without a name is greeted by their address's local part.
        customer_name=customer.display_name,
        customer_email=customer.email,
        draft=draft.text if draft is not None else None,
        sent=sent,
        agent_name=person.get_full_name() if person is not None else "",
        note=note,
        draft_engine=f"{draft.engine}/{draft.engine_version}" if draft is not None else "",
        draft_confidence=draft.confidence if draft is not None else None,
        grounded=draft.grounded if draft is not None else None,
        edit_reason=edit_reason,
        rating=rating,
        rating_comment=rating_comment,
        follow_ups=follow_ups,
        taken_over=taken_over,
    )


def _rating_of(message: OuterRef) -> dict:
    """Annotations: the customer's rating of the reply `message` and their comment."""
    rating = Rating.objects.filter(message=message)
    return {
        "rating_score": Subquery(rating.values("score")[:1]),
        "rating_comment": Subquery(rating.values("comment")[:1]),
    }


def _triage_of(message: Message) -> TriageResult | None:
    try:
        return message.triage
    except TriageResult.DoesNotExist:
        return None


def _customer_type(customer: Customer) -> str:
    return "vip" if customer.is_vip else customer.plan


def _decided_between(filters: ExportFilters, field: str) -> Q:
    q = Q()
    if filters.since:
        q &= Q(**{f"{field}__gte": _start_of(filters.since)})
    if filters.until:
        q &= Q(**{f"{field}__lt": _start_of(filters.until + timedelta(days=1))})
    return q


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _label_q(triage: str, ticket: str, filters: ExportFilters) -> Q:
    """The category filter on a triaged message's label, or the ticket's when untriaged."""
    if not filters.category:
        return Q()
    return Q(**{f"{triage}__category": filters.category}) | Q(
        **{f"{triage}__isnull": True, f"{ticket}__category__slug": filters.category}
    )


def _language_q(triage: str, fallback: str, code: str) -> Q:
    if not code:
        return Q()
    return _code_q(f"{triage}__language", code) | (
        Q(**{f"{triage}__isnull": True}) & _code_q(fallback, code)
    )


def _code_q(field: str, code: str) -> Q:
    """A language code and its regional or script variants: "zh" is zh, zh-Hant and zh-Hans."""
    return Q(**{f"{field}__iexact": code}) | Q(**{f"{field}__istartswith": f"{code}-"})
