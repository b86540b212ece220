"""Assignment: the team that handles a ticket's category and language, fair turns among its
online agents, the socket that makes an agent online, and reassigning by hand."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from asgiref.sync import async_to_sync

from feedback.models import FeedbackEvent
from supportdesk.models import Team, Ticket
from tests.factories import MessageFactory, RoutingDecisionFactory, TicketFactory, UserFactory
from tests.sockets import desk_socket
from triage.assignment import LEAST_LOADED, TeamInfo, pick_agent, team_for
from triage.models import AgentSession, RoutingDecision, RoutingRule
from triage.selectors import agents_online
from triage.services import agent_session_open, ticket_reassign, triage_message

# -- the pure picker ---------------------------------------------------------------------------

ANY = TeamInfo(id=1, name="Everyone", member_ids=(1, 2, 3))
GERMAN = TeamInfo(id=2, name="German desk", member_ids=(4, 5), languages=frozenset({"de"}))
GERMAN_BILLING = TeamInfo(
    id=3,
    name="German billing",
    member_ids=(6,),
    languages=frozenset({"de"}),
    categories=frozenset({"billing"}),
)
TEAMS = [ANY, GERMAN, GERMAN_BILLING]


@pytest.mark.parametrize(
    ("category", "language", "team"),
    [
        ("delivery", "en", "Everyone"),
        ("delivery", "de", "German desk"),
        ("delivery", "de-AT", "German desk"),
        ("billing", "de", "German billing"),
        ("billing", "fr", "Everyone"),
    ],
)
def test_the_most_specific_team_that_speaks_the_language_gets_the_ticket(category, language, team):
    assert team_for(TEAMS, category=category, language=language).name == team


def test_no_team_when_none_accepts_the_language():
    assert team_for([GERMAN, GERMAN_BILLING], category="delivery", language="ja") is None


def test_round_robin_gives_every_online_member_the_same_share():
    team, counts = ANY, Counter()
    for _ in range(30):
        pick = pick_agent(team, online_ids=frozenset({1, 2, 3}), open_tickets={})
        counts[pick.agent_id] += 1
        team = replace(team, last_assigned_id=pick.agent_id)

    assert counts == {1: 10, 2: 10, 3: 10}


def test_offline_members_get_nothing_and_an_empty_team_waits():
    pick = pick_agent(ANY, online_ids=frozenset({2}), open_tickets={})
    nobody = pick_agent(ANY, online_ids=frozenset(), open_tickets={})

    assert pick.agent_id == 2
    assert nobody.agent_id is None
    assert nobody.reason == "Nobody in Everyone is online: the ticket waits unassigned"


def test_least_loaded_picks_the_member_with_fewest_open_tickets_and_rotates_ties():
    team = TeamInfo(id=9, name="Q", strategy=LEAST_LOADED, member_ids=(1, 2, 3))

    loads = {1: 4, 2: 1, 3: 2}
    assert pick_agent(team, online_ids=frozenset({1, 2, 3}), open_tickets=loads).agent_id == 2
    tie = replace(team, last_assigned_id=1)
    assert pick_agent(tie, online_ids=frozenset({1, 2, 3}), open_tickets={}).agent_id == 2


# -- in the pipeline ---------------------------------------------------------------------------


@pytest.fixture
def desks(db, roles, categories):
    """An English desk (round robin, three agents) and a German desk (one agent)."""
    english = [UserFactory(username=f"en{i}", role="agent") for i in range(3)]
    german = UserFactory(username="de0", role="agent")
    en_team = Team.objects.create(name="English desk", languages=["en"])
    en_team.members.set(english)
    de_team = Team.objects.create(name="German desk", languages=["de"])
    de_team.members.set([german])
    RoutingRule.objects.create(
        position=1, name="Everyone gets a person", assign_matching_team=True, stop_processing=False
    )
    return {"en": english, "de": german}


def _route(stub_triage, *, language="en"):
    stub_triage(category="delivery", emotion="neutral", urgency="low", language=language)
    ticket = TicketFactory(status=Ticket.Status.NEW)
    triage_message(message_id=MessageFactory(ticket=ticket).pk)
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
def test_tickets_are_shared_fairly_among_online_agents(desks, stub_triage):
    online, offline = desks["en"][:2], desks["en"][2]
    for i, agent in enumerate(online):
        agent_session_open(user_id=agent.pk, channel_name=f"socket-{i}")

    tickets = [_route(stub_triage) for _ in range(6)]

    assert Counter(t.assignee.username for t in tickets) == {"en0": 3, "en1": 3}
    assert all(t.assignee != offline for t in tickets)
    decision = RoutingDecision.objects.get(ticket=tickets[0])
    assert decision.assignment == {
        "team": "English desk",
        "agent": "en0",
        "reason": "English desk: next online member in turn",
    }


@pytest.mark.django_db
def test_a_german_ticket_goes_to_the_german_desk(desks, stub_triage):
    for agent in [*desks["en"], desks["de"]]:
        agent_session_open(user_id=agent.pk, channel_name=f"socket-{agent.pk}")

    ticket = _route(stub_triage, language="de")

    assert ticket.assignee == desks["de"]


@pytest.mark.django_db
def test_without_anyone_online_the_ticket_waits_unassigned_and_says_so(desks, stub_triage):
    ticket = _route(stub_triage, language="de")

    assert ticket.assignee is None
    assert RoutingDecision.objects.get(ticket=ticket).assignment["reason"] == (
        "Nobody in German desk is online: the ticket waits unassigned"
    )


@pytest.mark.django_db
def test_least_loaded_team_evens_out_the_queue(desks, stub_triage):
    Team.objects.filter(name="English desk").update(strategy=Team.Strategy.LEAST_LOADED)
    busy, idle = desks["en"][0], desks["en"][1]
    for agent in (busy, idle):
        agent_session_open(user_id=agent.pk, channel_name=f"socket-{agent.pk}")
    TicketFactory.create_batch(3, assignee=busy, status=Ticket.Status.OPEN)

    tickets = [_route(stub_triage) for _ in range(3)]

    assert [t.assignee for t in tickets] == [idle, idle, idle]


@pytest.mark.django_db(transaction=True)
def test_an_open_desk_socket_makes_the_agent_online(agent_client, agent):
    async def scenario():
        socket = desk_socket("/ws/desk/?view=inbox", agent_client)
        connected, _ = await socket.connect()
        assert connected
        while_open = await _online(agent.pk)
        await socket.disconnect(timeout=10)
        return while_open, await _online(agent.pk)

    from channels.db import database_sync_to_async

    @database_sync_to_async
    def _online(user_id):
        return user_id in agents_online(user_ids=[user_id])

    assert async_to_sync(scenario)() == (True, False)
    assert not AgentSession.objects.exists()


# -- by hand -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reassigning_on_the_ticket_page_is_recorded_against_the_routing_decision(
    agent_client, agent, other_agent
):
    decision = RoutingDecisionFactory(triage__message__ticket__assignee=agent)
    ticket = decision.ticket

    response = agent_client.post(
        f"/tickets/{ticket.pk}/assign/", {"assignee": str(other_agent.pk)}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "selected>bob</option>" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == other_agent
    event = FeedbackEvent.objects.get(routing=decision)
    assert (event.kind, event.actor, event.before, event.after) == (
        "reassigned",
        agent,
        {"assignee": "alice"},
        {"assignee": "bob"},
    )


@pytest.mark.django_db
def test_reassigning_to_someone_outside_the_desk_is_refused(agent_client, agent, outsider):
    ticket = TicketFactory(assignee=agent)

    response = agent_client.post(
        f"/tickets/{ticket.pk}/assign/", {"assignee": str(outsider.pk)}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert "Choose someone who works the inbox." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == agent


@pytest.mark.django_db
def test_unassigning_leaves_the_ticket_for_anyone(agent):
    ticket = TicketFactory(assignee=agent)

    ticket_reassign(ticket_id=ticket.pk, actor=agent, assignee_id=None)

    ticket.refresh_from_db()
    assert ticket.assignee is None
