"""How many queries the busy pages make: at most 12, and the same however much data there is."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import Rating
from supportdesk.models import MessageAttachment, Note, Presence, Tag, Ticket
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    DraftFactory,
    EscalationFactory,
    MessageFactory,
    RoutingDecisionFactory,
    TicketFactory,
    UserFactory,
    routing_override_event,
)

pytestmark = pytest.mark.django_db


def busy_ticket(*, messages: int, viewers: int, tags: int) -> Ticket:
    """A ticket as a busy desk has it: a conversation with attachments and a rating, notes,
    tags, an open escalation, a draft, a triage result and routing decision, people viewing."""
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer, category=CategoryFactory(slug="delivery"))
    EscalationFactory(ticket=ticket, reason="VIP customer")
    thread = []
    for i in range(messages):
        direction = "in" if i % 2 == 0 else "out"
        thread.append(MessageFactory(ticket=ticket, direction=direction, body_text=f"Text {i}"))
    for message in thread[:3]:
        MessageAttachment.objects.create(message=message, filename="photo.jpg", size=10)
    Rating.objects.create(message=thread[1], ticket=ticket, score="good")
    RoutingDecisionFactory(triage__message=thread[0], ticket=ticket, triage__ticket=ticket)
    DraftFactory(ticket=ticket, in_reply_to=thread[-1])
    for i in range(tags):
        ticket.tags.add(Tag.objects.create(name=f"tag-{ticket.pk}-{i}"))
    for i in range(viewers):
        viewer = UserFactory(username=f"viewer-{ticket.pk}-{i}", role="agent")
        Presence.objects.create(channel_name=f"c-{ticket.pk}-{i}", ticket=ticket, user=viewer)
        Note.objects.create(ticket=ticket, author=viewer, body="Checked the carrier.")
    for _ in range(3):  # the same customer's other tickets
        TicketFactory(customer=customer)
    return ticket


def more_of_everything(extra: int) -> None:
    """Other tickets, people who work the inbox, and messages the page must not read."""
    for i in range(extra):
        UserFactory(username=f"extra-agent-{i}", role="agent")
        MessageFactory(ticket=TicketFactory())


def queries_for(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_the_ticket_page_makes_at_most_12_queries_for_every_role(
    role, client, roles, django_assert_max_num_queries
) -> None:
    user = UserFactory(username=f"the-{role}", role=role, is_staff=role == "admin")
    client.force_login(user)
    ticket = busy_ticket(messages=6, viewers=3, tags=3)
    with django_assert_max_num_queries(12):
        response = client.get(f"/tickets/{ticket.pk}/")
    page = response.content.decode()
    assert "VIP customer" in page
    assert "photo.jpg" in page
    assert page.count("Checked the carrier.") == 3


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_the_ticket_page_makes_as_many_queries_with_ten_times_more_of_everything(
    role, client, roles
) -> None:
    client.force_login(UserFactory(username=f"the-{role}", role=role))
    small = busy_ticket(messages=3, viewers=1, tags=1)
    before = queries_for(client, f"/tickets/{small.pk}/")
    more_of_everything(30)
    large = busy_ticket(messages=30, viewers=10, tags=10)
    after = queries_for(client, f"/tickets/{large.pk}/")
    assert len(after) == len(before), "\n".join(after)


def test_the_assign_control_offers_whoever_is_on_shift_and_finds_the_others(
    agent_client, agent
) -> None:
    from triage.models import AgentSession

    ticket = busy_ticket(messages=2, viewers=0, tags=0)
    more_of_everything(40)
    on_shift = UserFactory(username="zoe-on-shift", role="agent")
    AgentSession.objects.create(channel_name="zoe", user=on_shift)
    ticket.assignee = UserFactory(username="yann-assignee", role="agent")
    ticket.save()

    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    control = page.split(f'id="assignee-{ticket.pk}"')[1].split("</select>")[0]
    assert "zoe-on-shift" in control and "alice" in control
    assert f'value="{ticket.assignee.pk}" selected>yann-assignee' in control
    assert "extra-agent-7" not in control  # 40 more agents, none on shift: not listed

    found = agent_client.get(
        f"/tickets/{ticket.pk}/assignees/?q=agent-7", headers={"HX-Request": "true"}
    ).content.decode()
    assert "extra-agent-7" in found
    assert "zoe-on-shift" not in found
    assert f'value="{ticket.assignee.pk}" selected' in found  # the assignee stays chosen
    assert "1 person matches" in found

    everyone = agent_client.get(f"/tickets/{ticket.pk}/assignees/?q=extra").content.decode()
    assert everyone.count("<option") == 1 + 1 + 20  # nobody, the assignee, the first 20
    assert "The first 20 matches" in everyone


def test_the_inbox_makes_as_many_queries_with_more_tickets_and_people(client, roles) -> None:
    client.force_login(UserFactory(username="the-supervisor", role="supervisor"))
    busy_ticket(messages=2, viewers=1, tags=2)
    before = queries_for(client, "/inbox/")
    more_of_everything(30)
    for _ in range(3):
        busy_ticket(messages=3, viewers=2, tags=3)
    after = queries_for(client, "/inbox/")
    assert len(after) == len(before) <= 12, "\n".join(after)


def routed_history(count: int) -> None:
    """Routed tickets, some overruled, escalated (open and acknowledged), edited and rated."""
    from django.utils import timezone

    from feedback.metrics import metrics_sweep
    from feedback.models import FeedbackEvent
    from feedback.tasks import edit_suggestions_refresh
    from triage.models import RoutingRule
    from triage.tasks import threshold_suggestions_refresh

    rules = [RoutingRule.objects.get_or_create(name=f"Rule {i}")[0] for i in range(2)]
    for i in range(count):
        decision = RoutingDecisionFactory(rule=rules[i % 2])
        ticket = decision.ticket
        if i % 3 == 0:
            routing_override_event(kind="rerouted", decision=decision)
        if i % 4 == 0:
            EscalationFactory(ticket=ticket, acknowledged_at=None if i % 8 else timezone.now())
        draft = DraftFactory(ticket=ticket, in_reply_to=decision.triage.message)
        FeedbackEvent.objects.create(
            kind="draft_edited", ticket=ticket, draft=draft, reason="tone", diff="+ Sorry"
        )
    # What the periodic tasks have done by the time a supervisor opens the pages.
    metrics_sweep()
    threshold_suggestions_refresh()
    edit_suggestions_refresh()


SUPERVISOR_PAGES = [
    "/supervisor/",
    "/supervisor/rules/",
    "/suggestions/",
    "/metrics/",
    "/metrics/?weeks=52&by=agent",
    "/metrics/tickets/?measure=edited",
]


def test_the_supervisor_and_metrics_pages_make_as_many_queries_with_more_history(
    client, roles
) -> None:
    client.force_login(UserFactory(username="the-supervisor", role="supervisor"))
    routed_history(3)
    before = {url: queries_for(client, url) for url in SUPERVISOR_PAGES}
    routed_history(30)
    more_of_everything(10)
    for url in SUPERVISOR_PAGES:
        after = queries_for(client, url)
        assert len(after) == len(before[url]) <= 12, (url, "\n".join(after))


def test_the_rules_report_counts_overrides_of_the_window_only(supervisor_client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from triage.models import RoutingRule

    rule = RoutingRule.objects.create(name="Refunds to a person")
    recent = RoutingDecisionFactory(rule=rule)
    old = RoutingDecisionFactory(rule=rule, created_at=timezone.now() - timedelta(days=90))
    routing_override_event(kind="rerouted", decision=recent)
    routing_override_event(kind="reassigned", decision=old)

    page = supervisor_client.get("/supervisor/rules/").content.decode()
    row = page.split("Refunds to a person")[-1].split("</tr>")[0]
    # One decision in the window, overruled once; the older decision and its override are out.
    assert "<td>1</td><td>1</td><td>100%</td>" in row
    assert "rerouted 1" in row and "reassigned" not in row
