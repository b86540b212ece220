"""Canned replies: one variant per ticket language, placeholders filled for this ticket."""

from __future__ import annotations

import pytest

from replies.engine.macros import fill, first_name
from replies.models import Macro
from replies.selectors import macros_for
from tests.factories import CustomerFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_placeholders_are_filled_and_unknown_ones_left_for_the_agent_to_see():
    values = {"customer_first_name": "Pat", "ticket_number": "#12"}
    text = fill("Hi {customer_first_name}, about {ticket_number} and {order_id}.", values)
    assert text == "Hi Pat, about #12 and {order_id}."
    assert first_name("Pat Doyle") == "Pat"
    assert first_name("林美") == "林美"  # a CJK name is not cut


def _macros():
    for language, title in (
        ("", "Refund timeline"),
        ("ja", "返金の反映時期"),
        ("zh-Hant", "退款入帳時間"),
    ):
        Macro.objects.create(key="refund", language=language, title=title, body=f"{title} body")
    Macro.objects.create(key="wait", language="", title="Sorry for the wait", body="Sorry!")
    Macro.objects.create(key="old", language="", title="Retired", body="x", active=False)


@pytest.mark.parametrize(
    ("language", "refund_title"),
    [
        ("ja", "返金の反映時期"),  # its own language
        ("zh-Hans", "退款入帳時間"),  # the same language in the other script, before English
        ("de", "Refund timeline"),  # no variant: the any-language one
    ],
)
def test_each_macro_comes_in_the_tickets_language_when_it_has_one(language, refund_title):
    _macros()
    titles = [m.title for m in macros_for(language=language)]
    assert refund_title in titles and "Sorry for the wait" in titles
    assert len(titles) == 2  # one variant per macro; the inactive one is not offered


def test_the_picker_finds_macros_by_their_words_and_fills_them_for_the_ticket(agent_client, agent):
    agent.first_name = "Alice"
    agent.save()
    Macro.objects.create(
        key="ask", language="", title="Ask for the order number",
        body="Hi {customer_first_name}, please send the order number for {ticket_number}. "
        "{agent_first_name}",
    )  # fmt: skip
    Macro.objects.create(key="wait", language="", title="Sorry for the wait", body="Sorry!")
    customer = CustomerFactory(name="Pat Doyle")
    ticket = MessageFactory(ticket__customer=customer).ticket

    html = agent_client.get(f"/tickets/{ticket.pk}/macros/", {"q": "order"}).content.decode()

    assert f"please send the order number for #{ticket.pk}. Alice" in html
    assert "Hi Pat," in html
    assert "Sorry for the wait" not in html
    assert 'role="listbox"' in html
    empty = agent_client.get(f"/tickets/{ticket.pk}/macros/", {"q": "zzz"}).content.decode()
    assert "No macro matches “zzz”." in empty
    # A listbox may hold only options: the note that nothing matches is a plain list item.
    assert 'role="listbox"' not in empty
