"""Routing rules stored in the database: the seeded defaults, editing them in the admin, the
explanation stored with every decision, and the supervisors' read-only list."""

from __future__ import annotations

import pytest

from supportdesk.models import Ticket
from supportdesk.tasks import process_message
from tests.factories import CustomerFactory, MessageFactory, TicketFactory
from triage.models import Escalation, RoutingDecision, RoutingRule
from triage.services import triage_message

pytestmark = pytest.mark.django_db


def _incoming(subject="Where is my parcel?", body="It still says dispatched.", **ticket):
    ticket = TicketFactory(
        subject=subject, status=Ticket.Status.NEW, urgency=Ticket.Urgency.UNKNOWN, **ticket
    )
    return MessageFactory(ticket=ticket, body_text=body)


def test_a_fresh_installation_has_the_seed_rules_in_order():
    rules = list(RoutingRule.objects.filter(enabled=True))

    assert [r.action for r in rules] == ["supervisor", "human", "auto_reply"]
    assert rules[0].vip and rules[0].emotions == ["angry"] and rules[0].urgencies == ["high"]


def test_every_decision_stores_the_rule_that_fired_and_its_conditions(categories, stub_triage):
    stub_triage(emotion="angry", emotion_confidence=0.9, emotion_intensity=0.9, urgency="high")
    message = _incoming(customer=CustomerFactory(is_vip=True))

    triage_message(message_id=message.pk)

    decision = RoutingDecision.objects.get(ticket_id=message.ticket_id)
    vip_rule = RoutingRule.objects.get(position=10)
    assert decision.rule == vip_rule
    assert decision.fired_rules == [
        {
            "rule_id": vip_rule.pk,
            "name": vip_rule.name,
            "action": "supervisor",
            "conditions": ["VIP customer", "Angry customer (strong)", "High urgency"],
        }
    ]


def test_a_rule_changed_in_the_admin_routes_the_next_ticket(
    desk_admin_client, categories, stub_triage
):
    stub_triage(category="delivery", emotion="neutral", urgency="low")
    first = _incoming()
    triage_message(message_id=first.pk)
    assert RoutingDecision.objects.get(ticket_id=first.ticket_id).action == "auto_reply"

    # The admin adds a rule above the others: parcels mentioned by e-mail go to a person.
    response = desk_admin_client.post(
        "/admin/triage/routingrule/add/",
        {
            "name": "Parcel questions by e-mail need a person",
            "position": "5",
            "enabled": "on",
            "match": "all",
            "stop_processing": "on",
            "channels": ["email"],
            "keywords": "parcel, package",
            "action": "human",
            "out_of_scope": "",
            "category_routine": "",
            "vip": "",
            "new_customer": "",
            "repeat_contact": "",
            "needs_human": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    by_mail = _incoming(channel=Ticket.Channel.EMAIL)
    by_web = _incoming(channel=Ticket.Channel.WEB)
    triage_message(message_id=by_mail.pk)
    triage_message(message_id=by_web.pk)

    mail_decision = RoutingDecision.objects.get(ticket_id=by_mail.ticket_id)
    assert mail_decision.action == "human"
    assert mail_decision.rule.name == "Parcel questions by e-mail need a person"
    assert mail_decision.reasons == ["Arrived by email", "Mentions 'parcel'"]
    assert Ticket.objects.get(pk=by_mail.ticket_id).needs_human
    assert RoutingDecision.objects.get(ticket_id=by_web.ticket_id).action == "auto_reply"


def test_a_rule_disabled_in_the_admin_list_no_longer_fires(
    desk_admin_client, categories, stub_triage
):
    stub_triage(category="delivery", emotion="neutral", urgency="high")
    rules = list(RoutingRule.objects.all())
    form = {
        "form-TOTAL_FORMS": str(len(rules)),
        "form-INITIAL_FORMS": str(len(rules)),
        "_save": "Save",
    }
    for i, rule in enumerate(rules):
        form[f"form-{i}-id"] = str(rule.pk)
        form[f"form-{i}-position"] = str(rule.position)
        if rule.action != "supervisor":
            form[f"form-{i}-enabled"] = "on"
    response = desk_admin_client.post("/admin/triage/routingrule/", form)
    assert response.status_code == 302

    message = _incoming()
    triage_message(message_id=message.pk)

    assert RoutingDecision.objects.get(ticket_id=message.ticket_id).action == "auto_reply"
    assert not Escalation.objects.exists()


def test_the_admin_rejects_a_confidence_outside_zero_to_one(desk_admin_client):
    response = desk_admin_client.post(
        "/admin/triage/routingrule/add/",
        {"name": "Bad", "position": "1", "match": "all", "confidence_below": "50"},
    )

    assert response.status_code == 200
    assert "Enter a number between 0 and 1." in response.content.decode()
    assert not RoutingRule.objects.filter(name="Bad").exists()


def test_rule_actions_set_urgency_and_assign_an_agent(categories, stub_triage, agent):
    RoutingRule.objects.create(
        position=1,
        name="Enterprise customers: Alice, high urgency",
        plans=["enterprise"],
        set_urgency="high",
        assign_agent=agent,
        stop_processing=False,
    )
    stub_triage(category="delivery", emotion="neutral", urgency="low")
    message = _incoming(customer=CustomerFactory(plan="enterprise"))

    triage_message(message_id=message.pk)

    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert ticket.urgency == Ticket.Urgency.HIGH
    assert ticket.assignee == agent
    decision = RoutingDecision.objects.get(ticket=ticket)
    # Later rules see the raised urgency: the seed's supervisor rule decides.
    assert decision.action == "supervisor"
    assert [(f["name"], f["conditions"]) for f in decision.fired_rules] == [
        ("Enterprise customers: Alice, high urgency", ["Enterprise plan"]),
        ("VIP, angry or urgent: alert a supervisor", ["High urgency"]),
    ]


def test_notify_supervisors_raises_an_escalation_without_changing_the_route(
    categories, stub_triage
):
    RoutingRule.objects.create(
        position=1,
        name="Legal threats",
        keywords=["lawyer"],
        notify_supervisors=True,
        stop_processing=False,
    )
    stub_triage(category="delivery", emotion="neutral", urgency="low")
    message = _incoming(body="My lawyer will hear about this parcel.")

    triage_message(message_id=message.pk)

    escalation = Escalation.objects.get(ticket_id=message.ticket_id)
    assert "Mentions 'lawyer'" in escalation.reason
    assert RoutingDecision.objects.get(ticket_id=message.ticket_id).action == "auto_reply"


def test_an_empty_rule_table_routes_by_the_seed_rules(categories, stub_triage):
    RoutingRule.objects.all().delete()
    stub_triage(category="delivery", emotion="neutral", urgency="high")
    message = _incoming()

    triage_message(message_id=message.pk)

    decision = RoutingDecision.objects.get(ticket_id=message.ticket_id)
    assert (decision.action, decision.rule) == ("supervisor", None)
    assert decision.reasons == ["High urgency"]


def test_supervisors_read_the_rules_but_cannot_edit_them(supervisor_client):
    page = supervisor_client.get("/supervisor/rules/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "VIP, angry or urgent: alert a supervisor" in html
    assert "customer is angry (confidence at least 50%)" in html
    assert "Edit the rules" not in html
    assert "<title>Routing rules · SupportDesk</title>" in html
    assert html.count('id="override-report-title"') == 1
    assert supervisor_client.get("/admin/triage/routingrule/").status_code == 302


def test_agents_cannot_see_the_rule_list(agent_client):
    assert agent_client.get("/supervisor/rules/").status_code == 403


def test_the_ticket_page_shows_the_rules_that_fired(agent_client, categories, stub_triage):
    stub_triage(category="delivery", emotion="neutral", urgency="low")
    message = _incoming()
    triage_message(message_id=message.pk)

    html = agent_client.get(f"/tickets/{message.ticket_id}/").content.decode()

    assert "Rules that fired" in html
    assert "Routine question, calm customer: draft for one-click approval" in html
    assert "Calm customer (neutral)" in html


def test_the_admin_form_shows_a_rule_as_it_is_stored(desk_admin_client):
    rule = RoutingRule.objects.get(position=10)
    rule.keywords = ["lawyer", "chargeback"]
    rule.save()

    html = desk_admin_client.get(f"/admin/triage/routingrule/{rule.pk}/change/").content.decode()

    assert 'value="angry" checked' in html.replace(' id="id_emotions_0"', "")
    assert "lawyer, chargeback" in html


def test_a_ticket_whose_draft_is_only_a_holding_reply_is_not_an_auto_reply_candidate(
    agent_client, categories, stub_triage
):
    # A routine, calm question the knowledge base (empty here) cannot answer.
    stub_triage(category="delivery", emotion="neutral", urgency="low")
    message = _incoming(subject="Drone", body="Can you deliver my parcel by drone to a lighthouse?")

    process_message(message.pk)

    decision = RoutingDecision.objects.get(ticket_id=message.ticket_id)
    assert message.ticket.drafts.get().grounded is False
    assert decision.action == "human"
    assert decision.reasons[-1] == "The draft is only a holding reply: a person answers"
    # The rules chose one-click approval; that stays on record.
    assert decision.fired_rules[-1]["action"] == "auto_reply"
    page = agent_client.get(f"/tickets/{message.ticket_id}/").content.decode()
    assert '<p class="route route-human"><strong>Human agent</strong></p>' in page
    assert "route-auto_reply" not in page
    assert "The draft is only a holding reply" in page


def test_a_ticket_whose_draft_answers_stays_an_auto_reply_candidate(
    demo_kb, agent_client, stub_triage
):
    stub_triage(category="delivery", emotion="neutral", urgency="low")
    message = _incoming(subject="Tracking", body="How do I track my order?")

    process_message(message.pk)

    assert message.ticket.drafts.get().grounded is True
    assert RoutingDecision.objects.get(ticket_id=message.ticket_id).action == "auto_reply"


def test_a_ticket_that_asks_two_things_and_gets_both_answered_stays_an_auto_reply_candidate(
    demo_kb, stub_triage
):
    stub_triage(category="delivery", emotion="neutral", urgency="low", language="en")
    message = _incoming(
        subject="Address and invoice",
        body="How do I change the shipping address on my order? "
        "And where can I download an invoice for it?",
    )

    process_message(message.pk)

    draft = message.ticket.drafts.get()
    titles = [citation["title"] for citation in draft.citations]
    assert any("shipping address" in title for title in titles)
    assert any("invoice" in title for title in titles)
    assert "needs a closer look" not in draft.text
    assert RoutingDecision.objects.get(ticket_id=message.ticket_id).action == "auto_reply"


@pytest.mark.parametrize(
    ("language", "body", "follow_up"),
    [
        (
            "es",
            "¿Cómo puedo rastrear mi pedido? ¿Y tienen una tienda física en Bogotá?",
            "Tu otra pregunta necesita una revisión",
        ),
        (
            "en",
            "How can I track my parcel online? Also, is there a physical showroom in Denver?",
            "Your other question needs a closer look",
        ),
    ],
)
def test_a_ticket_that_asks_two_things_but_gets_one_answered_goes_to_a_person(
    demo_kb, agent_client, stub_triage, language, body, follow_up
):
    stub_triage(category="delivery", emotion="neutral", urgency="low", language=language)
    message = _incoming(subject="Pedido", body=body)

    process_message(message.pk)

    draft = message.ticket.drafts.get()
    assert draft.grounded and draft.citations  # the question it can answer is answered
    assert follow_up in draft.text  # and the customer is told the other one follows
    decision = RoutingDecision.objects.get(ticket_id=message.ticket_id)
    assert decision.action == "human"
    assert decision.reasons[-1] == (
        "The draft answers only some of the customer's questions: a person answers"
    )
    assert Ticket.objects.get(pk=message.ticket_id).needs_human
