"""Writes for replies: draft a grounded answer, then send or escalate it exactly once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from feedback.models import FeedbackEvent
from feedback.services import (
    feedback_record,
    outcome_drafts_rejected,
    outcome_open,
    takeover_record,
    text_diff,
)
from knowledge.gaps import gap_withdraw
from knowledge.models import Article, KnowledgeGap
from knowledge.retrieval import Passage, best_passages
from knowledge.selectors import kb_index
from replies.drafting import ComposedDraft, draft_compose
from replies.engine import profile_for
from replies.engine.complaints import reports_problem
from replies.engine.compose import UPSET
from replies.engine.questions import asked_questions
from replies.engine.thanks import is_only_thanks
from replies.engine.types import INSTRUCTIONS, DraftInput
from replies.gaps import WEAK_ANSWER_CONFIDENCE, GapQuestion, gap_keep, gap_question
from replies.models import Draft
from replies.selectors import brand_voice, tone_profiles
from supportdesk.language import is_supported, language_name
from supportdesk.models import Customer, Message, Ticket
from supportdesk.outbox.delivery import outbox_enqueue_on_commit, outbox_entry_fields
from supportdesk.queue import enqueue_on_commit
from supportdesk.services import reply_check, ticket_status_change, ticket_touch
from triage.answers import answer_predict, meaning_closeness
from triage.engine.local import models_text
from triage.engine.rules import find_topics
from triage.escalations import escalation_raise
from triage.models import LabelledExample, TriageResult
from triage.routing import PARTIAL_DRAFT_REASON
from triage.services import examples_import, routing_hand_to_person
from triage.training import answer_label


class DraftAlreadyDecided(Exception):
    """Someone else acted on this draft first. The message says who and when."""


# A free customer is greeted as new only on their first message, and only this soon after we
# first heard of them: "Welcome!" to someone writing again, or to a long-time customer who never
# needed support before, reads as if nobody looked.
NEW_CUSTOMER_DAYS = 30


def _customer_tier(customer: Customer, message: Message) -> str:
    if customer.is_vip:
        return "vip"
    if customer.plan in (Customer.Plan.PAYING, Customer.Plan.ENTERPRISE):
        return "paying"
    if customer.first_seen < message.created_at - timedelta(days=NEW_CUSTOMER_DAYS):
        return "free"
    wrote_before = Message.objects.filter(
        ticket__customer=customer,
        direction=Message.Direction.INBOUND,
        created_at__lt=message.created_at,
    ).exists()
    return "free" if wrote_before else "new"


# How sure triage must be before the draft's opening line reacts to an emotion. Thanking a
# customer for "kind words" they never wrote is worse than a neutral opening.
EMOTION_CONFIDENCE_FOR_TONE = {"positive": 0.7, "angry": 0.45, "anxious": 0.45, "sad": 0.5}


# The category of reviews, compliments and complaints (supportdesk/demo/categories.json).
COMPLAINTS_CATEGORY = "feedback"


def _confident_emotion(triage: TriageResult | None) -> str:
    if triage is None:
        return "neutral"
    needed = EMOTION_CONFIDENCE_FOR_TONE.get(triage.emotion, 0.5)
    return triage.emotion if triage.emotion_confidence >= needed else "neutral"


def draft_create(*, message_id: int) -> Draft:
    """Draft a reply to an inbound message. Safe to call twice: one draft per message."""
    existing = Draft.objects.filter(in_reply_to_id=message_id).first()
    if existing is not None:
        return existing
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    composed, passages = _compose(message=message, instructions=())
    gap = _gap_of(message=message, composed=composed, passages=passages)
    return _draft_save(message=message, composed=composed, passages=passages, gap=gap)


def draft_refresh(*, message_id: int) -> Draft | None:
    """Draft the reply to `message_id` again from the knowledge base as it is now (an article
    answering it was just published). Only while its draft is still proposed: a draft someone
    sent, escalated or is replacing stays as it is. None when there was nothing to replace."""
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    composed, passages = _compose(message=message, instructions=())
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
        proposed = Draft.objects.filter(in_reply_to=message, status=Draft.Status.PROPOSED)
        if not proposed.exists():
            return None
        proposed.update(status=Draft.Status.SUPERSEDED)
        draft = _draft_row(ticket=ticket, message=message, composed=composed, passages=passages)
        if composed.result.grounded and not (
            composed.result.promise_flags or composed.needs_human_reason
        ):
            ticket.needs_human = False
        ticket_touch(ticket, "needs_human")
        return draft


def _gap_of(*, message: Message, composed: ComposedDraft, passages: list) -> _Gap | None:
    """Whether the draft shows a knowledge gap, with the question read (outside the
    transaction that saves the draft)."""
    result = composed.result
    if composed.nothing_to_answer or composed.needs_human_reason:
        return None
    if not result.grounded:
        reason, article_id, score = KnowledgeGap.Reason.NO_ANSWER, None, None
    elif passages and passages[0].calibrated and passages[0].score < WEAK_ANSWER_CONFIDENCE:
        reason = KnowledgeGap.Reason.WEAK_ANSWER
        article_id, score = passages[0].article_id, passages[0].score
    else:
        return None
    asked = gap_question(message, language=result.language)
    if asked is None:
        return None
    return _Gap(asked=asked, reason=reason, article_id=article_id, score=score)


@dataclass(frozen=True)
class _Gap:
    asked: GapQuestion
    reason: str
    article_id: int | None
    score: float | None


def _compose(*, message: Message, instructions: tuple[str, ...]) -> tuple[ComposedDraft, list]:
    ticket = message.ticket
    triage = TriageResult.objects.filter(message=message).first()
    language = triage.language if triage else (ticket.language or "en")
    query = models_text(ticket.subject, message.body_text)
    supported = is_supported(language, settings.SUPPORTED_LANGUAGES)
    emotion = _confident_emotion(triage)
    # A language the desk does not serve is left to a person, never answered in another one.
    passages = _passages_for(query, language) if supported else []
    # "Please unsubscribe me. Thanks." asks for something the KB answers; thanks alone does not.
    only_thanks = not passages and emotion not in UPSET and is_only_thanks(message.body_text)
    # Replies sent before this message: a follow-up does not repeat them.
    previous = tuple(
        ticket.messages.filter(
            direction=Message.Direction.OUTBOUND, created_at__lte=message.created_at
        ).values_list("body_text", flat=True)
    )
    other_answers, unanswered = _other_questions(message.body_text, language, passages)
    voice = brand_voice()
    # Money taken, a parcel late, something broken, a hacked account, a threat of action, or
    # feedback that is not praise: the customer reports a problem, however calm they read.
    complaint = (
        bool(find_topics(query))
        or reports_problem(query)
        or bool(triage and triage.category == COMPLAINTS_CATEGORY and triage.emotion != "positive")
    )
    draft_input = DraftInput(
        question=message.body_text,
        subject=ticket.subject,
        language=language,
        customer_name=ticket.customer.display_name,
        customer_tier=_customer_tier(ticket.customer, message),
        emotion=emotion,
        passages=tuple(passages),
        previous_replies=previous,
        brand_name=voice.brand_name,
        instructions=instructions,
        formal=voice.formal,
        only_thanks=only_thanks,
        complaint=complaint,
        other_answers=other_answers,
        unanswered=unanswered,
    )
    tone = profile_for(language, tone_profiles())
    composed = draft_compose(ticket=ticket, inp=draft_input, tone=tone)
    if only_thanks:
        composed = replace(composed, nothing_to_answer=True)
    if composed.result.grounded and unanswered:
        composed = replace(composed, needs_human_reason=UNANSWERED_QUESTION_REASON)
    if not supported:
        name = language_name(language)
        composed = replace(
            composed,
            needs_human_reason=f"The customer wrote in {name}, which this desk does not support: "
            f"reply in {name} yourself, or ask them to write in a language the desk supports.",
        )
    return composed, passages


UNANSWERED_QUESTION_REASON = (
    "The customer asks more than one thing and the knowledge base does not answer every "
    "question: answer the rest yourself."
)


def _other_questions(body: str, language: str, passages: list[Passage]) -> tuple[tuple, int]:
    """For a message that asks several things, each read on its own: (the best passage for
    each question answered from an article the draft does not already cite, how many
    questions the knowledge base does not answer). Nothing when the message asks one thing,
    or when the draft has no answer at all (its holding reply covers every question)."""
    questions = asked_questions(body, language)
    if len(questions) < 2 or not passages:
        return (), 0
    cited = {passage.article_id for passage in passages}
    covered, others, unanswered = False, [], 0
    for question in questions:
        found = _passages_for(question, language)
        if not found:
            unanswered += 1
        elif found[0].article_id in cited:
            covered = True
        else:
            others.append(found[0])
    # The draft's answer was chosen for the whole message: when no single question leads to it,
    # it answers one of those that found nothing on their own.
    if not covered and unanswered:
        unanswered -= 1
    return tuple(others), unanswered


def _passages_for(query: str, language: str) -> list[Passage]:
    """The knowledge-base passages to answer from, best first; empty when the KB has no answer.

    The answer model, when one is trained, decides which article answers (it reads meaning in
    any language, and knows the questions the KB cannot answer); the passage of that article is
    then the one closest to the question in meaning. Without an answer model, passages are
    matched on the question's words."""
    index = kb_index()
    answer = answer_predict(query)
    if answer is None:
        return best_passages(index, query, language, k=3)
    if answer.article_id is None:
        return []
    return [
        replace(passage, score=answer.confidence, calibrated=True)
        for passage in index.passages_of(
            answer.article_id, query, language=language, closeness=meaning_closeness
        )
    ]


@transaction.atomic
def _draft_save(
    *, message: Message, composed: ComposedDraft, passages: list, gap: _Gap | None
) -> Draft:
    ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
    existing = Draft.objects.filter(in_reply_to=message).first()
    if existing is not None:
        return existing
    Draft.objects.filter(ticket=ticket, status=Draft.Status.PROPOSED).update(
        status=Draft.Status.SUPERSEDED
    )
    draft = _draft_row(ticket=ticket, message=message, composed=composed, passages=passages)
    result = composed.result
    if gap is not None:
        gap_keep(
            message=message,
            asked=gap.asked,
            reason=gap.reason,
            article_id=gap.article_id,
            score=gap.score,
        )
    if not result.grounded and not composed.nothing_to_answer:
        ticket.needs_human = True
        # A holding reply is no answer: it is never offered for one-click approval.
        routing_hand_to_person(message_id=message.pk)
    elif composed.needs_human_reason == UNANSWERED_QUESTION_REASON:
        # Nor is an answer to only some of the customer's questions.
        routing_hand_to_person(message_id=message.pk, reason=PARTIAL_DRAFT_REASON)
    # An unbacked commitment, or a message a person must read, is never sent without a human.
    if result.promise_flags or composed.needs_human_reason:
        ticket.needs_human = True
    ticket_touch(ticket, "needs_human")
    return draft


def _draft_row(
    *,
    ticket: Ticket,
    message: Message,
    composed: ComposedDraft,
    passages: list,
    instructions: tuple[str, ...] = (),
) -> Draft:
    result = composed.result
    quoted = {}
    for passage in passages:  # best first: the passage the engine quoted for each article
        quoted.setdefault(passage.article_id, passage.text)
    draft = Draft.objects.create(
        ticket=ticket,
        in_reply_to=message,
        text=result.text,
        language=result.language,
        citations=[
            {
                "article_id": c.article_id,
                "title": c.title,
                "language": c.language,
                "score": c.score,
                "passage": quoted.get(c.article_id, "")[:4000],
            }
            for c in result.citations
        ],
        instructions=list(instructions),
        grounded=result.grounded,
        needs_translation=result.needs_translation,
        confidence=result.confidence,
        engine=result.engine,
        engine_version=result.engine_version,
        promise_flags=list(result.promise_flags),
        needs_human_reason=composed.needs_human_reason,
    )
    draft.cited_articles.set([c.article_id for c in result.citations])
    gap = not result.grounded and not composed.nothing_to_answer
    outcome_open(ticket=ticket, draft=draft, kb_gap=gap)
    return draft


@transaction.atomic
def draft_regenerate(*, draft_id: int, actor: AbstractBaseUser, instruction: str) -> Draft:
    """Write the draft again, with the agent's instruction added to any asked before
    ("shorter", then "formal": both hold). The old draft is superseded, not deleted."""
    if instruction not in INSTRUCTIONS:
        choices = ", ".join(str(label).lower() for label in INSTRUCTIONS.values())
        raise ValueError(
            gettext("Choose how to change the draft: %(choices)s.") % {"choices": choices}
        )
    draft = Draft.objects.select_for_update().get(pk=draft_id)
    if draft.status != Draft.Status.PROPOSED:
        raise _already_decided(draft)
    message = Message.objects.select_related("ticket__customer").get(pk=draft.in_reply_to_id)
    instructions = tuple(dict.fromkeys([*draft.instructions, instruction]))
    composed, passages = _compose(message=message, instructions=instructions)
    Draft.objects.filter(pk=draft.pk).update(status=Draft.Status.SUPERSEDED)
    outcome_drafts_rejected(draft_ids=[draft.pk], actor=actor)
    ticket = Ticket.objects.select_for_update().get(pk=draft.ticket_id)
    new = _draft_row(
        ticket=ticket, message=message, composed=composed, passages=passages,
        instructions=instructions,
    )  # fmt: skip
    ticket_touch(ticket)
    return new


def _already_decided(draft: Draft) -> DraftAlreadyDecided:
    # Read again: on PostgreSQL a row re-checked after waiting for a lock comes back with the
    # new decided_by_id but the joined user of the old row version (none).
    draft = Draft.objects.select_related("decided_by").get(pk=draft.pk)
    who = draft.decided_by.get_username() if draft.decided_by else gettext("someone")
    when = (
        date_format(timezone.localtime(draft.decided_at), "SHORT_DATETIME_FORMAT")
        if draft.decided_at
        else ""
    )
    said = {
        "sent": gettext("This draft was already sent by %(who)s at %(when)s."),
        "escalated": gettext("This draft was already escalated by %(who)s at %(when)s."),
        "superseded": gettext(
            "This draft was already replaced by a newer draft by %(who)s at %(when)s."
        ),
    }
    fallback = gettext("This draft was already decided by %(who)s at %(when)s.")
    return DraftAlreadyDecided(said.get(draft.status, fallback) % {"who": who, "when": when})


@transaction.atomic
def draft_send(
    *,
    draft_id: int,
    actor: AbstractBaseUser,
    text: str | None = None,
    reason: str = "",
    automatic: bool = False,
) -> Message:
    """Approve (text None or unchanged) or edit-and-send a draft. Exactly once: the draft row
    is locked and must still be proposed; the second of two concurrent approvals fails.
    `reason` is what the agent said was wrong with the draft (FeedbackEvent.EditReason), kept
    with an edit. `automatic`: the auto-send account sends it (replies.autosend)."""
    if reason and reason not in FeedbackEvent.EditReason.values:
        raise ValueError(gettext("Choose why you changed the draft from the list."))
    draft = Draft.objects.select_for_update().get(pk=draft_id)
    if draft.status != Draft.Status.PROPOSED:
        raise _already_decided(draft)
    final = draft.text if text is None else text.strip()
    if not final:
        raise ValueError(gettext("The reply is empty."))
    reply_check(ticket=Ticket.objects.get(pk=draft.ticket_id), actor=actor)
    now = timezone.now()
    claimed = Draft.objects.filter(pk=draft.pk, status=Draft.Status.PROPOSED).update(
        status=Draft.Status.SENT, decided_by=actor, decided_at=now
    )
    if not claimed:  # databases without row locks still decide exactly once here
        draft.refresh_from_db()
        raise _already_decided(draft)
    ticket = Ticket.objects.select_for_update().get(pk=draft.ticket_id)
    outbound = _outbound_queue(ticket=ticket, actor=actor, text=final)
    Draft.objects.filter(pk=draft.pk).update(sent_message=outbound)
    edited = final != draft.text.strip()
    feedback_record(
        kind="draft_edited" if edited else "draft_approved",
        actor=actor,
        ticket=ticket,
        draft=draft,
        before={"text": draft.text},
        after={"text": final},
        diff=text_diff(draft.text, final) if edited else "",
        reason=reason if edited else "",
        automatic=automatic,
    )
    _answer_confirmed(draft)
    if not automatic and not edited:
        gap_withdraw(message_id=draft.in_reply_to_id)
    if not automatic:
        facts = edited and reason == FeedbackEvent.EditReason.WRONG_FACTS
        _gap_reply_note(
            message_id=draft.in_reply_to_id,
            reason=KnowledgeGap.Reason.FACTS_REWRITTEN if facts else "",
        )
    return outbound


def _gap_reply_note(*, message_id: int, reason: str) -> None:
    """Runs inside the caller's transaction: after commit, a person's reply to `message_id`
    makes it a knowledge gap (`reason`), or adds to its gap's proposed answer (replies.gaps)."""
    if reason or KnowledgeGap.objects.filter(message_id=message_id).exists():
        enqueue_on_commit("replies.tasks.gap_from_agent", message_id, reason)


def _answer_confirmed(draft: Draft) -> None:
    """A person sent a reply that quotes an article: the customer's message is an example of
    the question that article answers, for the answer model's next training run."""
    if not draft.citations:
        return
    article = Article.objects.filter(pk=draft.citations[0]["article_id"]).first()
    if article is None:
        return
    message = draft.in_reply_to
    examples_import(
        target=LabelledExample.Target.ANSWER,
        rows=[(f"{draft.ticket.subject}\n{message.body_text}", answer_label(article))],
        source=LabelledExample.Source.CORRECTION,
    )


def _outbound_queue(*, ticket: Ticket, actor: AbstractBaseUser, text: str) -> Message:
    """Runs inside the caller's transaction with the ticket row locked: the reply is written
    as queued with the ticket's new state, and delivered by the worker after commit."""
    outbound = Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text=text,
        author_user=actor,
        **outbox_entry_fields(),
    )
    takeover_record(reply=outbound)
    fields = ticket_status_change(ticket, Ticket.Status.WAITING)
    if ticket.assignee_id is None:
        ticket.assignee = actor
        fields.append("assignee")
    ticket_touch(ticket, *fields)
    outbox_enqueue_on_commit(outbound)
    return outbound


@transaction.atomic
def reply_send_manual(*, ticket_id: int, actor: AbstractBaseUser, text: str) -> Message:
    """An agent writes the reply themselves (no draft, e.g. when the AI failed)."""
    text = text.strip()
    if not text:
        raise ValueError(gettext("The reply is empty."))
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    reply_check(ticket=ticket, actor=actor)
    proposed = Draft.objects.filter(ticket=ticket, status=Draft.Status.PROPOSED)
    set_aside = list(proposed.values_list("pk", "in_reply_to_id"))
    outcome_drafts_rejected(draft_ids=[pk for pk, _ in set_aside], actor=actor)
    proposed.update(status=Draft.Status.SUPERSEDED)
    outbound = _outbound_queue(ticket=ticket, actor=actor, text=text)
    # The agent wrote the answer instead of the draft: the knowledge base did not have it.
    for _, message_id in set_aside:
        _gap_reply_note(message_id=message_id, reason=KnowledgeGap.Reason.AGENT_ANSWERED)
    return outbound


@transaction.atomic
def draft_escalate(*, draft_id: int, actor: AbstractBaseUser, reason: str) -> Draft:
    draft = Draft.objects.select_for_update().get(pk=draft_id)
    if draft.status != Draft.Status.PROPOSED:
        raise _already_decided(draft)
    draft.status = Draft.Status.ESCALATED
    draft.decided_by = actor
    draft.decided_at = timezone.now()
    draft.save(update_fields=["status", "decided_by", "decided_at"])
    ticket = Ticket.objects.select_for_update().get(pk=draft.ticket_id)
    reason = reason.strip() or "Escalated by an agent"
    escalation_raise(ticket=ticket, reason=f"{reason} (by {actor.get_username()})", actor=actor)
    feedback_record(
        kind="escalated", actor=actor, ticket=ticket, draft=draft,
        before={"text": draft.text}, note=reason,
    )  # fmt: skip
    return draft
