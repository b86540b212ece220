"""Writes for knowledge gaps: the customer messages the knowledge base had no good answer for,
clustered by meaning into FAQ suggestions, and each suggestion's proposed entry read again
from its newest gaps and the replies agents wrote to them."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from knowledge.engine import faq, faq_llm
from knowledge.engine.gaps import (
    WORDS,
    ClusterView,
    best_cluster,
    cluster_add,
    without_personal_data,
)
from knowledge.models import Article, FAQSuggestion, KnowledgeGap
from knowledge.selectors import kb_index
from supportdesk.llm.attempt import llm_attempt
from supportdesk.models import Message
from supportdesk.queue import enqueue_on_commit

# A new gap is compared with the suggestions that had a gap in this many days, newest first, at
# most this many: a question asked again after months starts a fresh suggestion.
CANDIDATE_DAYS = 90
CANDIDATES = 500


def gap_record(
    *,
    message: Message,
    reason: str,
    question: str,
    language: str,
    vector: np.ndarray | None,
    vector_model: str,
    article_id: int | None = None,
    score: float | None = None,
) -> KnowledgeGap:
    """Runs inside the caller's transaction. Keep `message` as a gap in the knowledge base and
    add it to the suggestion that asks the same (pending or rejected: a rejected one keeps
    counting, quietly), or start a new suggestion. `question` is the customer's question with
    personal data removed; `vector` its meaning (None: matched on words). One gap per message:
    a second signal for the same message returns the first gap."""
    existing = KnowledgeGap.objects.filter(message=message).first()
    if existing is not None:
        return existing
    model = vector_model if vector is not None else WORDS
    now = timezone.now()
    candidates = (
        FAQSuggestion.objects.filter(
            status__in=[FAQSuggestion.Status.PENDING, FAQSuggestion.Status.REJECTED],
            vector_model=model,
            last_gap_at__gte=now - timedelta(days=CANDIDATE_DAYS),
        )
        .order_by("-last_gap_at")
        .only("pk", "vector_model", "centroid")[:CANDIDATES]
    )
    match = best_cluster(
        language=language,
        vector=vector,
        vector_model=model,
        question=question,
        clusters=(
            ClusterView(
                id=c.pk,
                vector_model=c.vector_model,
                centroids=c.centroid.get("vectors", {}),
                words=c.centroid.get("words", {}),
            )
            for c in candidates
        ),
    )
    if match is not None:
        suggestion = FAQSuggestion.objects.select_for_update().get(pk=match.cluster_id)
    else:
        suggestion = FAQSuggestion.objects.create(
            question=question,
            language=language,
            source_ticket_id=message.ticket_id,
            vector_model=model,
            centroid={},
            last_gap_at=now,
        )
    centroid = suggestion.centroid or {}
    vectors, words = centroid.setdefault("vectors", {}), centroid.setdefault("words", {})
    cluster_add(vectors, words, language=language, vector=vector, question=question)
    languages = centroid.setdefault("languages", {})
    languages[language] = languages.get(language, 0) + 1
    suggestion.centroid = centroid
    suggestion.language = _article_language(languages, current=suggestion.language)
    suggestion.last_gap_at = now
    suggestion.gap_count = F("gap_count") + 1
    suggestion.save(update_fields=["centroid", "language", "last_gap_at", "gap_count"])
    gap = KnowledgeGap.objects.create(
        suggestion=suggestion,
        ticket_id=message.ticket_id,
        message=message,
        reason=reason,
        question=question,
        language=language,
        article_id=article_id,
        score=score,
    )
    if suggestion.status == FAQSuggestion.Status.PENDING:
        enqueue_on_commit("knowledge.tasks.suggestion_refresh", suggestion.pk)
    return gap


def _article_language(languages: dict[str, int], *, current: str) -> str:
    """The language most of the cluster's customers wrote in. On a tie, the desk's own
    language, then the one the suggestion had: never whichever question the worker happened
    to read first, which would title the entry in one language and answer it in another."""
    most = max(languages.values())
    tied = [code for code, count in languages.items() if count == most]
    for preferred in (settings.LANGUAGE_CODE, current):
        for code in tied:
            if code.lower() == preferred.lower():
                return code
    return tied[0]


# The newest gaps of a suggestion read for its question and proposed answer.
SOURCES_READ = 50
# Share of the suggestion's words an article must use to be flagged as a possible duplicate.
DUPLICATE_OVERLAP = 0.6


def suggestion_refresh(*, suggestion_id: int) -> FAQSuggestion | None:
    """Read a pending suggestion's question, title and proposed answer again from its newest
    gaps and the replies agents wrote to them, and flag the articles it may duplicate or
    contradict. What an admin wrote (the answer and title) is kept. None when it is no longer
    pending."""
    suggestion = FAQSuggestion.objects.filter(
        pk=suggestion_id, status=FAQSuggestion.Status.PENDING
    ).first()
    if suggestion is None:
        return None
    gaps = list(
        KnowledgeGap.objects.filter(suggestion=suggestion)
        .select_related("ticket__customer", "message")
        .order_by("-created_at")[:SOURCES_READ]
    )
    if not gaps:
        return suggestion
    language = suggestion.language
    main = [g for g in gaps if g.language == language] or gaps
    question = main[faq.most_typical([g.question for g in main], language)].question
    fields = {"question": question}
    if suggestion.answer_source != FAQSuggestion.AnswerSource.PERSON:
        answers = _answers_from_replies(gaps)
        in_language = [text for lang, text in answers if lang == language]
        pool = in_language or [text for _, text in answers]
        answer = pool[faq.most_typical(pool, language)] if pool else ""
        fields.update(
            title=faq.title_from_question(question),
            proposed_answer=answer,
            answer_source=FAQSuggestion.AnswerSource.AGENTS if answer else "",
        )
        written = _entry_by_model(
            questions=[question, *(g.question for g in gaps if g.question != question)],
            replies=[text for _, text in answers],
            language=language,
        )
        if written is not None:
            fields.update(
                title=written.title,
                proposed_answer=written.answer,
                answer_source=FAQSuggestion.AnswerSource.LLM,
            )
    answer = fields.get("proposed_answer", suggestion.proposed_answer)
    fields["flags"] = _flags(suggestion, gaps, question=question, answer=answer)
    with transaction.atomic():
        # Only while still pending: an admin may have approved it since this began.
        FAQSuggestion.objects.filter(pk=suggestion.pk, status=FAQSuggestion.Status.PENDING).update(
            **fields
        )
    suggestion.refresh_from_db()
    return suggestion


def _answers_from_replies(gaps: list[KnowledgeGap]) -> list[tuple[str, str]]:
    """(language, answer) from the first reply a person wrote after each gap's message,
    without personal data (the customer's and the agent's names, e-mails, order numbers)."""
    after = {g.ticket_id: g.message.created_at for g in gaps}
    replies = (
        Message.objects.filter(
            ticket_id__in=after,
            direction=Message.Direction.OUTBOUND,
            author_user__isnull=False,
            automatic=False,
        )
        .exclude(delivery_status=Message.Delivery.FAILED)
        .select_related("author_user")
        .order_by("created_at", "pk")
    )
    first: dict[int, Message] = {}
    for reply in replies:
        if reply.ticket_id not in first and reply.created_at >= after[reply.ticket_id]:
            first[reply.ticket_id] = reply
    answers = []
    for gap in gaps:
        reply = first.get(gap.ticket_id)
        if reply is None:
            continue
        agent = reply.author_user
        names = [gap.ticket.customer.name, agent.get_full_name(), agent.get_username()]
        clean = without_personal_data(
            reply.body_text, names=[n for n in names if n], email=gap.ticket.customer.email
        )
        text = faq.answer_from_reply(clean)
        if text:
            answers.append((gap.language, text))
    return answers


def _flags(
    suggestion: FAQSuggestion, gaps: list[KnowledgeGap], *, question: str, answer: str
) -> list[dict]:
    """Published articles the suggestion may duplicate (questions matched them weakly, or
    they use most of its words) or contradict (numbers of one unit that differ)."""
    weak = Counter(g.article_id for g in gaps if g.article_id)
    found = [p.article_id for p in kb_index().search(question, language=suggestion.language)]
    ids = list(dict.fromkeys([*weak, *found]))[:5]
    articles = Article.objects.filter(pk__in=ids, published=True).only("pk", "title", "body")
    flags = []
    for article in articles:
        text = f"{article.title}\n{article.body}"
        overlap = faq.word_overlap(f"{question}\n{answer}", text, suggestion.language)
        if weak[article.pk]:
            detail = gettext("%(count)s of its questions were matched to this article weakly.") % {
                "count": weak[article.pk]
            }
            flags.append(_flag("duplicate", article, detail))
        elif overlap >= DUPLICATE_OVERLAP:
            flags.append(_flag("duplicate", article, gettext("Uses most of the same words.")))
        for c in faq.contradictions(answer, text) if answer else []:
            detail = gettext("The answer says %(ours)s (%(unit)s); the article says %(theirs)s.")
            flags.append(
                _flag(
                    "contradiction",
                    article,
                    detail % {"ours": c.answer_says, "theirs": c.article_says, "unit": c.unit},
                )
            )
    return flags


def _flag(kind: str, article: Article, detail: str) -> dict:
    return {"kind": kind, "article_id": article.pk, "title": article.title, "detail": detail}


def _entry_by_model(
    *, questions: list[str], replies: list[str], language: str
) -> faq_llm.FaqEntry | None:
    """The entry written by the language model when the installation uses one for drafts and
    agents have replied; None otherwise, or when its answer was unusable (the extractive
    answer stands). Runs outside any transaction: the call must not hold a row lock."""
    if not replies:
        return None

    def ask(client, redactor, on_call):
        engine = faq_llm.LLMFaqEngine(client)
        return engine.write(
            questions=questions,
            replies=replies,
            language=language,
            redactor=redactor,
            on_call=on_call,
        )

    text = "\n".join([*questions, *replies])
    attempt = llm_attempt(purpose="faq", ticket=None, text=text, call=ask)
    return attempt.answer


def gap_withdraw(*, message_id: int) -> bool:
    """Runs inside the caller's transaction. A person sent the draft that answered
    `message_id` from a weakly matched article as written: the article did answer it, so its
    weak-answer gap no longer counts (a suggestion left with none is removed while pending).
    Other gaps stay. Whether a gap was withdrawn."""
    gap = (
        KnowledgeGap.objects.select_related("suggestion")
        .filter(message_id=message_id, reason=KnowledgeGap.Reason.WEAK_ANSWER)
        .first()
    )
    if gap is None:
        return False
    suggestion = FAQSuggestion.objects.select_for_update().get(pk=gap.suggestion_id)
    gap.delete()
    remaining = suggestion.gaps.count()
    if not remaining and suggestion.status == FAQSuggestion.Status.PENDING:
        suggestion.delete()
        return True
    languages = (suggestion.centroid or {}).get("languages", {})
    if languages.get(gap.language, 0) > 0:
        languages[gap.language] -= 1
    suggestion.gap_count = remaining
    suggestion.save(update_fields=["gap_count", "centroid"])
    return True
