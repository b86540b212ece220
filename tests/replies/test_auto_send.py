"""Auto-send in the pipeline: a routine, calm, grounded answer goes out through the normal
send path when an admin allowed it; anything else waits for a person, with the reason shown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from feedback.models import FeedbackEvent
from replies.autosend import AUTO_SEND_USERNAME, auto_send_user, draft_auto_send
from replies.models import Draft
from supportdesk.models import Message, Ticket
from tests.factories import DraftFactory, EscalationFactory, MessageFactory, TicketFactory
from triage.models import RoutingDecision, RoutingRule, RoutingSettings
from triage.services import triage_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto_send_delivery(categories):
    """An admin allowed auto-send for delivery questions and put an auto-send rule first."""
    categories["delivery"].auto_send = True
    categories["delivery"].save()
    return RoutingRule.objects.create(
        position=1,
        name="Confident routine delivery questions: send",
        category_routine=True,
        emotions=["neutral", "positive"],
        confidence_at_least=0.9,
        action="auto_send",
    )


def _triaged_with_draft(stub_triage, *, ticket=None, **draft):
    stub_triage(category="delivery", category_confidence=0.95, emotion="neutral", urgency="low")
    ticket = ticket or TicketFactory(subject="Where is my parcel?", status=Ticket.Status.NEW)
    message = MessageFactory(ticket=ticket, body_text="It still says dispatched after a week.")
    triage_message(message_id=message.pk)
    defaults = {"citations": [{"article_id": 1, "title": "Tracking", "language": "en"}]}
    DraftFactory(in_reply_to=message, confidence=0.8, **{**defaults, **draft})
    return message


def _decision(message) -> RoutingDecision:
    return RoutingDecision.objects.get(triage__message=message)


def test_a_routine_grounded_answer_is_sent_through_the_outbox(
    auto_send_delivery, stub_triage, django_capture_on_commit_callbacks
):
    message = _triaged_with_draft(stub_triage)

    with django_capture_on_commit_callbacks(execute=True):
        sent = draft_auto_send(message_id=message.pk)

    assert sent is not None and sent.direction == Message.Direction.OUTBOUND
    assert sent.author_user.username == AUTO_SEND_USERNAME
    sent.refresh_from_db()
    assert sent.delivery_status == Message.Delivery.SENT
    assert [m.to for m in mail.outbox] == [[message.ticket.customer.email]]
    draft = Draft.objects.get(in_reply_to=message)
    assert (draft.status, draft.sent_message) == (Draft.Status.SENT, sent)
    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert ticket.status == Ticket.Status.WAITING
    assert ticket.assignee is None  # nobody's queue belongs to the robot
    assert _decision(message).auto_send == {
        "allowed": True,
        "blocked_by": [],
        "message_id": sent.pk,
    }
    assert FeedbackEvent.objects.filter(draft=draft, actor=auto_send_user()).exists()
    # Marked as automatic mail, so the customer's own auto-responder stays quiet.
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-replied"
    # Rated like any other reply.
    assert re.search(r"/rate/\S+/\n", mail.outbox[0].body)


def test_an_auto_reply_from_a_machine_is_never_answered_automatically(
    auto_send_delivery, stub_triage
):
    message = _triaged_with_draft(stub_triage)
    Message.objects.filter(pk=message.pk).update(automated_reason="Auto-Submitted: auto-replied")

    assert draft_auto_send(message_id=message.pk) is None
    assert (
        "Mail-loop guard: the message is automated (Auto-Submitted: auto-replied)"
        in (_decision(message).auto_send["blocked_by"])
    )
    assert mail.outbox == []


def test_no_automatic_reply_to_a_customer_whose_mail_bounced(auto_send_delivery, stub_triage):
    message = _triaged_with_draft(stub_triage)
    customer = message.ticket.customer
    customer.outbound_blocked_at = timezone.now()
    customer.save()

    assert draft_auto_send(message_id=message.pk) is None
    assert (
        "Replies to this customer bounced: automatic sends are stopped"
        in (_decision(message).auto_send["blocked_by"])
    )


def test_auto_send_is_off_until_the_category_is_enabled(
    auto_send_delivery, stub_triage, categories
):
    categories["delivery"].auto_send = False
    categories["delivery"].save()
    message = _triaged_with_draft(stub_triage)

    assert draft_auto_send(message_id=message.pk) is None

    assert Draft.objects.get(in_reply_to=message).status == Draft.Status.PROPOSED
    assert _decision(message).auto_send == {
        "allowed": False,
        "blocked_by": ["Auto-send is not enabled for this category"],
    }


def test_the_kill_switch_in_the_admin_stops_auto_send(
    auto_send_delivery, stub_triage, desk_admin_client
):
    response = desk_admin_client.post(
        f"/admin/triage/routingsettings/{RoutingSettings.current().pk}/change/",
        {
            "auto_send_paused": "on",
            "auto_send_min_category_confidence": "0.85",
            "auto_send_min_draft_confidence": "0.6",
        },
    )
    assert response.status_code == 302
    message = _triaged_with_draft(stub_triage)

    assert draft_auto_send(message_id=message.pk) is None
    assert _decision(message).auto_send["blocked_by"] == ["Auto-send is paused for the whole desk"]


def test_the_environment_kill_switch_stops_auto_send(auto_send_delivery, stub_triage, settings):
    settings.AUTO_SEND_PAUSED = True
    message = _triaged_with_draft(stub_triage)

    assert draft_auto_send(message_id=message.pk) is None
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 0


def test_an_ungrounded_draft_waits_for_a_person(auto_send_delivery, stub_triage):
    message = _triaged_with_draft(stub_triage, grounded=False, citations=[])

    assert draft_auto_send(message_id=message.pk) is None
    assert _decision(message).auto_send["blocked_by"] == [
        "The draft is not grounded in the knowledge base"
    ]


def test_one_automatic_reply_per_ticket_per_day(auto_send_delivery, stub_triage):
    first = _triaged_with_draft(stub_triage)
    assert draft_auto_send(message_id=first.pk) is not None

    second = _triaged_with_draft(stub_triage, ticket=Ticket.objects.get(pk=first.ticket_id))

    assert draft_auto_send(message_id=second.pk) is None
    assert (
        "Already answered automatically in the last 24 h"
        in (_decision(second).auto_send["blocked_by"])
    )


def test_an_automatic_reply_older_than_a_day_does_not_count(auto_send_delivery, stub_triage):
    first = _triaged_with_draft(stub_triage)
    sent = draft_auto_send(message_id=first.pk)
    Message.objects.filter(pk=sent.pk).update(created_at=timezone.now() - timedelta(hours=25))
    ticket = Ticket.objects.get(pk=first.ticket_id)

    second = _triaged_with_draft(stub_triage, ticket=ticket)

    assert draft_auto_send(message_id=second.pk) is not None


def test_an_escalated_ticket_is_never_auto_sent(auto_send_delivery, stub_triage):
    ticket = TicketFactory(subject="Where is my parcel?", status=Ticket.Status.NEW)
    EscalationFactory(ticket=ticket)
    message = _triaged_with_draft(stub_triage, ticket=ticket)

    assert draft_auto_send(message_id=message.pk) is None
    assert "The ticket is escalated" in _decision(message).auto_send["blocked_by"]


def test_a_customer_writing_again_after_solved_is_a_repeat_contact(auto_send_delivery, stub_triage):
    ticket = TicketFactory(subject="Where is my parcel?", reopen_count=1)
    message = _triaged_with_draft(stub_triage, ticket=ticket)

    assert draft_auto_send(message_id=message.pk) is None
    decision = _decision(message)
    assert decision.reopened
    assert "Repeat contact" in decision.auto_send["blocked_by"]


def test_routes_that_did_not_choose_auto_send_are_left_alone(categories, stub_triage):
    message = _triaged_with_draft(stub_triage)

    assert draft_auto_send(message_id=message.pk) is None
    assert _decision(message).auto_send == {}
    assert Draft.objects.get(in_reply_to=message).status == Draft.Status.PROPOSED


def test_checking_twice_sends_once(auto_send_delivery, stub_triage):
    message = _triaged_with_draft(stub_triage)

    draft_auto_send(message_id=message.pk)
    draft_auto_send(message_id=message.pk)

    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_the_ticket_page_says_why_auto_send_held_back(
    auto_send_delivery, stub_triage, agent_client, categories
):
    categories["delivery"].auto_send = False
    categories["delivery"].save()
    message = _triaged_with_draft(stub_triage)
    draft_auto_send(message_id=message.pk)

    html = agent_client.get(f"/tickets/{message.ticket_id}/").content.decode()

    assert "Auto-send held back" in html
    assert "Auto-send is not enabled for this category" in html


def test_the_pipeline_auto_sends_a_new_routine_question(
    auto_send_delivery, stub_triage, demo_kb, django_capture_on_commit_callbacks
):
    from supportdesk.services import ticket_create

    RoutingSettings.objects.update_or_create(pk=1, defaults={"auto_send_min_draft_confidence": 0})
    stub_triage(category="delivery", category_confidence=0.95, emotion="neutral", urgency="low")

    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_create(
            email="maria@example.com",
            subject="Tracking my parcel",
            body="How can I track my parcel? Where do I find the tracking number?",
            channel=Ticket.Channel.WEB,
        )

    decision = RoutingDecision.objects.get(ticket=ticket)
    assert decision.action == "auto_send"
    assert decision.auto_send["allowed"], decision.auto_send
    assert [m.to for m in mail.outbox] == [["maria@example.com"]]
    assert Draft.objects.get(ticket=ticket).status == Draft.Status.SENT


def test_the_pipeline_never_auto_sends_an_answer_to_only_one_of_two_questions(
    auto_send_delivery, stub_triage, demo_kb, django_capture_on_commit_callbacks
):
    from supportdesk.services import ticket_create

    RoutingSettings.objects.update_or_create(pk=1, defaults={"auto_send_min_draft_confidence": 0})
    stub_triage(category="delivery", category_confidence=0.95, emotion="neutral", urgency="low")

    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_create(
            email="maria@example.com",
            subject="Tracking my parcel",
            body="How can I track my parcel online? Also, is there a physical showroom in Denver?",
            channel=Ticket.Channel.WEB,
        )

    decision = RoutingDecision.objects.get(ticket=ticket)
    assert not decision.auto_send["allowed"]
    assert any("does not answer every question" in b for b in decision.auto_send["blocked_by"])
    assert mail.outbox == []
    draft = Draft.objects.get(ticket=ticket)
    assert draft.status == Draft.Status.PROPOSED
    assert "Your other question needs a closer look" in draft.text


def test_a_reply_after_solved_is_shown_as_a_repeat_contact(
    categories, stub_triage, agent_client, django_capture_on_commit_callbacks
):
    from supportdesk.intake.ingest import email_ingest

    stub_triage(category="delivery", emotion="neutral", urgency="low")
    raw = (
        "From: maria@example.com\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        "Message-ID: <{mid}@example.com>\r\n{extra}\r\nMy parcel did not arrive.\r\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = email_ingest(raw=raw.format(subject="Parcel", mid="a", extra="").encode())
    Ticket.objects.filter(pk=first.ticket.pk).update(status=Ticket.Status.SOLVED)
    with django_capture_on_commit_callbacks(execute=True):
        again = email_ingest(
            raw=raw.format(
                subject="Re: Parcel", mid="b", extra="In-Reply-To: <a@example.com>\r\n"
            ).encode()
        )

    assert again.ticket.pk == first.ticket.pk
    latest = RoutingDecision.objects.filter(ticket=first.ticket).latest("created_at")
    assert latest.reopened and latest.action == "human"
    assert "Repeat contact: wrote again after the ticket was solved" in latest.reasons
    html = agent_client.get(f"/tickets/{first.ticket.pk}/").content.decode()
    assert "written again after it was solved (1×)" in html
