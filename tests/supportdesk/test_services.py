"""Desk services: intake, the AI pipeline it starts, failures that keep tickets visible,
API tokens and presence."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from knowledge.models import FAQSuggestion
from replies.models import Draft
from supportdesk import realtime
from supportdesk.inbox.selectors import InboxFilters, ticket_list_for_inbox
from supportdesk.inbox.ticket_page import Viewer, ticket_people
from supportdesk.models import ApiToken, Customer, Message, Ticket
from supportdesk.services import (
    api_token_authenticate,
    api_token_create,
    presence_join,
    presence_leave,
    ticket_create,
)
from tests.factories import CustomerFactory, TicketFactory
from triage.engine.types import EMOTIONS
from triage.models import RoutingDecision, TriageResult

pytestmark = pytest.mark.django_db

SEED_ZH_HANT = "我不知道怎麼取消自動續訂，我現在帳戶裡被扣了錢。"


def _create(**overrides) -> Ticket:
    fields = {
        "email": "maria@example.com",
        "name": "Maria Lopez",
        "subject": "Cancel auto-renewal",
        "body": "How do I turn off auto-renewal of Lumen Plus? I was charged for a renewal "
        "I did not want and would like a refund.",
        "channel": Ticket.Channel.WEB,
    }
    return ticket_create(**{**fields, **overrides})


# -- intake ------------------------------------------------------------------------------------


def test_ticket_create_keeps_customer_ticket_and_first_message():
    ticket = _create(email="  Maria@Example.COM ", subject="  Cancel auto-renewal  ", locale="es")

    assert ticket.customer.email == "maria@example.com"
    assert ticket.customer.name == "Maria Lopez"
    assert ticket.customer.locale == "es"
    assert ticket.subject == "Cancel auto-renewal"
    assert (ticket.status, ticket.urgency) == (Ticket.Status.NEW, Ticket.Urgency.UNKNOWN)
    message = ticket.messages.get()
    assert message.direction == Message.Direction.INBOUND
    assert message.body_text.startswith("How do I turn off auto-renewal")


def test_returning_customer_is_matched_by_email_and_only_missing_details_are_filled():
    known = CustomerFactory(email="maria@example.com", name="Maria", locale="")

    ticket = _create(email="MARIA@example.com", name="Someone Else", locale="es")

    assert ticket.customer == known
    known.refresh_from_db()
    assert (known.name, known.locale) == ("Maria", "es")
    assert Customer.objects.count() == 1


def test_customer_html_keeps_formatting_but_loses_scripts_and_handlers():
    ticket = _create(
        body_html='<p onclick="steal()">Hi <b>there</b></p><script>alert(1)</script>'
        '<a href="javascript:alert(2)" hx-post="/drafts/1/send/">link</a>'
    )

    html = ticket.messages.get().body_html
    assert "<b>there</b>" in html
    for dangerous in ("<script", "onclick", "javascript:", "hx-post"):
        assert dangerous not in html


def test_the_same_delivery_twice_does_not_open_a_second_ticket():
    _create(external_id="<abc@mail.example>")

    with pytest.raises(IntegrityError):
        _create(external_id="<abc@mail.example>", subject="Again")

    assert Ticket.objects.count() == 1


def test_new_ticket_is_announced_and_analysed_only_after_commit(
    stub_triage, sent_events, django_capture_on_commit_callbacks
):
    engine = stub_triage()

    with django_capture_on_commit_callbacks() as callbacks:
        ticket = _create()
        assert sent_events == []
        assert engine.seen == []

    for callback in callbacks:
        callback()
    assert (realtime.TICKET_CREATED, ticket.pk) in sent_events
    assert engine.seen == [ticket.messages.get().body_text]
    assert TriageResult.objects.filter(ticket=ticket).exists()


# -- the pipeline with the real engine ---------------------------------------------------------


def test_new_ticket_is_triaged_routed_and_drafted_from_the_kb(
    triage_engine, demo_kb, categories, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create()

    ticket.refresh_from_db()
    triage = TriageResult.objects.get(ticket=ticket)
    assert triage.language == "en"
    assert 0 < triage.language_confidence <= 1
    assert triage.category in categories
    assert 0 < triage.category_confidence <= 1
    assert triage.emotion in EMOTIONS
    assert 0 <= triage.emotion_confidence <= 1
    assert triage.engine == "local"
    assert ticket.category == categories[triage.category]
    assert ticket.urgency != Ticket.Urgency.UNKNOWN
    assert ticket.status == Ticket.Status.OPEN
    routing = RoutingDecision.objects.get(ticket=ticket)
    assert routing.action in RoutingDecision.Action.values
    assert routing.reasons and all(isinstance(r, str) and r for r in routing.reasons)
    draft = Draft.objects.get(ticket=ticket)
    renewal = demo_kb["lumen-plus-cancel-renewal"]
    assert draft.grounded
    assert draft.citations[0]["article_id"] == renewal.pk
    assert renewal in draft.cited_articles.all()
    assert "turn off auto-renewal" in draft.text.lower()
    assert "The Lumen Support Team" in draft.text  # signed once, not "Lumen Support Support"
    assert not ticket.needs_manual_triage


def test_traditional_chinese_seed_ticket_is_answered_in_traditional_chinese(
    triage_engine, demo_kb, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(
            email="yijun.chen@example.com",
            name="陳怡君",
            subject="自動續訂被扣款",
            body=SEED_ZH_HANT,
        )

    triage = TriageResult.objects.get(ticket=ticket)
    assert triage.language == "zh-Hant"
    assert Ticket.objects.get(pk=ticket.pk).language == "zh-Hant"
    draft = Draft.objects.get(ticket=ticket)
    assert draft.language == "zh-Hant"
    assert draft.citations[0]["article_id"] == demo_kb["lumen-plus-cancel-renewal-zh-hant"].pk
    assert not draft.needs_translation


def test_question_without_a_kb_answer_gets_an_ungrounded_draft_and_an_faq_suggestion(
    stub_triage, demo_kb, django_capture_on_commit_callbacks
):
    stub_triage(category="contact")

    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(
            subject="Telescopes",
            body="Do you sell telescopes for research stations in Antarctica?",
        )

    draft = Draft.objects.get(ticket=ticket)
    assert not draft.grounded
    assert draft.citations == []
    suggestion = FAQSuggestion.objects.get(source_ticket=ticket)
    assert suggestion.status == FAQSuggestion.Status.PENDING
    assert "Antarctica" in suggestion.question
    assert Ticket.objects.get(pk=ticket.pk).needs_human


# -- failures keep the ticket in front of people -----------------------------------------------


class ExplodingEngine:
    def analyse(self, inp):
        raise RuntimeError("model file is corrupt")


def test_engine_failure_flags_the_ticket_for_manual_triage_and_keeps_it_in_the_inbox(
    monkeypatch, agent, sent_events, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("triage.services.get_triage_engine", ExplodingEngine)

    with (
        caplog.at_level(logging.ERROR, logger="supportdesk.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = _create()

    ticket.refresh_from_db()
    assert ticket.needs_manual_triage
    assert ticket.needs_human
    assert ticket.ai_error == "triage: RuntimeError('model file is corrupt')"
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.urgency == Ticket.Urgency.MEDIUM
    assert not Draft.objects.filter(ticket=ticket).exists()
    inbox = ticket_list_for_inbox(user=agent, filters=InboxFilters())
    assert ticket in inbox.tickets
    assert "triage failed for message" in caplog.text
    assert "model file is corrupt" in caplog.text
    assert (realtime.TICKET_UPDATED, ticket.pk) in sent_events


def test_drafting_failure_keeps_the_triage_and_flags_the_ticket(
    monkeypatch, stub_triage, caplog, django_capture_on_commit_callbacks
):
    stub_triage()

    def broken_index():
        raise OSError("index unavailable")

    monkeypatch.setattr("replies.services.kb_index", broken_index)

    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create()

    ticket.refresh_from_db()
    assert TriageResult.objects.filter(ticket=ticket).exists()
    assert ticket.needs_manual_triage
    assert ticket.ai_error == "draft: OSError('index unavailable')"
    assert "draft failed for message" in caplog.text


# -- API tokens --------------------------------------------------------------------------------


def test_api_token_is_shown_once_and_only_its_hash_is_kept(agent):
    raw = api_token_create(user=agent)

    token = ApiToken.objects.get()
    assert raw.startswith("sd_")
    assert token.prefix == raw[:8]
    assert raw not in token.key_hash
    assert api_token_authenticate(raw) == agent
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_used_many_times_a_minute_records_its_use_once_a_minute(agent):
    raw = api_token_create(user=agent)
    api_token_authenticate(raw)
    first_use = ApiToken.objects.get().last_used_at

    with CaptureQueriesContext(connection) as queries:
        assert api_token_authenticate(raw) == agent
    assert len(queries) == 1  # the read; no write of the same minute again
    assert ApiToken.objects.get().last_used_at == first_use

    ApiToken.objects.update(last_used_at=first_use - timedelta(minutes=2))
    api_token_authenticate(raw)
    assert ApiToken.objects.get().last_used_at > first_use


def test_wrong_or_deactivated_tokens_do_not_authenticate(agent):
    raw = api_token_create(user=agent)

    assert api_token_authenticate(raw + "x") is None
    agent.is_active = False
    agent.save()
    assert api_token_authenticate(raw) is None


# -- presence ----------------------------------------------------------------------------------


def test_presence_shows_who_else_has_the_ticket_open(
    agent, other_agent, sent_events, django_capture_on_commit_callbacks
):
    ticket = TicketFactory()

    with django_capture_on_commit_callbacks(execute=True):
        presence_join(ticket_id=ticket.pk, user_id=agent.pk, channel_name="chan-a")
        presence_join(ticket_id=ticket.pk, user_id=other_agent.pk, channel_name="chan-b")

    assert ticket_people(ticket=ticket, user=agent).viewers == [Viewer("bob", False)]
    assert ticket_people(ticket=ticket, user=other_agent).viewers == [Viewer("alice", False)]

    with django_capture_on_commit_callbacks(execute=True):
        presence_leave(channel_name="chan-b")
        presence_leave(channel_name="chan-b")  # a second disconnect is harmless

    assert ticket_people(ticket=ticket, user=agent).viewers == []
    assert sent_events.count((realtime.PRESENCE_CHANGED, ticket.pk)) == 3
