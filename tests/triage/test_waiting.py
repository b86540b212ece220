"""Tickets routed while nobody in their team was online are handed out when people come in."""

from __future__ import annotations

from collections import Counter

import pytest
from asgiref.sync import async_to_sync

from supportdesk.models import Team, Ticket
from tests.factories import MessageFactory, TicketFactory, UserFactory
from tests.sockets import desk_socket
from triage.models import RoutingDecision, RoutingRule
from triage.services import agent_session_open, ticket_reassign, triage_message
from triage.waiting import waiting_tickets_hand_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db, roles, categories):
    """A round-robin English desk of three agents, a German desk of one; nobody online yet."""
    english = [UserFactory(username=f"en{i}", role="agent") for i in range(3)]
    Team.objects.create(name="English desk", languages=["en"]).members.set(english)
    german = UserFactory(username="de0", role="agent")
    Team.objects.create(name="German desk", languages=["de"]).members.set([german])
    RoutingRule.objects.create(position=1, name="Everyone gets a person", assign_matching_team=True)
    return {"en": english, "de": german}


def overnight(stub_triage, count, *, urgency="low", language="en"):
    stub_triage(category="delivery", emotion="neutral", urgency=urgency, language=language)
    tickets = []
    for _ in range(count):
        ticket = TicketFactory(status=Ticket.Status.NEW)
        triage_message(message_id=MessageFactory(ticket=ticket).pk)
        tickets.append(ticket)
    return tickets


def come_in(agent, capture):
    with capture(execute=True):
        agent_session_open(user_id=agent.pk, channel_name=f"socket-{agent.pk}")


def assigned():
    rows = Ticket.objects.filter(assignee__isnull=False).values_list("assignee__username")
    return Counter(name for (name,) in rows)


def test_a_ticket_that_waited_goes_to_the_first_team_member_who_comes_in(
    desk, stub_triage, django_capture_on_commit_callbacks
):
    (ticket,) = overnight(stub_triage, 1)
    ticket.refresh_from_db()
    assert ticket.assignee is None

    come_in(desk["de"], django_capture_on_commit_callbacks)  # another team's agent
    assert assigned() == {}

    come_in(desk["en"][1], django_capture_on_commit_callbacks)

    ticket.refresh_from_db()
    assert ticket.assignee == desk["en"][1]
    assert ticket.waiting_team is None
    assert RoutingDecision.objects.get(ticket=ticket).assignment == {
        "team": "English desk",
        "agent": "en1",
        "reason": "English desk: next online member in turn, after waiting for someone to come "
        "online",
    }


def test_the_weekend_queue_is_shared_up_to_each_agents_capacity_most_urgent_first(
    desk, stub_triage, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_CAPACITY = 4
    routine = overnight(stub_triage, 7)
    urgent = overnight(stub_triage, 2, urgency="high")  # arrived last, handed out first

    come_in(desk["en"][0], django_capture_on_commit_callbacks)
    first = set(Ticket.objects.filter(assignee=desk["en"][0]).values_list("pk", flat=True))
    assert len(first) == 4
    assert {t.pk for t in urgent} <= first
    assert first - {t.pk for t in urgent} == {t.pk for t in routine[:2]}  # then oldest first

    come_in(desk["en"][2], django_capture_on_commit_callbacks)
    assert assigned() == {"en0": 4, "en2": 4}

    # en0 solves two; the minute schedule hands the last waiting ticket to someone with room.
    Ticket.objects.filter(pk__in=list(first)[:2]).update(status=Ticket.Status.SOLVED)
    assert waiting_tickets_hand_out() == 1
    assert Ticket.objects.filter(waiting_team__isnull=False).count() == 0
    assert waiting_tickets_hand_out() == 0


def test_tickets_people_took_or_solved_are_not_handed_out(
    desk, stub_triage, django_capture_on_commit_callbacks
):
    taken, solved, left = overnight(stub_triage, 3)
    ticket_reassign(ticket_id=taken.pk, actor=desk["de"], assignee_id=desk["en"][2].pk)
    Ticket.objects.filter(pk=solved.pk).update(status=Ticket.Status.SOLVED)

    come_in(desk["en"][0], django_capture_on_commit_callbacks)

    assert Ticket.objects.get(pk=taken.pk).assignee == desk["en"][2]
    assert Ticket.objects.get(pk=solved.pk).assignee is None
    assert Ticket.objects.get(pk=left.pk).assignee == desk["en"][0]


def test_coming_online_with_nothing_waiting_queues_no_work(
    desk, stub_triage, django_capture_on_commit_callbacks
):
    overnight(stub_triage, 1, language="de")

    with django_capture_on_commit_callbacks() as callbacks:
        agent_session_open(user_id=desk["en"][0].pk, channel_name="socket")

    assert callbacks == []


def test_the_embedded_worker_hands_out_waiting_tickets_every_minute(settings):
    from django_q.models import Schedule

    from supportdesk.queue import periodic_schedules_sync

    settings.TASK_BACKEND = "q2"
    periodic_schedules_sync()

    schedule = Schedule.objects.get(name="assign_waiting")
    assert (schedule.func, schedule.minutes) == ("triage.tasks.assign_waiting", 1)


@pytest.mark.django_db(transaction=True)
def test_opening_the_inbox_brings_the_waiting_ticket(desk, stub_triage, client):
    (ticket,) = overnight(stub_triage, 1)
    agent = desk["en"][0]
    client.force_login(agent)

    async def open_inbox():
        socket = desk_socket("/ws/desk/?view=inbox", client)
        connected, _ = await socket.connect()
        assert connected
        await socket.disconnect(timeout=10)

    async_to_sync(open_inbox)()

    assert Ticket.objects.get(pk=ticket.pk).assignee == agent
