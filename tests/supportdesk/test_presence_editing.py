"""Presence says who is typing on a ticket, not only who has it open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from supportdesk.inbox.ticket_page import PRESENCE_EDITING_SECONDS, Viewer, ticket_people
from supportdesk.models import Presence
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_a_colleague_typing_shows_as_editing_until_they_stop(
    agent, other_agent, agent_client, other_agent_client
):
    ticket = TicketFactory()
    Presence.objects.create(channel_name="a", ticket=ticket, user=agent)
    Presence.objects.create(channel_name="b", ticket=ticket, user=other_agent)
    url = f"/tickets/{ticket.pk}/editing/"

    assert other_agent_client.post(url, {"state": "on"}).status_code == 204
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "bob is editing…" in page
    assert ticket_people(ticket=ticket, user=agent).viewers == [Viewer("bob", True)]

    other_agent_client.post(url, {"state": "off"})
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "bob" in page and "is editing" not in page


def test_a_sign_of_typing_lapses_when_it_is_not_repeated(agent, other_agent):
    ticket = TicketFactory()
    stale = timezone.now() - timedelta(seconds=PRESENCE_EDITING_SECONDS + 5)
    Presence.objects.create(channel_name="b", ticket=ticket, user=other_agent, editing_at=stale)

    assert ticket_people(ticket=ticket, user=agent).viewers == [Viewer("bob", False)]
