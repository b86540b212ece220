"""Tags agents filter by, and merging two tickets of the same customer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from supportdesk.models import Message, Note, Ticket
from tests.factories import CustomerFactory, EscalationFactory, MessageFactory, TicketFactory
from triage.models import Escalation

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_a_tag_is_added_written_one_way_and_filters_the_inbox(agent_client):
    tagged = TicketFactory()
    other = TicketFactory()

    html = agent_client.post(
        reverse("ticket-tag-add", args=[tagged.pk]), {"name": "  Refund Abuse "}, headers=HTMX
    ).content.decode()

    assert "refund-abuse" in html
    inbox = agent_client.get(reverse("inbox"), {"tag": "refund-abuse"}).content.decode()
    assert f'id="ticket-{tagged.pk}"' in inbox and f'id="ticket-{other.pk}"' not in inbox
    assert "#refund-abuse" in inbox  # on the row

    tag = tagged.tags.get()
    agent_client.post(reverse("ticket-tag-remove", args=[tagged.pk, tag.pk]), headers=HTMX)
    assert not tagged.tags.exists()


def test_an_empty_tag_is_refused_with_its_reason(agent_client):
    ticket = TicketFactory()
    response = agent_client.post(
        reverse("ticket-tag-add", args=[ticket.pk]), {"name": "!!!"}, headers=HTMX
    )
    assert response.status_code == 400
    assert "A tag needs a letter or a digit." in response.content.decode()


def test_merging_moves_the_conversation_and_solves_the_duplicate(agent_client):
    customer = CustomerFactory()
    first = MessageFactory(ticket__customer=customer, body_text="My lamp is broken.").ticket
    second = MessageFactory(ticket__customer=customer, body_text="Any news about the lamp?").ticket
    EscalationFactory(ticket=second)

    response = agent_client.post(
        reverse("ticket-merge", args=[second.pk]), {"target": first.pk}, headers=HTMX
    )

    assert response["HX-Redirect"] == f"/tickets/{first.pk}/"
    assert set(Message.objects.filter(ticket=first).values_list("body_text", flat=True)) == {
        "My lamp is broken.",
        "Any news about the lamp?",
    }
    second.refresh_from_db()
    assert (second.status, second.merged_into_id) == (Ticket.Status.SOLVED, first.pk)
    assert not Escalation.objects.filter(ticket=second, acknowledged_at__isnull=True).exists()
    assert Note.objects.filter(ticket=first, body__contains=f"#{second.pk}").exists()
    page = agent_client.get(f"/tickets/{second.pk}/").content.decode()
    assert f'Merged into <a href="/tickets/{first.pk}/">' in page
    assert "Any news about the lamp?" in agent_client.get(f"/tickets/{first.pk}/").content.decode()


def test_tickets_of_different_customers_are_never_merged(agent_client):
    mine, theirs = TicketFactory(), TicketFactory()
    response = agent_client.post(
        reverse("ticket-merge", args=[mine.pk]), {"target": theirs.pk}, headers=HTMX
    )
    assert response.status_code == 400
    assert "Only tickets of the same customer can be merged." in response.content.decode()
    assert Ticket.objects.get(pk=mine.pk).merged_into_id is None
