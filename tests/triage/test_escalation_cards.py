"""The supervisors' queue holds one card per ticket: a second reason joins the open card."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.factories import TicketFactory
from triage.escalations import escalation_acknowledge, escalation_raise
from triage.models import Escalation

pytestmark = pytest.mark.django_db


def _raise(ticket, reason):
    with transaction.atomic():
        return escalation_raise(ticket=ticket, reason=reason)


def test_a_second_reason_joins_the_open_card(supervisor):
    ticket = TicketFactory()
    first = _raise(ticket, "VIP customer")
    second = _raise(ticket, "SLA breached before the ticket was routed")
    _raise(ticket, "VIP customer")  # said again: not repeated

    assert second.pk == first.pk
    (card,) = Escalation.objects.filter(ticket=ticket)
    assert card.reason == "VIP customer; SLA breached before the ticket was routed"


def test_once_acknowledged_a_new_reason_opens_a_new_card(supervisor):
    ticket = TicketFactory()
    first = _raise(ticket, "VIP customer")
    escalation_acknowledge(escalation_id=first.pk, actor=supervisor, assign=False)

    again = _raise(ticket, "Angry customer (strong)")

    assert again.pk != first.pk
    assert Escalation.objects.filter(ticket=ticket, acknowledged_at__isnull=True).count() == 1
