"""The ticket page links the customer's other tickets, so #29 is read with #4 in mind."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.inbox.ticket_page import CUSTOMER_TICKETS
from tests.factories import CustomerFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_the_customers_other_tickets_are_listed_newest_first(agent_client):
    customer = CustomerFactory()
    old = TicketFactory(customer=customer, subject="Lamp arrived broken")
    ticket = MessageFactory(ticket__customer=customer, body_text="Still no refund?").ticket
    stranger = TicketFactory(subject="A stranger's question")

    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert "Their other tickets (1)" in page
    assert f'href="/tickets/{old.pk}/"' in page and "Lamp arrived broken" in page
    assert "A stranger" not in page and f'href="/tickets/{stranger.pk}/"' not in page


def test_a_first_time_customer_is_said_to_be_one(agent_client):
    ticket = MessageFactory().ticket
    assert (
        "First ticket from this customer."
        in agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    )


def test_a_long_history_shows_a_page_of_it_and_a_link_to_the_rest(agent_client):
    customer = CustomerFactory()
    for i in range(CUSTOMER_TICKETS + 4):
        TicketFactory(customer=customer, subject=f"Earlier {i}")
    ticket = MessageFactory(ticket__customer=customer).ticket
    url = f"/tickets/{ticket.pk}/"
    agent_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = agent_client.get(url).content.decode()

    assert f"Their other tickets ({CUSTOMER_TICKETS + 4})" in page
    assert page.count('class="ref">#') >= CUSTOMER_TICKETS
    assert f"All {CUSTOMER_TICKETS + 4} of their tickets" in page
    few = len(queries)
    TicketFactory.create_batch(20, customer=customer)
    with CaptureQueriesContext(connection) as queries:
        agent_client.get(url)
    assert len(queries) == few  # a longer history costs no more queries
