"""Every date on the desk shows in the agent's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from supportdesk.models import AgentPreference
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_an_agent_picks_a_time_zone_and_the_ticket_page_uses_it(agent_client, agent):
    message = MessageFactory(body_text="Hello", created_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    url = f"/tickets/{message.ticket_id}/"
    assert "Mar 2, 01:30" in agent_client.get(url).content.decode()  # the desk's: UTC

    response = agent_client.post(reverse("preferences"), {"time_zone": "Asia/Taipei"})

    assert "Dates now show in Asia/Taipei time." in response.content.decode()
    assert AgentPreference.objects.get(user=agent).time_zone == "Asia/Taipei"
    assert "Mar 2, 09:30" in agent_client.get(url).content.decode()


def test_an_unknown_time_zone_is_refused_with_its_name(agent_client, agent):
    response = agent_client.post(reverse("preferences"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Unknown time zone: Mars/Olympus." in response.content.decode()
    assert not AgentPreference.objects.filter(user=agent).exists()
