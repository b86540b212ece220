"""Follow-ups and takeovers: the customer writing again after a solve counts against the reply
that solved it; a person answering after an automatic reply counts against that reply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import FeedbackEvent
from feedback.selectors import follow_up_counts
from feedback.services import feedback_record, follow_up_record
from replies.autosend import auto_send_user
from replies.models import Draft
from replies.services import draft_send, reply_send_manual
from supportdesk import tasks
from supportdesk.models import Message, Ticket
from supportdesk.services import ticket_message_add
from tests.factories import DraftFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _sent_reply(ticket: Ticket, *, days_ago: float, automatic: bool = False, author=None) -> Draft:
    """A draft answering the customer's first message, sent `days_ago`, as the given author."""
    sent_at = timezone.now() - timedelta(days=days_ago)
    question = MessageFactory(ticket=ticket, created_at=sent_at - timedelta(hours=1))
    reply = MessageFactory(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text="Open Settings and choose Address.",
        automatic=automatic,
        author_user=author,
        delivery_status=Message.Delivery.SENT,
        created_at=sent_at,
        sent_at=sent_at,
    )
    return DraftFactory(
        ticket=ticket,
        in_reply_to=question,
        status=Draft.Status.SENT,
        sent_message=reply,
        decided_by=author,
        decided_at=sent_at,
    )


def _follow_ups() -> list[FeedbackEvent]:
    return list(FeedbackEvent.objects.filter(kind=FeedbackEvent.Kind.FOLLOW_UP))


def _takeovers() -> list[FeedbackEvent]:
    return list(FeedbackEvent.objects.filter(kind=FeedbackEvent.Kind.TAKEOVER))


def test_writing_again_within_the_window_counts_against_the_draft_that_solved_it(agent):
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    draft = _sent_reply(ticket, days_ago=3, author=agent)

    message, _ = ticket_message_add(ticket_id=ticket.pk, body="It still shows the old address.")
    event = follow_up_record(message_id=message.pk)

    assert _follow_ups() == [event]
    assert (event.draft, event.actor, event.message, event.ticket) == (draft, None, message, ticket)
    assert event.before["message_id"] == draft.sent_message_id
    assert event.before["outcome"] == "approved"
    assert event.after == {"message_id": message.pk, "days_later": 3.0}
    assert f"reply {draft.sent_message_id}" in event.note


def test_writing_again_after_the_window_is_no_follow_up(settings, agent):
    settings.FOLLOW_UP_DAYS = 7
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    _sent_reply(ticket, days_ago=8, author=agent)

    message, _ = ticket_message_add(ticket_id=ticket.pk, body="Another question.")

    assert follow_up_record(message_id=message.pk) is None
    assert _follow_ups() == []


def test_a_ticket_that_was_never_solved_has_no_follow_up(agent):
    ticket = TicketFactory(status=Ticket.Status.WAITING)
    _sent_reply(ticket, days_ago=1, author=agent)

    message, _ = ticket_message_add(ticket_id=ticket.pk, body="And one more thing.")

    assert not message.reopened
    assert follow_up_record(message_id=message.pk) is None
    assert _follow_ups() == []


def test_a_repeated_delivery_and_a_repeated_pipeline_count_one_follow_up(agent, monkeypatch):
    # The AI steps are not what this test is about; the pipeline's own bookkeeping runs.
    monkeypatch.setattr(tasks, "triage_message", lambda *, message_id: None)
    monkeypatch.setattr(tasks, "draft_create", lambda *, message_id: None)
    monkeypatch.setattr(tasks, "draft_auto_send", lambda *, message_id: None)
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    _sent_reply(ticket, days_ago=2, author=agent)

    first, created = ticket_message_add(ticket_id=ticket.pk, body="Still broken.", external_id="m1")
    again, created_again = ticket_message_add(
        ticket_id=ticket.pk, body="Still broken.", external_id="m1"
    )
    tasks.process_message(first.pk)
    Message.objects.filter(pk=first.pk).update(pipeline_done_at=None)  # a retried pipeline
    tasks.process_message(first.pk)

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert [event.message_id for event in _follow_ups()] == [first.pk]


def test_a_follow_up_after_a_reply_written_without_a_draft_judges_no_ai_output(agent):
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    MessageFactory(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        author_user=agent,
        created_at=timezone.now() - timedelta(days=1),
    )

    message, _ = ticket_message_add(ticket_id=ticket.pk, body="Thanks, but no.")

    assert follow_up_record(message_id=message.pk) is None


def test_a_person_answering_after_an_automatic_reply_takes_it_over(agent):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    automatic = _sent_reply(ticket, days_ago=1, automatic=True, author=auto_send_user())

    reply = reply_send_manual(ticket_id=ticket.pk, actor=agent, text="Let me look at this myself.")
    reply_send_manual(ticket_id=ticket.pk, actor=agent, text="And one more detail.")

    [event] = _takeovers()
    assert (event.draft, event.actor, event.message) == (automatic, agent, reply)
    assert event.before["message_id"] == automatic.sent_message_id
    assert event.before["outcome"] == "auto"


def test_approving_a_later_draft_after_an_automatic_reply_is_a_takeover(agent):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    automatic = _sent_reply(ticket, days_ago=1, automatic=True, author=auto_send_user())
    later = DraftFactory(ticket=ticket, in_reply_to=MessageFactory(ticket=ticket))

    draft_send(draft_id=later.pk, actor=agent)

    assert [(event.draft, event.actor) for event in _takeovers()] == [(automatic, agent)]


def test_no_takeover_after_a_persons_reply_nor_for_the_next_automatic_reply(agent, other_agent):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    _sent_reply(ticket, days_ago=2, author=other_agent)
    reply_send_manual(ticket_id=ticket.pk, actor=agent, text="Adding to my colleague's answer.")

    automatic_ticket = TicketFactory(status=Ticket.Status.OPEN)
    robot = auto_send_user()
    _sent_reply(automatic_ticket, days_ago=1, automatic=True, author=robot)
    next_draft = DraftFactory(
        ticket=automatic_ticket, in_reply_to=MessageFactory(ticket=automatic_ticket)
    )
    draft_send(draft_id=next_draft.pk, actor=robot)

    assert _takeovers() == []


def test_counts_group_follow_ups_and_takeovers_by_how_the_reply_was_sent(agent):
    edited_ticket = TicketFactory(status=Ticket.Status.SOLVED)
    edited = _sent_reply(edited_ticket, days_ago=1, author=agent)
    feedback_record(kind="draft_edited", actor=agent, ticket=edited_ticket, draft=edited)
    auto_ticket = TicketFactory(status=Ticket.Status.SOLVED)
    _sent_reply(auto_ticket, days_ago=1, automatic=True, author=auto_send_user())
    for ticket in (edited_ticket, auto_ticket):
        message, _ = ticket_message_add(ticket_id=ticket.pk, body="Not solved.")
        follow_up_record(message_id=message.pk)
    reply_send_manual(ticket_id=auto_ticket.pk, actor=agent, text="I'll take this one.")

    counts = follow_up_counts(since=timezone.now() - timedelta(days=1))

    assert counts == {
        "follow_up": {"approved": 0, "edited": 1, "auto": 1},
        "takeover": {"approved": 0, "edited": 0, "auto": 1},
    }
    assert follow_up_counts(since=timezone.now() + timedelta(minutes=1))["follow_up"] == {
        "approved": 0,
        "edited": 0,
        "auto": 0,
    }
