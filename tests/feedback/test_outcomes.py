"""One outcome record per AI decision: opened pending when the decision is made, settled by
the person (or the auto-send account) who judged it, with who, when, and what changed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from feedback.models import Outcome
from feedback.services import edit_distance, outcome_open, takeover_record
from replies.autosend import auto_send_user
from replies.models import Draft
from replies.services import (
    draft_create,
    draft_escalate,
    draft_regenerate,
    draft_send,
    reply_send_manual,
)
from supportdesk.models import Message, Ticket
from tests.factories import MessageFactory, TicketFactory
from triage.services import routing_override, triage_correct, triage_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafted(demo_kb, stub_triage):
    """A triaged, routed ticket with a draft, as the pipeline leaves it."""
    stub_triage(category="delivery", category_confidence=0.93, emotion="neutral", urgency="low")
    ticket = TicketFactory(subject="Where is my parcel?", status=Ticket.Status.NEW)
    message = MessageFactory(ticket=ticket, body_text="How can I track my parcel?")
    triage_message(message_id=message.pk)
    draft = draft_create(message_id=message.pk)
    return ticket, draft


def _outcome(**lookup) -> Outcome:
    return Outcome.objects.get(**lookup)


def test_every_decision_the_pipeline_makes_has_one_pending_outcome(drafted):
    ticket, draft = drafted

    outcomes = Outcome.objects.filter(ticket=ticket)

    assert sorted(outcomes.values_list("decision", "verdict")) == [
        ("draft", "pending"),
        ("route", "pending"),
        ("triage", "pending"),
    ]
    opened = _outcome(draft=draft)
    outcome_open(ticket=ticket, draft=draft, kb_gap=True)  # the same decision stored again
    assert outcomes.count() == 3
    assert _outcome(draft=draft) == opened and not opened.kb_gap


def test_approving_the_draft_accepts_it_and_the_triage_and_route_behind_it(drafted, agent):
    ticket, draft = drafted

    draft_send(draft_id=draft.pk, actor=agent)

    for decision in ("draft", "triage", "route"):
        outcome = _outcome(ticket=ticket, decision=decision)
        assert (outcome.verdict, outcome.actor) == ("accepted", agent), decision
        assert outcome.decided_at is not None


def test_an_edit_keeps_its_reason_and_how_much_changed(drafted, agent):
    ticket, draft = drafted
    text = draft.text + "\nYou can also call us on 0800 123 456."

    draft_send(draft_id=draft.pk, actor=agent, text=text, reason="missing_step")

    outcome = _outcome(draft=draft)
    assert (outcome.verdict, outcome.reason, outcome.actor) == ("edited", "missing_step", agent)
    assert outcome.edit_distance == len("\nYou can also call us on 0800 123 456.")
    assert outcome.event.kind == "draft_edited"


def test_edit_distance_counts_characters_inserted_and_deleted():
    assert edit_distance("Hello Maria", "Hello Maria") == 0
    assert edit_distance("Hello Maria", "Hello Marta") == 2  # one out, one in
    assert edit_distance("", "Thanks") == 6


def test_escalating_writing_by_hand_or_asking_again_rejects_the_draft(drafted, agent):
    ticket, draft = drafted

    again = draft_regenerate(draft_id=draft.pk, actor=agent, instruction="shorter")
    assert _outcome(draft=draft).verdict == "rejected"
    assert _outcome(draft=again).verdict == "pending"

    reply_send_manual(ticket_id=ticket.pk, actor=agent, text="I wrote this myself.")
    assert (_outcome(draft=again).verdict, _outcome(draft=again).actor) == ("rejected", agent)


def test_escalating_the_draft_rejects_it(drafted, agent):
    _ticket, draft = drafted

    draft_escalate(draft_id=draft.pk, actor=agent, reason="Legal threat")

    assert _outcome(draft=draft).verdict == "rejected"
    assert _outcome(ticket=draft.ticket, decision="triage").verdict == "accepted"
    assert _outcome(ticket=draft.ticket, decision="route").verdict == "pending"


def test_a_triage_correction_overrides_the_labels_even_after_they_were_accepted(drafted, agent):
    ticket, draft = drafted
    draft_send(draft_id=draft.pk, actor=agent)

    triage_correct(
        ticket_id=ticket.pk, actor=agent, category="delivery", emotion="angry", urgency="low"
    )

    outcome = _outcome(ticket=ticket, decision="triage")
    assert (outcome.verdict, outcome.changed) == ("overridden", ["emotion"])
    # The route was accepted with the draft and stays so.
    assert _outcome(ticket=ticket, decision="route").verdict == "accepted"


def test_rerouting_overrides_the_route(drafted, supervisor):
    ticket, _draft = drafted

    routing_override(ticket_id=ticket.pk, actor=supervisor, action="supervisor")

    assert _outcome(ticket=ticket, decision="route").verdict == "overridden"


def test_an_automatic_reply_counts_as_auto_sent_until_a_person_takes_over(drafted, agent):
    ticket, draft = drafted
    robot = auto_send_user()

    sent = draft_send(draft_id=draft.pk, actor=robot, automatic=True)
    Message.objects.filter(pk=sent.pk).update(automatic=True)

    outcome = _outcome(draft=draft)
    assert (outcome.decision, outcome.verdict, outcome.actor) == ("auto_send", "accepted", None)
    # Nobody looked at the triage: it is still unjudged.
    assert _outcome(ticket=ticket, decision="triage").verdict == "pending"

    reply = Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text="Sorry, let me look at this myself.",
        author_user=agent,
        created_at=timezone.now(),
    )
    takeover_record(reply=reply)

    outcome.refresh_from_db()
    assert (outcome.verdict, outcome.actor) == ("overridden", agent)


def test_a_decision_can_have_only_one_outcome(drafted):
    from django.db import IntegrityError, transaction

    ticket, draft = drafted
    with pytest.raises(IntegrityError), transaction.atomic():
        Outcome.objects.create(decision="draft", ticket=ticket, draft=draft)
    assert Draft.objects.filter(pk=draft.pk).exists()
