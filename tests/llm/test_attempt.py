"""Triage and drafting offer a message to the language model the same way: the same settings
check, injection screening, budgets, redaction, ledger and fallback notes, through the real SDK
against a loopback server."""

from __future__ import annotations

import pytest

from replies.models import Draft
from replies.services import draft_regenerate
from supportdesk.llm.attempt import INJECTION_NOTE, INJECTION_REASON
from supportdesk.llm.models import LLMCall
from supportdesk.models import Message, Ticket
from supportdesk.tasks import process_message
from tests.llm.injection_corpus import INJECTIONS
from tests.llm.test_pipeline import QUESTION, inbound, settings_row
from triage.models import RoutingDecision, RoutingRule, TriageResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(stub_triage, demo_kb):
    """A calm, routine "delivery" ticket to the local engine; the demo knowledge base."""
    return stub_triage(category="delivery", engine="local", engine_version="category:v1")


@pytest.fixture
def auto_send_delivery(categories):
    """An admin allowed auto-send for delivery questions and put an auto-send rule first."""
    categories["delivery"].auto_send = True
    categories["delivery"].save()
    RoutingRule.objects.create(
        position=1,
        name="Confident routine delivery questions: send",
        category_routine=True,
        emotions=["neutral", "positive"],
        confidence_at_least=0.9,
        action="auto_send",
    )


def test_drafting_never_sends_a_message_with_instructions_to_the_ai_to_the_model(desk, llm):
    settings_row(use_for_triage=False)  # only drafting would call the model
    problems = []
    for number, text in enumerate(INJECTIONS):
        message = inbound(f"{text}\n\n{QUESTION}", email=f"attacker{number}@example.org")
        process_message(message.pk)

        draft = Draft.objects.get(in_reply_to=message)
        ticket = Ticket.objects.get(pk=message.ticket_id)
        if draft.engine != "local":
            problems.append((text, "not the local engine's draft", draft.engine))
        # Without a passage to answer from the model is never asked: the holding reply stands.
        if draft.grounded and not draft.engine_version.endswith(f" · {INJECTION_NOTE}"):
            problems.append((text, "the draft does not say why", draft.engine_version))
        if not draft.blocks_auto_send or not ticket.needs_human:
            problems.append((text, "no human needed"))
    assert problems == []
    assert llm.requests == []
    assert not LLMCall.objects.exists()
    assert Draft.objects.filter(grounded=True).count() >= 30  # answered from the KB, locally


def test_a_message_with_instructions_to_the_ai_is_never_sent_automatically(
    desk, llm, auto_send_delivery
):
    settings_row(use_for_triage=False)
    ordinary = inbound()
    process_message(ordinary.pk)
    # The same desk answers an ordinary question on its own, from the model's draft …
    assert Draft.objects.get(in_reply_to=ordinary).engine == "llm"
    assert RoutingDecision.objects.get(ticket_id=ordinary.ticket_id).auto_send["allowed"]

    attack = inbound(f"{INJECTIONS[0]}\n\n{QUESTION}", email="attacker@example.org")
    process_message(attack.pk)
    # … but not one that tries to instruct the AI: a person reads it first.
    assert len(llm.calls("draft")) == 1
    verdict = RoutingDecision.objects.get(ticket_id=attack.ticket_id).auto_send
    assert verdict["allowed"] is False and INJECTION_REASON in verdict["blocked_by"]
    assert not Message.objects.filter(
        ticket_id=attack.ticket_id, direction=Message.Direction.OUTBOUND
    ).exists()
    assert Ticket.objects.get(pk=attack.ticket_id).needs_human


def test_a_regenerated_draft_is_screened_too(desk, llm, agent):
    settings_row(use_for_triage=False)
    message = inbound(f"{INJECTIONS[1]}\n\n{QUESTION}")
    process_message(message.pk)
    draft = Draft.objects.get(in_reply_to=message)

    again = draft_regenerate(draft_id=draft.pk, actor=agent, instruction="shorter")
    assert again.engine == "local" and again.engine_version.endswith(INJECTION_NOTE)
    assert again.blocks_auto_send
    assert llm.requests == []


def test_triage_and_drafting_keep_an_injection_from_the_model_alike(desk, llm):
    message = inbound(f"{INJECTIONS[13]}\n\n{QUESTION}")  # Spanish
    process_message(message.pk)
    triage = TriageResult.objects.get(message=message)
    draft = Draft.objects.get(in_reply_to=message)
    assert llm.requests == []
    assert triage.engine_version == f"category:v1 · {INJECTION_NOTE}"
    assert draft.engine_version.endswith(f" · {INJECTION_NOTE}")
    assert INJECTION_REASON in triage.needs_human_reasons and draft.blocks_auto_send


def test_triage_and_drafting_stop_alike_on_a_spent_budget(desk, llm):
    settings_row(calls_per_ticket=0)
    message = inbound()
    process_message(message.pk)
    assert llm.requests == []
    note = "LLM not used: ticket call budget (0) used"
    assert TriageResult.objects.get(message=message).engine_version == f"category:v1 · {note}"
    assert Draft.objects.get(in_reply_to=message).engine_version.endswith(f" · {note}")
    ledger = LLMCall.objects.filter(ticket_id=message.ticket_id).order_by("created_at")
    assert [(c.purpose, c.outcome, c.error, c.tokens) for c in ledger] == [
        ("triage", "budget_exhausted", "ticket call budget (0) used", 0),
        ("draft", "budget_exhausted", "ticket call budget (0) used", 0),
    ]


def test_triage_and_drafting_fall_back_alike_when_the_model_fails(desk, llm):
    settings_row(max_retries=0)
    llm.model = lambda request: "not json at all"
    message = inbound()
    process_message(message.pk)
    note = "LLM fallback: invalid_output"
    assert TriageResult.objects.get(message=message).engine_version.endswith(f" · {note}")
    assert Draft.objects.get(in_reply_to=message).engine_version.endswith(f" · {note}")
    outcomes = LLMCall.objects.filter(ticket_id=message.ticket_id).values_list("purpose", "outcome")
    # Triage asks once more after an unusable answer; drafting asks once.
    assert sorted(outcomes) == [("draft", "invalid_output")] + [("triage", "invalid_output")] * 2
