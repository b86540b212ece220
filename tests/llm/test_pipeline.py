"""The whole loop on a language model: triage and drafting through the real SDK against a
loopback server, with redaction, fallback, budgets and the ledger."""

from __future__ import annotations

import pytest

from replies.models import Draft
from supportdesk.llm.models import LLMCall, LLMSettings
from supportdesk.models import Ticket
from supportdesk.tasks import process_message
from tests.factories import CustomerFactory, MessageFactory, TicketFactory
from tests.openai_server import Behaviour, answer
from triage.engine.types import EMOTIONS
from triage.models import RoutingDecision, TriageResult

pytestmark = pytest.mark.django_db

QUESTION = "How long does standard delivery take for my order? I need the delivery times."


def inbound(body: str = QUESTION, *, name: str = "Ana Souza", email: str = "ana.souza@example.org",
            subject: str = "Delivery times"):  # fmt: skip
    customer = CustomerFactory(name=name, email=email)
    ticket = TicketFactory(customer=customer, subject=subject, status=Ticket.Status.NEW)
    return MessageFactory(ticket=ticket, body_text=body)


def settings_row(**fields) -> LLMSettings:
    row, _ = LLMSettings.objects.get_or_create(pk=1)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


@pytest.fixture
def desk(stub_triage, demo_kb):
    """A calm, routine "delivery" ticket to the local engine; the demo knowledge base."""
    return stub_triage(category="delivery", engine="local", engine_version="category:v1")


def test_without_an_llm_configured_nothing_changes(desk, settings):
    settings.LLM_BASE_URL = ""
    message = inbound()
    process_message(message.pk)
    assert TriageResult.objects.get(message=message).engine == "local"
    assert Draft.objects.get(in_reply_to=message).engine == "local"
    assert not LLMCall.objects.exists()


def test_triage_and_draft_come_from_the_llm_and_each_call_is_on_the_books(desk, llm, categories):
    llm.model.category = "shipping_address"
    settings_row(price_input_per_million=1, price_output_per_million=2)
    message = inbound()
    process_message(message.pk)

    triage = TriageResult.objects.get(message=message)
    assert (triage.engine, triage.category) == ("llm", "shipping_address")
    assert Ticket.objects.get(pk=message.ticket_id).category.slug == "shipping_address"
    schema = llm.calls("triage")[0].schema
    assert schema["properties"]["category"]["enum"] == sorted(categories) + [None]
    assert schema["properties"]["emotion"]["enum"] == list(EMOTIONS)

    draft = Draft.objects.get(in_reply_to=message)
    assert draft.engine == "llm" and draft.grounded
    assert "[1]" in draft.text and draft.citations[0]["title"] == "Delivery times and options"
    calls = list(LLMCall.objects.filter(ticket_id=message.ticket_id).order_by("created_at"))
    assert [(c.purpose, c.outcome) for c in calls] == [("triage", "ok"), ("draft", "ok")]
    assert all(c.tokens_in == 100 and c.tokens_out == 20 for c in calls)
    assert float(calls[0].cost) == pytest.approx((100 * 1 + 20 * 2) / 1_000_000)


def test_no_personal_data_reaches_the_model(desk, llm):
    body = (
        f"{QUESTION} This is Ana Souza (ana.souza@example.org, backup ana.s@mail.example), "
        "+1 415-555-0199, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, "
        "SSN 123-45-6789, 221B Baker Street. 我的手機0987654321，身分證A123456789。"
    )
    message = inbound(body, subject="Delivery for Ana Souza")
    process_message(message.pk)
    seeded = [
        "Ana", "Souza", "ana.souza@example.org", "ana.s@mail.example", "415-555-0199",
        "4111 1111 1111 1111", "DE89 3704", "123-45-6789", "221B Baker Street", "0987654321",
        "A123456789",
    ]  # fmt: skip
    assert llm.calls("triage")
    for request in llm.requests:
        for value in seeded:
            assert value not in request.text, value


def test_the_draft_gets_the_redacted_values_back(desk, llm):
    message = inbound(f"{QUESTION} Please write to ana.souza@example.org. Thanks, Ana Souza")
    process_message(message.pk)
    draft_request = llm.calls("draft")[0]
    assert "Ana" not in draft_request.text and "ana.souza@" not in draft_request.text
    draft = Draft.objects.get(in_reply_to=message)
    assert draft.engine == "llm"
    assert "I have noted, Ana Souza, that updates should go to ana.souza@example.org." in draft.text
    assert "<NAME_" not in draft.text and "<EMAIL_" not in draft.text


def test_redaction_follows_the_installations_choice(desk, llm):
    settings_row(redact_kinds=["email"])
    process_message(inbound("Delivery times? Phone +1 415-555-0199", name="Ana Souza").pk)
    assert "415-555-0199" in llm.calls("triage")[0].text


def test_an_invented_category_is_asked_again_once_then_the_local_result_is_stored(
    desk, llm, supervisor_client
):
    llm.model.category = "vip_refund_now"
    message = inbound()
    process_message(message.pk)

    assert len(llm.calls("triage")) == 2
    triage = TriageResult.objects.get(message=message)
    assert (triage.engine, triage.category) == ("local", "delivery")
    assert "LLM fallback: off_schema" in triage.engine_version
    assert not TriageResult.objects.filter(category="vip_refund_now").exists()
    outcomes = LLMCall.objects.filter(purpose="triage").values_list("outcome", flat=True)
    assert list(outcomes) == ["off_schema", "off_schema"]
    page = supervisor_client.get(f"/tickets/{message.ticket_id}/").content.decode()
    assert "local (category:v1 · LLM fallback: off_schema)" in page  # the engine details


def test_a_second_answer_inside_the_list_is_used(desk, llm):
    invented = {
        "language": "en", "language_confidence": 0.97, "category": "free_money",
        "category_confidence": 1, "emotion": "neutral", "emotion_confidence": 1,
    }  # fmt: skip
    llm.push(answer(invented))
    message = inbound()
    process_message(message.pk)
    assert TriageResult.objects.get(message=message).engine == "llm"


FAILURES = {
    "timeout": [Behaviour(hang=10)],
    "unavailable": [Behaviour(status=500), Behaviour(status=503)],
    "rejected": [Behaviour(status=400, error="model not found")],
    "invalid_output": [answer("I think it is about delivery."), answer("{not json")],
}


@pytest.mark.parametrize("outcome", FAILURES)
def test_triage_falls_back_to_the_local_engine_and_says_why(desk, llm, outcome):
    settings_row(timeout_seconds=0.3, max_retries=1, use_for_drafts=False)
    llm.push(*FAILURES[outcome])
    message = inbound()
    process_message(message.pk)
    triage = TriageResult.objects.get(message=message)
    assert triage.engine == "local"
    assert f"LLM fallback: {outcome}" in triage.engine_version
    assert Ticket.objects.get(pk=message.ticket_id).needs_manual_triage is False
    assert LLMCall.objects.filter(purpose="triage", outcome=outcome).exists()


# A 200 whose body is no chat completion at all: a proxy's HTML page, plain text, a JSON
# document of another shape. Each must fall back exactly as a 500 does.
NOT_A_COMPLETION = {
    "html page": Behaviour(raw_body=b"<html><body>Gateway says hi</body></html>",
                           content_type="text/html"),
    "plain text": Behaviour(raw_body=b"upstream busy, try later", content_type="text/plain"),
    "truncated json": Behaviour(raw_body=b'{"id": "chatcmpl-1", "choices": [{"mess'),
    "choices not a list": Behaviour(raw_body=b'{"choices": "none today"}'),
    "a bare list": Behaviour(raw_body=b"[]"),
    "choice without message": Behaviour(raw_body=b'{"choices": [{"message": null}]}'),
}  # fmt: skip


@pytest.mark.parametrize("body", NOT_A_COMPLETION)
def test_a_200_that_is_no_chat_completion_falls_back_for_triage_and_draft(desk, llm, body):
    settings_row(timeout_seconds=2, max_retries=0)
    # Triage asks once more after an unusable answer; drafting asks once.
    llm.push(*[NOT_A_COMPLETION[body]] * 3)
    message = inbound()
    process_message(message.pk)
    triage = TriageResult.objects.get(message=message)
    assert triage.engine == "local"
    assert "LLM fallback: invalid_output" in triage.engine_version
    assert Ticket.objects.get(pk=message.ticket_id).needs_manual_triage is False
    draft = Draft.objects.get(in_reply_to=message)
    assert draft.engine == "local" and "LLM fallback: invalid_output" in draft.engine_version
    assert LLMCall.objects.filter(outcome="invalid_output").count() == 3
    assert not llm.queue


@pytest.mark.parametrize("outcome", FAILURES)
def test_drafting_falls_back_to_the_local_engine_and_says_why(desk, llm, outcome):
    settings_row(timeout_seconds=0.3, max_retries=1, use_for_triage=False)
    llm.push(*FAILURES[outcome])
    message = inbound()
    process_message(message.pk)
    draft = Draft.objects.get(in_reply_to=message)
    assert draft.engine == "local" and draft.grounded
    assert f"LLM fallback: {outcome}" in draft.engine_version
    assert "Standard delivery: 3–5 business days" in draft.text


def test_a_draft_citing_a_passage_that_does_not_exist_is_not_used(desk, llm):
    settings_row(use_for_triage=False)
    llm.push(answer({"sentences": [{"text": "Delivery is free.", "source": "passage",
                                    "passages": [7]}]}))  # fmt: skip
    message = inbound()
    process_message(message.pk)
    assert Draft.objects.get(in_reply_to=message).engine == "local"


def test_the_ticket_budget_stops_calls_and_the_local_engine_answers(desk, llm):
    settings_row(calls_per_ticket=1)
    message = inbound()
    process_message(message.pk)
    assert len(llm.requests) == 1
    draft = Draft.objects.get(in_reply_to=message)
    assert draft.engine == "local"
    assert "LLM not used: ticket call budget (1) used" in draft.engine_version
    refusal = LLMCall.objects.get(purpose="draft")
    assert refusal.outcome == "budget_exhausted" and refusal.tokens_in == 0


def test_the_daily_token_budget_stops_calls_for_every_ticket(desk, llm):
    settings_row(tokens_per_day=240)  # two calls of 120 tokens
    process_message(inbound().pk)
    assert len(llm.requests) == 2
    later = inbound("When will my order arrive? Delivery times please.", email="b@example.org")
    process_message(later.pk)
    assert len(llm.requests) == 2
    assert "daily token budget" in TriageResult.objects.get(message=later).engine_version


def test_running_the_pipeline_again_makes_no_second_draft_and_no_second_call(desk, llm):
    message = inbound()
    process_message(message.pk)
    process_message(message.pk)
    assert Draft.objects.filter(in_reply_to=message).count() == 1
    assert TriageResult.objects.filter(message=message).count() == 1
    assert len(llm.requests) == 2


def test_a_settings_change_applies_to_the_next_ticket_without_a_restart(desk, llm):
    process_message(inbound().pk)
    settings_row(model="llama3.1:8b")
    process_message(inbound("Delivery times again?", email="c@example.org").pk)
    assert [r.body["model"] for r in llm.requests] == ["test-model"] * 2 + ["llama3.1:8b"] * 2
    settings_row(provider=LLMSettings.Provider.OFF)
    process_message(inbound("And the delivery times?", email="d@example.org").pk)
    assert len(llm.requests) == 4


def test_a_draft_with_an_unbacked_promise_is_flagged_shown_and_needs_a_human(
    desk, llm, agent_client
):
    settings_row(use_for_triage=False)
    backed = "Standard delivery takes 3–5 business days."
    unbacked = "As an apology we will refund your shipping fee."
    llm.push(answer({"sentences": [
        {"text": backed, "source": "passage", "passages": [1]},
        {"text": unbacked, "source": "courtesy", "passages": []},
    ]}))  # fmt: skip
    message = inbound()
    process_message(message.pk)
    draft = Draft.objects.get(in_reply_to=message)
    assert [f["kind"] for f in draft.promise_flags] == ["refund"]
    assert draft.blocks_auto_send
    assert Ticket.objects.get(pk=message.ticket_id).needs_human
    page = agent_client.get(f"/tickets/{message.ticket_id}/").content.decode()
    assert "<mark>refund</mark>" in page
    assert "will not be sent automatically" in page


def test_a_backed_llm_draft_carries_no_flags(desk, llm):
    message = inbound()
    process_message(message.pk)
    draft = Draft.objects.get(in_reply_to=message)
    assert draft.promise_flags == [] and not draft.blocks_auto_send
    decision = RoutingDecision.objects.get(ticket_id=message.ticket_id)
    assert decision.action == RoutingDecision.Action.AUTO_REPLY


def test_a_foreign_language_article_is_translated_in_the_locales_tone(stub_triage, demo_kb, llm):
    """The demo KB has no German articles: the model is told to translate the English one, in
    the German profile's register, and the draft is not marked untranslated."""
    from replies.engine.tone import profile_for

    stub_triage(category="delivery", language="de", engine="local", engine_version="v1")
    settings_row(use_for_triage=False)
    message = inbound(
        "Wie lange dauert die Lieferung? How long does standard delivery take, delivery times?",
        subject="Lieferzeiten",
    )
    process_message(message.pk)
    request = llm.calls("draft")[0]
    system = request.body["messages"][0]["content"]
    assert "Write in German" in system
    assert "translate what you use from them faithfully into German" in system
    assert profile_for("de").intro_answer in system
    draft = Draft.objects.get(in_reply_to=message)
    assert draft.engine == "llm" and draft.language == "de"
    assert draft.citations[0]["language"] == "en" and not draft.needs_translation
    assert draft.text.startswith(profile_for("de").greeting.format(name="Ana Souza"))
