"""Where drafting and agents show that the knowledge base lacks an answer, and what happens
when an admin adds it.

Three signals make a customer's message a knowledge gap (knowledge.KnowledgeGap), each once:
the draft found no article that answers it, or only a weak match; an agent set the draft aside
and wrote the answer themselves; an agent corrected the draft's facts. Only a message that asks
something becomes a gap: thanks, a complaint that asks nothing, and probes (markup, "test")
never do. The question is kept without personal data, and its meaning vector (centred on its
language) clusters it with the same question asked before, in any language.

When an admin publishes the cluster's answer (or merges it into an article), the customers'
own questions teach the answer model that article, as do the answer examples that taught "no
answer" to the same question (they would join the cluster as gaps); the cluster's tickets still
waiting for an answer get a new draft from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction

from knowledge.engine.gaps import (
    WORDS,
    ClusterView,
    best_cluster,
    question_of,
    topic_of,
    without_personal_data,
)
from knowledge.gaps import gap_record
from knowledge.models import FAQSuggestion, KnowledgeGap
from replies.models import Draft
from supportdesk.language import detect_language
from supportdesk.models import Message, Ticket
from supportdesk.queue import enqueue_on_commit
from triage.answers import meaning_vector
from triage.engine.reading import new_text
from triage.models import LabelledExample, TriageResult
from triage.services import examples_import
from triage.training import OUT_OF_SCOPE_LABEL, answer_label, model_train

logger = logging.getLogger(__name__)

# Below this, the article a draft cites is a weak match: the draft still offers it, and the
# question is counted as a gap for an admin to look at, until an agent sends the draft as
# written (then the article did answer it, and the gap is withdrawn). The answer model's
# confidence is a calibrated probability; word matching's score is not, and is not judged this
# way. On the realistic tickets of bench/first_pass.py, half of the questions the knowledge base
# cannot answer that the demo's answer model still matched to an article scored below 0.8,
# against 7 % of the questions it matched to the right article.
WEAK_ANSWER_CONFIDENCE = 0.8


@dataclass(frozen=True)
class GapQuestion:
    """A message's question, ready to record: read outside any transaction (embedding a text
    takes tens of milliseconds, too long to hold the ticket's row lock)."""

    question: str
    language: str
    vector: np.ndarray | None
    vector_model: str


def gap_question(message: Message, *, language: str = "") -> GapQuestion | None:
    """The question `message` asks, without personal data, with the meaning of the whole
    message (the question's own words often leave out what it is about); None when it asks
    nothing a knowledge-base article could answer."""
    ticket = message.ticket
    first = not Message.objects.filter(
        ticket_id=ticket.pk, direction=Message.Direction.INBOUND, created_at__lt=message.created_at
    ).exists()
    subject = ticket.subject if first else ""
    # What the customer just wrote, as triage read it: not the quoted earlier mail.
    body = new_text(message.body_text)
    asked = question_of(subject, body)
    if not asked:
        return None
    customer = ticket.customer
    question = without_personal_data(asked, names=[customer.name], email=customer.email)
    topic = without_personal_data(
        topic_of(subject, body), names=[customer.name], email=customer.email
    )
    language = language or _language_of(message)
    vector, model = meaning_vector(topic, language)
    return GapQuestion(question=question, language=language, vector=vector, vector_model=model)


def _language_of(message: Message) -> str:
    triage = TriageResult.objects.filter(message=message).only("language").first()
    return triage.language if triage else (message.ticket.language or "en")


def gap_keep(
    *,
    message: Message,
    asked: GapQuestion,
    reason: str,
    article_id: int | None = None,
    score: float | None = None,
) -> KnowledgeGap:
    """Runs inside the caller's transaction."""
    return gap_record(
        message=message,
        reason=reason,
        question=asked.question,
        language=asked.language,
        vector=asked.vector,
        vector_model=asked.vector_model,
        article_id=article_id,
        score=score,
    )


def gap_from_agent(*, message_id: int, reason: str = "") -> KnowledgeGap | None:
    """An agent replied to `message_id`. With a `reason` (they wrote the answer by hand, or
    corrected the draft's facts) the knowledge base did not have the answer: the message
    becomes a gap. A message with a gap already keeps it, and its suggestion's proposed answer
    is read again with this reply in it. Runs after the reply is committed."""
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    existing = KnowledgeGap.objects.filter(message=message).select_related("suggestion").first()
    if existing is not None:
        if existing.suggestion.status == FAQSuggestion.Status.PENDING:
            enqueue_on_commit("knowledge.tasks.suggestion_refresh", existing.suggestion_id)
        return existing
    asked = gap_question(message) if reason else None
    if asked is None:
        return None
    with transaction.atomic():
        return gap_keep(message=message, asked=asked, reason=reason)


def _no_answer_examples_asking(suggestion: FAQSuggestion) -> list[int]:
    """The answer examples labelled "no answer" that would have joined `suggestion`'s cluster
    as gaps: they ask the question its article now answers."""
    cluster = ClusterView(
        id=suggestion.pk,
        vector_model=suggestion.vector_model,
        centroids=suggestion.centroid.get("vectors", {}),
        words=suggestion.centroid.get("words", {}),
    )
    examples = LabelledExample.objects.filter(
        target=LabelledExample.Target.ANSWER, label=OUT_OF_SCOPE_LABEL
    ).values_list("pk", "text")
    languages = list(settings.SUPPORTED_LANGUAGES) or ["en"]
    asking = []
    for pk, text in examples:
        topic = topic_of("", text)
        if not topic:
            continue
        language, _ = detect_language(topic, candidates=languages)
        vector, model = (
            meaning_vector(topic, language) if suggestion.vector_model != WORDS else (None, "")
        )
        match = best_cluster(
            language=language,
            vector=vector,
            vector_model=model if vector is not None else WORDS,
            question=topic,
            clusters=[cluster],
        )
        if match is not None:
            asking.append(pk)
    return asking


# Tickets whose latest customer message is in the cluster and still has only a proposed draft:
# a person has not answered it yet, so a new draft from the new article helps.
WAITING = (Ticket.Status.NEW, Ticket.Status.OPEN)
MAX_REDRAFTS = 200


def suggestion_published(*, suggestion_id: int) -> list[int]:
    """After an admin published (or merged) the suggestion's answer: teach the answer model
    its customers' questions, train it, and draft again the replies of the cluster's tickets
    still waiting. Returns the drafts written. Runs in the worker, outside any transaction."""
    from replies.services import draft_refresh

    suggestion = FAQSuggestion.objects.select_related("article").get(pk=suggestion_id)
    article = suggestion.article
    if article is None or not article.published:
        return []
    gaps = list(
        KnowledgeGap.objects.filter(suggestion=suggestion)
        .select_related("message", "ticket")
        .order_by("-created_at")[:MAX_REDRAFTS]
    )
    label = answer_label(article)
    rows = [(f"{gap.ticket.subject}\n{gap.message.body_text}", label) for gap in gaps]
    if rows and LabelledExample.objects.filter(target=LabelledExample.Target.ANSWER).exists():
        # Only where drafts already read the answer model: without one they match words.
        examples_import(
            target=LabelledExample.Target.ANSWER,
            rows=rows,
            source=LabelledExample.Source.REALISTIC,
        )
        # Examples that taught "the KB has no answer" to this very question are wrong now:
        # left as they are, they outweigh the cluster's few questions and the model keeps
        # answering "no answer" to the next customer who asks it.
        LabelledExample.objects.filter(pk__in=_no_answer_examples_asking(suggestion)).update(
            label=label
        )
        has_no_answer = LabelledExample.objects.filter(
            target=LabelledExample.Target.ANSWER, label=OUT_OF_SCOPE_LABEL
        ).exists()
        model_train(target="answer", oos_label=OUT_OF_SCOPE_LABEL if has_no_answer else None)
    drafts = []
    for gap in gaps:
        if gap.ticket.status not in WAITING or gap.ticket.merged_into_id:
            continue
        latest = (
            Message.objects.filter(ticket_id=gap.ticket_id)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if latest != gap.message_id:
            continue  # someone answered, or the customer wrote again (that has its own draft)
        if not Draft.objects.filter(in_reply_to_id=gap.message_id, status=Draft.Status.PROPOSED):
            continue
        try:
            draft = draft_refresh(message_id=gap.message_id)
        except Exception:  # one ticket's failure must not stop the others
            logger.exception("could not draft ticket %s again", gap.ticket_id)
            continue
        if draft is not None:
            drafts.append(draft.pk)
    return drafts
