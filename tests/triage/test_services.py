"""Triage services: apply an analysis, route, escalate, acknowledge and take corrections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import FeedbackEvent
from supportdesk import realtime
from supportdesk.models import Ticket
from tests.factories import (
    CustomerFactory,
    EscalationFactory,
    MessageFactory,
    TicketFactory,
    TriageResultFactory,
)
from triage.escalations import escalation_acknowledge
from triage.models import Escalation, LabelledExample, RoutingDecision, TriageResult
from triage.selectors import escalations_open
from triage.services import triage_correct, triage_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_message(categories):
    ticket = TicketFactory(
        subject="Where is my parcel?", status=Ticket.Status.NEW, urgency=Ticket.Urgency.UNKNOWN
    )
    return MessageFactory(ticket=ticket, body_text="It still says dispatched after a week.")


def test_triage_labels_the_ticket_and_routes_a_routine_question_to_auto_reply(
    new_message, categories, stub_triage
):
    stub_triage(category="delivery", emotion="neutral", urgency="low", language="en")

    result = triage_message(message_id=new_message.pk)

    ticket = Ticket.objects.get(pk=new_message.ticket_id)
    assert (result.category, result.emotion, result.urgency) == ("delivery", "neutral", "low")
    assert ticket.category == categories["delivery"]
    assert ticket.emotion == "neutral"
    assert ticket.urgency == Ticket.Urgency.LOW
    assert ticket.language == "en"
    assert ticket.status == Ticket.Status.OPEN
    decision = RoutingDecision.objects.get(ticket=ticket)
    assert decision.action == RoutingDecision.Action.AUTO_REPLY
    assert decision.reasons == [
        "Routine category 'delivery' (93% confidence)",
        "Calm customer (neutral)",
    ]
    assert not ticket.is_escalated
    assert not Escalation.objects.exists()


def test_angry_customer_alerts_supervisors_once_the_transaction_commits(
    new_message, stub_triage, sent_events, django_capture_on_commit_callbacks
):
    stub_triage(emotion="angry", emotion_confidence=0.9, emotion_intensity=0.9)

    with django_capture_on_commit_callbacks() as callbacks:
        triage_message(message_id=new_message.pk)
        assert sent_events == []  # nothing leaves before commit

    escalation = Escalation.objects.get(ticket_id=new_message.ticket_id)
    assert escalation.reason == "Angry customer (strong)"
    ticket = Ticket.objects.get(pk=new_message.ticket_id)
    assert ticket.is_escalated
    assert ticket.needs_human
    assert RoutingDecision.objects.get(ticket=ticket).action == RoutingDecision.Action.SUPERVISOR

    for callback in callbacks:
        callback()
    assert (realtime.ESCALATIONS_CHANGED, ticket.pk) in sent_events
    assert (realtime.TICKET_UPDATED, ticket.pk) in sent_events


def test_vip_customer_is_escalated_even_when_calm(new_message, stub_triage):
    customer = new_message.ticket.customer
    customer.is_vip = True
    customer.save()
    stub_triage()

    triage_message(message_id=new_message.pk)

    assert Escalation.objects.get(ticket_id=new_message.ticket_id).reason == "VIP customer"
    assert escalations_open().filter(ticket_id=new_message.ticket_id).exists()


def test_high_urgency_is_escalated(new_message, stub_triage):
    stub_triage(urgency="high", urgency_reasons=("Mentions a chargeback",))

    triage_message(message_id=new_message.pk)

    ticket = Ticket.objects.get(pk=new_message.ticket_id)
    assert ticket.urgency == Ticket.Urgency.HIGH
    assert Escalation.objects.get(ticket=ticket).reason == "High urgency"


def test_repeat_contact_goes_to_a_human_with_the_reason(new_message, stub_triage, categories):
    TicketFactory(
        customer=new_message.ticket.customer,
        category=categories["delivery"],
        created_at=new_message.ticket.created_at - timedelta(days=2),
    )
    stub_triage()

    triage_message(message_id=new_message.pk)

    ticket = Ticket.objects.get(pk=new_message.ticket_id)
    decision = RoutingDecision.objects.get(ticket=ticket)
    assert decision.action == RoutingDecision.Action.HUMAN
    assert decision.reasons == ["Repeat contact: 1 earlier ticket(s) recently"]
    assert decision.repeat_contacts == 1
    assert ticket.needs_human
    assert not ticket.is_escalated


def test_a_recent_ticket_about_another_category_is_no_repeat_contact(
    new_message, stub_triage, categories
):
    other = next(c for slug, c in categories.items() if slug != "delivery")
    TicketFactory(
        customer=new_message.ticket.customer,
        category=other,
        created_at=new_message.ticket.created_at - timedelta(days=1),
    )
    stub_triage()

    triage_message(message_id=new_message.pk)

    decision = RoutingDecision.objects.get(ticket_id=new_message.ticket_id)
    assert (decision.action, decision.repeat_contacts) == (RoutingDecision.Action.AUTO_REPLY, 0)


def test_old_tickets_do_not_count_as_repeat_contact(new_message, stub_triage, settings, categories):
    TicketFactory(
        customer=new_message.ticket.customer,
        category=categories["delivery"],
        created_at=timezone.now() - timedelta(days=settings.REPEAT_CONTACT_DAYS + 1),
    )
    stub_triage()

    triage_message(message_id=new_message.pk)

    decision = RoutingDecision.objects.get(ticket_id=new_message.ticket_id)
    assert decision.action == RoutingDecision.Action.AUTO_REPLY


def test_triaging_the_same_message_twice_keeps_one_result(new_message, stub_triage):
    engine = stub_triage()

    first = triage_message(message_id=new_message.pk)
    second = triage_message(message_id=new_message.pk)

    assert first.pk == second.pk
    assert len(engine.seen) == 1
    assert TriageResult.objects.filter(message=new_message).count() == 1
    assert RoutingDecision.objects.filter(ticket_id=new_message.ticket_id).count() == 1


def test_label_the_installation_does_not_use_leaves_the_ticket_uncategorised(
    new_message, categories, stub_triage
):
    categories["delivery"].active = False
    categories["delivery"].save()
    stub_triage(category="delivery")

    result = triage_message(message_id=new_message.pk)

    assert result.category == "delivery"
    assert Ticket.objects.get(pk=new_message.ticket_id).category is None


def test_acknowledge_and_assign_takes_the_alert_off_the_queue(
    supervisor, sent_events, django_capture_on_commit_callbacks
):
    escalation = EscalationFactory(ticket__customer=CustomerFactory(is_vip=True))

    with django_capture_on_commit_callbacks(execute=True):
        escalation_acknowledge(escalation_id=escalation.pk, actor=supervisor, assign=True)

    escalation.refresh_from_db()
    assert escalation.acknowledged_by == supervisor
    assert escalation.acknowledged_at is not None
    assert Ticket.objects.get(pk=escalation.ticket_id).assignee == supervisor
    assert not escalations_open().exists()
    assert (realtime.ESCALATIONS_CHANGED, escalation.ticket_id) in sent_events


def test_acknowledging_twice_keeps_the_first_acknowledgement(supervisor, other_agent):
    escalation = EscalationFactory()
    escalation_acknowledge(escalation_id=escalation.pk, actor=supervisor, assign=False)

    escalation_acknowledge(escalation_id=escalation.pk, actor=other_agent, assign=False)

    escalation.refresh_from_db()
    assert escalation.acknowledged_by == supervisor
    assert Ticket.objects.get(pk=escalation.ticket_id).assignee is None


def test_correction_relabels_the_ticket_and_becomes_training_data(agent, categories):
    triage = TriageResultFactory(
        category="delivery",
        emotion="neutral",
        message__body_text="I was charged twice for one order.",
        message__ticket__subject="Double charge",
        message__ticket__category=categories["delivery"],
        message__ticket__emotion="neutral",
        message__ticket__urgency=Ticket.Urgency.LOW,
        message__ticket__needs_manual_triage=True,
    )

    triage_correct(
        ticket_id=triage.ticket_id, actor=agent, category="payment", emotion="angry", urgency="high"
    )

    ticket = Ticket.objects.get(pk=triage.ticket_id)
    assert ticket.category == categories["payment"]
    assert ticket.emotion == "angry"
    assert ticket.urgency == Ticket.Urgency.HIGH
    assert not ticket.needs_manual_triage
    event = FeedbackEvent.objects.get(ticket=ticket)
    assert event.kind == FeedbackEvent.Kind.TRIAGE_CORRECTED
    assert event.actor == agent
    assert event.triage == triage
    assert event.before == {"category": "delivery", "emotion": "neutral", "urgency": "low"}
    assert event.after == {"category": "payment", "emotion": "angry", "urgency": "high"}
    examples = LabelledExample.objects.filter(source=LabelledExample.Source.CORRECTION)
    assert sorted(examples.values_list("target", "label")) == [
        ("category", "payment"),
        ("emotion", "angry"),
    ]
    assert all(e.text == "Double charge\nI was charged twice for one order." for e in examples)


def test_correcting_only_urgency_adds_no_training_example(agent, categories):
    triage = TriageResultFactory(
        message__ticket__category=categories["delivery"],
        message__ticket__emotion="neutral",
        message__ticket__urgency=Ticket.Urgency.LOW,
    )

    triage_correct(
        ticket_id=triage.ticket_id,
        actor=agent,
        category="delivery",
        emotion="neutral",
        urgency="high",
    )

    assert Ticket.objects.get(pk=triage.ticket_id).urgency == Ticket.Urgency.HIGH
    assert FeedbackEvent.objects.filter(kind="triage_corrected").count() == 1
    assert not LabelledExample.objects.exists()


def test_confirming_the_labels_as_they_are_records_nothing(agent, categories):
    triage = TriageResultFactory(
        message__ticket__category=categories["delivery"],
        message__ticket__emotion="neutral",
        message__ticket__urgency=Ticket.Urgency.LOW,
    )
    version = triage.ticket.version

    triage_correct(
        ticket_id=triage.ticket_id,
        actor=agent,
        category="delivery",
        emotion="neutral",
        urgency="low",
    )

    assert Ticket.objects.get(pk=triage.ticket_id).version == version
    assert not FeedbackEvent.objects.exists()
    assert not LabelledExample.objects.exists()


def test_a_high_urgency_escalation_emails_the_on_duty_supervisors_once(
    new_message, stub_triage, supervisor, agent, django_capture_on_commit_callbacks
):
    from django.core import mail

    from triage.escalations import escalation_notify
    from triage.models import RoutingSettings

    supervisor.email = "sam@lumen.example"
    supervisor.save()
    agent.email = "alice@lumen.example"  # on the list by mistake: not a supervisor
    agent.save()
    RoutingSettings.current().on_duty_supervisors.set([supervisor, agent])
    stub_triage(urgency="high", urgency_reasons=("Mentions a chargeback",))

    with django_capture_on_commit_callbacks(execute=True):
        triage_message(message_id=new_message.pk)

    escalation = Escalation.objects.get(ticket_id=new_message.ticket_id)
    assert [m.to for m in mail.outbox] == [["sam@lumen.example"]]
    sent = mail.outbox[0]
    assert sent.subject.startswith(f"High-urgency escalation #{new_message.ticket_id}: ")
    assert "High urgency" in sent.body
    assert f"/tickets/{new_message.ticket_id}/" in sent.body
    assert escalation.notified_at is not None
    assert escalation_notify(escalation_id=escalation.pk) == 0  # a retried task sends nothing
    assert len(mail.outbox) == 1


def test_escalations_that_are_not_high_urgency_send_no_email(
    new_message, stub_triage, supervisor, django_capture_on_commit_callbacks
):
    from django.core import mail

    from triage.models import RoutingSettings

    supervisor.email = "sam@lumen.example"
    supervisor.save()
    RoutingSettings.current().on_duty_supervisors.set([supervisor])
    stub_triage(emotion="angry", emotion_confidence=0.9, emotion_intensity=0.9, urgency="medium")

    with django_capture_on_commit_callbacks(execute=True):
        triage_message(message_id=new_message.pk)

    assert Escalation.objects.filter(ticket_id=new_message.ticket_id).exists()
    assert mail.outbox == []
