"""Knowledge gaps found while drafting and from what agents do, clustered into FAQ suggestions;
publishing one drafts the waiting tickets again, citing the new article."""

from __future__ import annotations

import pytest

from knowledge.gaps import suggestion_refresh
from knowledge.models import Article, ArticleVersion, FAQSuggestion, KnowledgeGap
from knowledge.services import faq_suggestion_approve, faq_suggestion_merge
from replies.models import Draft
from replies.services import draft_create, draft_send, reply_send_manual
from supportdesk.models import Message, Ticket
from tests.factories import ArticleFactory, MessageFactory, TriageResultFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the services hand to the worker after commit, as the worker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def kb(db):
    return [
        ArticleFactory(
            title="Reset your password",
            body="Open the sign-in page and click Forgot password. We e-mail you a reset link "
            "that works for one hour. Check your spam folder if it does not arrive.",
        ),
        ArticleFactory(
            title="Change your delivery address",
            body="Open Orders, choose the order and click Change address before it ships. "
            "Once the parcel is dispatched the courier cannot redirect it.",
        ),
    ]


def _ask(subject: str, body: str, *, language: str = "en", name: str = "Dana Whitfield"):
    message = MessageFactory(
        ticket__subject=subject,
        ticket__customer__name=name,
        ticket__customer__email=f"{name.split()[0].lower()}@example.com",
        body_text=body,
    )
    TriageResultFactory(message=message, language=language)
    return message


WATCH = [
    ("Watch strap", "Does the leather watch strap fit an Apple Watch 45mm?? Order LM-204118", "en"),
    ("", "你們家那個編織錶帶適配 Apple Watch Series 9 41mm 嗎？", "zh-Hant"),
    ("", "A bracelete de pele serve no Apple Watch Series 8 de 45 mm?", "pt"),
]


def test_one_question_asked_in_three_languages_is_one_suggestion_without_personal_data(kb):
    for subject, body, language in WATCH:
        draft_create(message_id=_ask(subject, body, language=language).pk)

    suggestion = FAQSuggestion.objects.get()
    assert suggestion.gap_count == 3
    assert set(suggestion.centroid["languages"]) == {"en", "zh-Hant", "pt"}
    questions = list(KnowledgeGap.objects.values_list("question", flat=True))
    assert any("Apple Watch 45mm" in q for q in questions)
    assert not any("LM-204118" in q or "Dana" in q for q in questions)
    assert all(g.reason == KnowledgeGap.Reason.NO_ANSWER for g in KnowledgeGap.objects.all())


def test_a_tie_between_languages_is_written_in_the_desks_language_titled_without_greeting(
    kb, committed
):
    with committed():
        draft_create(message_id=_ask("", WATCH[1][1], language="zh-Hant").pk)
        draft_create(
            message_id=_ask(
                "Strap", "Hello, does the leather watch strap fit an Apple Watch 45mm?"
            ).pk
        )

    suggestion = FAQSuggestion.objects.get()
    assert suggestion.centroid["languages"] == {"zh-Hant": 1, "en": 1}
    assert suggestion.language == "en"
    assert suggestion.title == "Does the leather watch strap fit an Apple Watch 45mm?"


def test_different_questions_make_different_suggestions(kb):
    draft_create(message_id=_ask("Watch strap", WATCH[0][1]).pk)
    draft_create(
        message_id=_ask(
            "Jobs", "Are you hiring at your warehouse in New Jersey? Where can I send my CV?"
        ).pk
    )
    draft_create(
        message_id=_ask(
            "Lamp broke",
            "The desk lamp I bought in March stopped working. Is it under warranty, can you "
            "repair it?",
        ).pk
    )

    assert FAQSuggestion.objects.count() == 3


def test_a_question_is_clustered_by_what_the_whole_message_is_about(kb):
    """A question such as "how do I do that?" says nothing alone: the sentence before it says
    what is asked."""
    draft_create(
        message_id=_ask(
            "Closing my account",
            "I'm moving abroad and won't shop with you any more, so I want to close my account "
            "and have my personal data deleted. Could you tell me how to do that?",
        ).pk
    )
    draft_create(
        message_id=_ask(
            "退会について",
            "海外に引っ越すことになり、今後は利用できなくなりそうなので、アカウントを退会して個人"
            "情報も削除したいと思います。手続き方法を教えていただけますか。",
            language="ja",
            name="佐藤 由美",
        ).pk
    )
    draft_create(
        message_id=_ask(
            "Lamp broke",
            "The desk lamp I bought in March stopped working. Could you tell me how to get it "
            "repaired?",
        ).pk
    )

    assert FAQSuggestion.objects.count() == 2
    deletion = FAQSuggestion.objects.get(gap_count=2)
    assert set(deletion.centroid["languages"]) == {"en", "ja"}
    # What an admin reads is still the question the customer asked.
    assert "手続き方法を教えていただけますか" in KnowledgeGap.objects.get(language="ja").question


@pytest.mark.parametrize(
    "body, language",
    [
        (
            "Soy diseñadora de interiores. Me gustaría saber si tienen precio de mayoreo para "
            "profesionales.",
            "es",
        ),
        ("Je tiens une boutique. J'aimerais savoir si vous faites des prix de gros.", "fr"),
    ],
    ids=["es", "fr"],
)
def test_a_request_without_a_question_mark_is_a_gap(kb, body, language):
    draft_create(message_id=_ask("", body, language=language).pk)

    gap = KnowledgeGap.objects.get()
    assert "gros" in gap.question or "mayoreo" in gap.question


@pytest.mark.parametrize(
    "body",
    [
        "Got it, the refund just showed up on my card. Thanks heaps Jess!",
        "This is the worst shop I have ever dealt with. Never again.",
        "<script>alert('x')</script>",
        "test",
    ],
    ids=["thanks", "complaint-without-a-question", "markup", "test"],
)
def test_no_suggestion_from_thanks_complaints_or_probes(kb, body):
    draft_create(message_id=_ask("", body).pk)

    assert not FAQSuggestion.objects.exists()
    assert not KnowledgeGap.objects.exists()


def test_a_question_the_kb_answers_is_no_gap(kb):
    draft = draft_create(
        message_id=_ask("Password", "How do I reset my password? The reset link never came.").pk
    )

    assert draft.grounded
    assert not KnowledgeGap.objects.exists()


def test_an_agents_own_answer_is_a_gap_and_becomes_the_proposed_answer(kb, agent, committed):
    message = _ask("Gift wrap", "Do you offer gift wrapping for birthday presents?")
    draft_create(message_id=message.pk)
    suggestion = FAQSuggestion.objects.get()
    assert suggestion.proposed_answer == ""
    agent.first_name, agent.last_name = "Jess", "Moreno"
    agent.save()

    with committed():
        reply_send_manual(
            ticket_id=message.ticket_id,
            actor=agent,
            text="Hi Dana,\n\nThanks for reaching out!\n\nYes: tick “Gift wrap” at checkout and we "
            "wrap every item for $5, with a card for your message. Prices are left off the "
            "packing slip.\n\nBest,\nJess Moreno\nLumen Support",
        )

    suggestion.refresh_from_db()
    assert suggestion.answer_source == FAQSuggestion.AnswerSource.AGENTS
    assert suggestion.proposed_answer.startswith("Yes: tick “Gift wrap” at checkout")
    assert "Dana" not in suggestion.proposed_answer
    assert "Jess" not in suggestion.proposed_answer
    assert "Best" not in suggestion.proposed_answer


def test_an_agent_writing_the_answer_instead_of_a_weak_draft_raises_a_gap(kb, agent, committed):
    message = _ask("Pickup", "Can I pick up my order at your warehouse in Newark?")
    draft = draft_create(message_id=message.pk)
    KnowledgeGap.objects.all().delete()
    FAQSuggestion.objects.all().delete()

    with committed():
        reply_send_manual(
            ticket_id=message.ticket_id,
            actor=agent,
            text="We do not offer pickup at the warehouse; every order is delivered by courier.",
        )

    gap = KnowledgeGap.objects.get()
    assert (gap.message_id, gap.reason) == (message.pk, KnowledgeGap.Reason.AGENT_ANSWERED)
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SUPERSEDED


def test_correcting_a_drafts_facts_raises_a_gap(kb, agent, committed):
    message = _ask("Password", "How do I reset my password? The reset link never came.")
    draft = draft_create(message_id=message.pk)
    assert not KnowledgeGap.objects.exists()

    with committed():
        draft_send(
            draft_id=draft.pk,
            actor=agent,
            text="Reset links now work for 24 hours, and come from no-reply@lumen.example.",
            reason="wrong_facts",
        )

    assert KnowledgeGap.objects.get().reason == KnowledgeGap.Reason.FACTS_REWRITTEN


def test_approving_drafts_the_waiting_tickets_again_citing_the_new_article(
    kb, desk_admin, committed
):
    waiting = [
        _ask("Gift wrap", "Do you offer gift wrapping for a birthday present?", name="Ann Lee"),
        _ask("Gift wrap?", "Can you gift wrap my order please?", name="Bo Chan"),
    ]
    for message in waiting:
        draft_create(message_id=message.pk)
    suggestion = FAQSuggestion.objects.get()
    assert suggestion.gap_count == 2
    assert all(Ticket.objects.get(pk=m.ticket_id).needs_human for m in waiting)

    with committed():
        article = faq_suggestion_approve(
            suggestion_id=suggestion.pk,
            actor=desk_admin,
            title="Gift wrapping",
            answer="We gift wrap any order for $5: tick Gift wrap at checkout and add a card.",
            language="en",
        )

    for message in waiting:
        draft = Draft.objects.get(in_reply_to=message, status=Draft.Status.PROPOSED)
        assert draft.grounded
        assert [c["article_id"] for c in draft.citations] == [article.pk]
        assert "$5" in draft.text
    assert Draft.objects.filter(status=Draft.Status.SUPERSEDED).count() == 2
    assert article.versions.get().change == ArticleVersion.Change.CREATED


def test_a_ticket_someone_already_answered_is_not_drafted_again(kb, desk_admin, agent, committed):
    message = _ask("Gift wrap", "Do you offer gift wrapping for a birthday present?")
    draft_create(message_id=message.pk)
    reply_send_manual(ticket_id=message.ticket_id, actor=agent, text="Yes, for $5.")
    suggestion = FAQSuggestion.objects.get()

    with committed():
        faq_suggestion_approve(
            suggestion_id=suggestion.pk, actor=desk_admin, title="Gift wrapping", answer="Yes, $5."
        )

    assert not Draft.objects.filter(status=Draft.Status.PROPOSED).exists()
    assert Message.objects.filter(direction="out").count() == 1


def test_merging_adds_a_version_to_the_article_and_redrafts(kb, desk_admin, committed):
    message = _ask("Gift cards", "Do you sell gift cards? Can they be used in your stores?")
    draft_create(message_id=message.pk)
    suggestion = FAQSuggestion.objects.get()
    password = kb[0]

    with committed():
        faq_suggestion_merge(
            suggestion_id=suggestion.pk,
            article_id=password.pk,
            actor=desk_admin,
            answer="Ask for a new link on the sign-in page: each link works for one hour.",
        )

    password.refresh_from_db()
    assert password.version == 2
    assert "each link works for one hour" in password.body
    assert password.versions.get(number=2).change == ArticleVersion.Change.MERGED
    assert FAQSuggestion.objects.get().status == FAQSuggestion.Status.MERGED


def test_a_proposed_answer_that_contradicts_an_article_is_flagged(kb, agent, committed):
    message = _ask("Returns", "Can I return a sale item I bought last month? How many days?")
    draft_create(message_id=message.pk)
    suggestion = FAQSuggestion.objects.get()
    # Written after the question came in: the cluster's questions were matched to it weakly.
    returns = ArticleFactory(
        title="Returns", body="You can return any item within 30 days of delivery for a refund."
    )
    with committed():
        reply_send_manual(
            ticket_id=message.ticket_id,
            actor=agent,
            text="Sale items can be returned within 14 days of delivery.",
        )
    KnowledgeGap.objects.filter(suggestion=suggestion).update(article=returns)

    suggestion = suggestion_refresh(suggestion_id=suggestion.pk)

    kinds = {(f["kind"], f["article_id"]) for f in suggestion.flags}
    assert ("contradiction", returns.pk) in kinds
    detail = next(f["detail"] for f in suggestion.flags if f["kind"] == "contradiction")
    assert "14" in detail and "30" in detail
    assert Article.objects.count() == 3


def test_with_a_language_model_it_writes_the_entry_from_the_redacted_replies(
    kb, agent, committed, openai_server
):
    openai_server.model = lambda request: {
        "title": "Do you offer gift wrapping?",
        "answer": "Yes. Tick Gift wrap at checkout: we wrap each item for $5 and add your card.",
    }
    message = _ask("Gift wrap", "Do you offer gift wrapping for birthday presents?")
    draft_create(message_id=message.pk)
    openai_server.requests.clear()

    with committed():
        reply_send_manual(
            ticket_id=message.ticket_id,
            actor=agent,
            text="Hi Dana, yes! Tick Gift wrap at checkout, $5 per item. Order LM-204118 is "
            "not shipped yet, so I added it for you.",
        )

    suggestion = FAQSuggestion.objects.get()
    assert suggestion.answer_source == FAQSuggestion.AnswerSource.LLM
    assert suggestion.title == "Do you offer gift wrapping?"
    assert suggestion.proposed_answer.startswith("Yes. Tick Gift wrap at checkout")
    [request] = [r for r in openai_server.requests if r.schema_name == "faq_entry"]
    assert "Tick Gift wrap at checkout" in request.user_text
    assert "Dana" not in request.text and "LM-204118" not in request.text


def test_a_language_model_that_fails_leaves_the_agents_reply_as_the_answer(
    kb, agent, committed, openai_server
):
    openai_server.model = lambda request: "this is not JSON"
    message = _ask("Gift wrap", "Do you offer gift wrapping for birthday presents?")
    draft_create(message_id=message.pk)

    with committed():
        reply_send_manual(
            ticket_id=message.ticket_id,
            actor=agent,
            text="Yes: tick Gift wrap at checkout, $5 per item.",
        )

    suggestion = FAQSuggestion.objects.get()
    assert suggestion.answer_source == FAQSuggestion.AnswerSource.AGENTS
    assert suggestion.proposed_answer == "Yes: tick Gift wrap at checkout, $5 per item."


def test_a_weak_match_is_offered_and_counted_until_an_agent_sends_it_as_written(
    kb, agent, monkeypatch
):
    from triage.answers import AnswerPrediction

    delivery = kb[1]
    # The answer model (trained elsewhere) is unsure: the delivery article, at 0.62.
    monkeypatch.setattr(
        "replies.services.answer_predict",
        lambda text: AnswerPrediction(article_id=delivery.pk, confidence=0.62),
    )
    message = _ask("Address", "Can I change the address on my order before it ships?")

    draft = draft_create(message_id=message.pk)

    assert draft.grounded and draft.citations[0]["article_id"] == delivery.pk
    gap = KnowledgeGap.objects.get()
    assert (gap.reason, gap.article_id, gap.score) == ("weak_answer", delivery.pk, 0.62)
    assert FAQSuggestion.objects.get().gap_count == 1

    draft_send(draft_id=draft.pk, actor=agent)

    assert not KnowledgeGap.objects.exists()
    assert not FAQSuggestion.objects.exists()
