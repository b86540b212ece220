"""Reply services: a grounded draft per inbound message, then send or escalate it exactly once."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from feedback.models import FeedbackEvent
from knowledge.models import FAQSuggestion
from replies.models import Draft
from replies.services import DraftAlreadyDecided, draft_create, draft_escalate, draft_send
from supportdesk.models import Message, Ticket
from tests.factories import (
    ArticleFactory,
    CustomerFactory,
    DraftFactory,
    MessageFactory,
    TriageResultFactory,
)
from tests.mailbox import written
from triage.models import Escalation

pytestmark = pytest.mark.django_db

RENEWAL_BODY = (
    "Lumen Plus renews automatically every year on the date you joined.\n\n"
    "To turn off auto-renewal:\n"
    "1. Sign in and open Account > Membership.\n"
    "2. Select Manage Lumen Plus.\n"
    "3. Choose Turn off auto-renewal and confirm.\n\n"
    "If you were charged for a renewal you did not want, you get a full refund when you ask "
    "within 30 days of the charge: open Billing history and select Request refund next to it."
)


@pytest.fixture
def renewal_article(db):
    return ArticleFactory(
        title="Cancel Lumen Plus auto-renewal and get a refund", body=RENEWAL_BODY, language="en"
    )


@pytest.fixture
def other_articles(db):
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


def _inbound(subject: str, body: str, *, language: str = "en", **ticket_fields) -> Message:
    message = MessageFactory(ticket__subject=subject, body_text=body, **ticket_fields)
    TriageResultFactory(message=message, language=language)
    return message


def test_draft_answers_from_the_matching_article_and_cites_it(renewal_article, other_articles):
    message = _inbound(
        "Cancel auto-renewal",
        "How do I turn off auto-renewal of Lumen Plus? I was charged for a renewal I did not want.",
        ticket__customer__name="Maria Lopez",
    )

    draft = draft_create(message_id=message.pk)

    assert draft.grounded
    assert draft.status == Draft.Status.PROPOSED
    assert draft.citations[0]["article_id"] == renewal_article.pk
    assert draft.citations[0]["title"] == renewal_article.title
    assert list(draft.cited_articles.all()) == [renewal_article]
    assert "Maria Lopez" in draft.text
    assert "Turn off auto-renewal" in draft.text
    assert "[1]" in draft.text
    assert not FAQSuggestion.objects.exists()


def test_question_the_kb_cannot_answer_gets_a_holding_reply_and_an_faq_suggestion(
    renewal_article, other_articles
):
    message = _inbound(
        "Antarctica",
        "Do you sell telescopes for research stations in Antarctica?",
    )

    draft = draft_create(message_id=message.pk)

    assert not draft.grounded
    assert draft.citations == []
    assert "[1]" not in draft.text
    suggestion = FAQSuggestion.objects.get()
    assert suggestion.status == FAQSuggestion.Status.PENDING
    assert suggestion.source_ticket_id == message.ticket_id
    assert "research stations in Antarctica" in suggestion.question
    assert Ticket.objects.get(pk=message.ticket_id).needs_human


def test_drafting_the_same_message_twice_keeps_one_draft(renewal_article):
    message = _inbound("Auto-renewal", "How do I turn off auto-renewal?")

    first = draft_create(message_id=message.pk)
    second = draft_create(message_id=message.pk)

    assert first.pk == second.pk
    assert Draft.objects.count() == 1


def test_how_to_question_is_answered_with_the_articles_steps(demo_kb):
    message = _inbound("Cancel auto-renewal", "How do I turn off auto-renewal of Lumen Plus?")

    draft = draft_create(message_id=message.pk)

    assert draft.citations[0]["article_id"] == demo_kb["lumen-plus-cancel-renewal"].pk
    assert "Choose Turn off auto-renewal and confirm." in draft.text


def test_off_topic_question_sharing_one_word_with_an_article_is_not_grounded(demo_kb):
    message = _inbound("Antarctica", "Do you ship telescopes to research stations in Antarctica?")

    draft = draft_create(message_id=message.pk)

    assert not draft.grounded


def test_a_follow_up_message_replaces_the_unsent_draft(renewal_article):
    first_message = _inbound("Auto-renewal", "How do I turn off auto-renewal?")
    old = draft_create(message_id=first_message.pk)
    follow_up = MessageFactory(
        ticket=first_message.ticket, body_text="Also, can I get a refund for the renewal charge?"
    )

    new = draft_create(message_id=follow_up.pk)

    old.refresh_from_db()
    assert old.status == Draft.Status.SUPERSEDED
    assert new.status == Draft.Status.PROPOSED
    assert new.in_reply_to == follow_up


# -- approve, edit & send ----------------------------------------------------------------------


def test_approve_queues_the_draft_as_sent_and_records_the_approval(
    agent, django_capture_on_commit_callbacks
):
    draft = DraftFactory(in_reply_to__ticket__customer=CustomerFactory(email="maria@example.com"))

    with django_capture_on_commit_callbacks(execute=True):
        outbound = draft_send(draft_id=draft.pk, actor=agent)

    outbound.refresh_from_db()
    assert outbound.direction == Message.Direction.OUTBOUND
    assert outbound.body_text == draft.text.strip()
    assert outbound.author_user == agent
    assert outbound.delivery_status == Message.Delivery.SENT
    assert [m.to for m in mail.outbox] == [["maria@example.com"]]
    assert written(mail.outbox[0]) == draft.text.strip()
    draft.refresh_from_db()
    assert (draft.status, draft.decided_by, draft.sent_message) == ("sent", agent, outbound)
    ticket = Ticket.objects.get(pk=draft.ticket_id)
    assert ticket.status == Ticket.Status.WAITING
    assert ticket.assignee == agent
    event = FeedbackEvent.objects.get()
    assert (event.kind, event.actor, event.draft) == ("draft_approved", agent, draft)
    assert event.diff == ""


def test_second_approval_fails_naming_who_sent_it_first(
    agent, other_agent, django_capture_on_commit_callbacks
):
    draft = DraftFactory()
    with django_capture_on_commit_callbacks(execute=True):
        draft_send(draft_id=draft.pk, actor=agent)

    with (
        pytest.raises(DraftAlreadyDecided, match=r"already sent by alice at "),
        django_capture_on_commit_callbacks(execute=True),
    ):
        draft_send(draft_id=draft.pk, actor=other_agent)

    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1
    assert len(mail.outbox) == 1
    assert FeedbackEvent.objects.count() == 1
    assert Draft.objects.get(pk=draft.pk).decided_by == agent


def test_edit_and_send_records_what_the_agent_changed(agent):
    draft = DraftFactory(
        text="Hello,\nOpen Settings and choose Address.\nBest wishes",
    )

    outbound = draft_send(
        draft_id=draft.pk,
        actor=agent,
        text="Hello,\nOpen Orders and click Change address.\nBest wishes",
    )

    assert outbound.body_text == "Hello,\nOpen Orders and click Change address.\nBest wishes"
    event = FeedbackEvent.objects.get()
    assert event.kind == FeedbackEvent.Kind.DRAFT_EDITED
    assert "-Open Settings and choose Address." in event.diff.splitlines()
    assert "+Open Orders and click Change address." in event.diff.splitlines()
    assert "-Hello," not in event.diff.splitlines()
    assert event.before == {"text": draft.text}
    assert event.after == {"text": outbound.body_text}


def test_sending_the_draft_text_unchanged_counts_as_an_approval(agent):
    draft = DraftFactory(text="Hello,\nOpen Settings.\nBest wishes")

    draft_send(draft_id=draft.pk, actor=agent, text="  Hello,\nOpen Settings.\nBest wishes\n")

    event = FeedbackEvent.objects.get()
    assert event.kind == FeedbackEvent.Kind.DRAFT_APPROVED
    assert event.diff == ""


def test_an_empty_reply_is_refused_and_the_draft_stays_open(agent):
    draft = DraftFactory()

    with pytest.raises(ValueError, match="empty"):
        draft_send(draft_id=draft.pk, actor=agent, text="   \n ")

    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_sending_keeps_an_existing_assignee(agent, other_agent):
    draft = DraftFactory(in_reply_to__ticket__assignee=other_agent)

    draft_send(draft_id=draft.pk, actor=agent)

    assert Ticket.objects.get(pk=draft.ticket_id).assignee == other_agent


# -- escalate ----------------------------------------------------------------------------------


def test_escalate_alerts_a_supervisor_and_records_the_reason(agent):
    draft = DraftFactory()

    draft_escalate(draft_id=draft.pk, actor=agent, reason="Customer threatens legal action")

    draft.refresh_from_db()
    assert (draft.status, draft.decided_by) == (Draft.Status.ESCALATED, agent)
    escalation = Escalation.objects.get(ticket_id=draft.ticket_id)
    assert escalation.reason == "Customer threatens legal action (by alice)"
    assert escalation.raised_by == agent
    ticket = Ticket.objects.get(pk=draft.ticket_id)
    assert ticket.is_escalated
    assert ticket.needs_human
    event = FeedbackEvent.objects.get()
    assert (event.kind, event.draft, event.note) == (
        "escalated",
        draft,
        "Customer threatens legal action",
    )


def test_escalating_without_a_reason_still_says_who_escalated(agent):
    draft = DraftFactory()

    draft_escalate(draft_id=draft.pk, actor=agent, reason="  ")

    assert Escalation.objects.get().reason == "Escalated by an agent (by alice)"


def test_an_escalated_draft_can_no_longer_be_sent(agent, other_agent):
    draft = DraftFactory()
    draft_escalate(draft_id=draft.pk, actor=agent, reason="Legal")

    with pytest.raises(DraftAlreadyDecided, match="already escalated by alice"):
        draft_send(draft_id=draft.pk, actor=other_agent)

    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_a_superseded_draft_says_it_was_replaced(agent):
    draft = DraftFactory(status=Draft.Status.SUPERSEDED)

    with pytest.raises(DraftAlreadyDecided, match="replaced by a newer draft"):
        draft_send(draft_id=draft.pk, actor=agent)


# -- real concurrency --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_agents_approving_at_the_same_moment_send_one_reply(agent, other_agent):
    """Two threads, two database connections, one draft: the database decides once."""
    draft = DraftFactory()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def approve(user) -> None:
        try:
            barrier.wait(timeout=5)
            draft_send(draft_id=draft.pk, actor=user)
            outcomes[user.username] = "sent"
        except DraftAlreadyDecided as exc:
            outcomes[user.username] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (agent, other_agent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["alice", "bob"]
    winners = [name for name, outcome in outcomes.items() if outcome == "sent"]
    assert len(winners) == 1
    (loser,) = {"alice", "bob"} - set(winners)
    assert f"already sent by {winners[0]} at " in outcomes[loser]
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1
    assert len(mail.outbox) == 1
    assert FeedbackEvent.objects.count() == 1
