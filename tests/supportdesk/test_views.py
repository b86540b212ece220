"""Desk pages: the contact form, who may open what, the inbox and its htmx fragments, the
ticket page and the draft actions on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import FeedbackEvent
from replies.models import Draft
from supportdesk.models import Customer, Message, Ticket
from tests.factories import (
    CustomerFactory,
    DraftFactory,
    MessageFactory,
    RoutingDecisionFactory,
    TicketFactory,
    TriageResultFactory,
    UserFactory,
)
from triage.models import Escalation

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}

CONTACT = {
    "name": "Maria Lopez",
    "email": "maria@example.com",
    "subject": "Where is my parcel?",
    "body": "The tracking still says dispatched.",
    "locale": "en-GB",
    "website": "",
}


# -- contact form ------------------------------------------------------------------------------


def test_contact_form_creates_a_ticket_and_thanks_with_its_reference(client):
    response = client.post(reverse("contact"), CONTACT, follow=True)

    ticket = Ticket.objects.get()
    assert response.redirect_chain == [(reverse("contact-thanks"), 302)]
    assert f"Your ticket reference is <strong>#{ticket.pk}</strong>" in response.content.decode()
    assert ticket.channel == Ticket.Channel.WEB
    assert ticket.customer.email == "maria@example.com"
    assert ticket.customer.locale == "en-GB"
    assert ticket.messages.get().body_text == "The tracking still says dispatched."


def test_invalid_contact_form_is_400_with_errors_next_to_the_fields(client):
    response = client.post(reverse("contact"), {**CONTACT, "email": "maria", "body": ""})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_email-error"' in page
    assert "Enter a valid email address." in page
    assert 'id="id_body-error"' in page
    assert "This field is required." in page
    assert 'value="Where is my parcel?"' in page  # what was typed is kept
    assert not Ticket.objects.exists()


def test_contact_form_filled_in_by_a_bot_keeps_nothing(client):
    response = client.post(reverse("contact"), {**CONTACT, "website": "http://spam.example"})

    assert response.status_code == 302
    assert response["Location"] == reverse("contact-thanks")
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()
    assert "reference" not in client.get(reverse("contact-thanks")).content.decode()


def test_contact_page_is_public(client):
    response = client.get(reverse("contact"))

    assert response.status_code == 200
    assert "Contact support" in response.content.decode()


# -- who may open what -------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["inbox", "ticket", "supervisor"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url_name):
    ticket = TicketFactory()
    url = reverse(url_name, args=[ticket.pk]) if url_name == "ticket" else reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_anonymous_visitors_cannot_send_drafts(client):
    draft = DraftFactory()

    response = client.post(reverse("draft-send", args=[draft.pk]), {"action": "approve"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED


def test_agent_may_not_open_the_supervisor_queue(agent_client):
    assert agent_client.get(reverse("supervisor")).status_code == 403


def test_agent_does_not_get_into_the_admin(agent_client):
    response = agent_client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    followed = agent_client.get("/admin/", follow=True)
    assert "Site administration" not in followed.content.decode()


def test_signed_in_user_without_a_role_gets_403_on_the_inbox(client, outsider):
    client.force_login(outsider)

    assert client.get(reverse("inbox")).status_code == 403
    assert client.get(reverse("ticket", args=[TicketFactory().pk])).status_code == 403


def test_home_sends_agents_to_the_inbox_and_strangers_to_sign_in(client, agent_client):
    assert agent_client.get("/")["Location"] == reverse("inbox")
    assert client.get("/")["Location"] == reverse("login")


# -- inbox -------------------------------------------------------------------------------------


def test_inbox_page_lists_tickets_most_urgent_first(agent_client):
    low = TicketFactory(subject="Newsletter question", urgency=Ticket.Urgency.LOW)
    high = TicketFactory(subject="Charged twice", urgency=Ticket.Urgency.HIGH)

    response = agent_client.get(reverse("inbox"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page
    assert page.index(f'id="ticket-{high.pk}"') < page.index(f'id="ticket-{low.pk}"')
    assert "HX-Request" in response["Vary"]


def test_htmx_inbox_request_returns_only_the_ticket_list(agent_client):
    ticket = TicketFactory(subject="Charged twice")

    response = agent_client.get(reverse("inbox"), headers=HTMX)

    page = response.content.decode().strip()
    assert page.startswith('<section id="ticket-list"')
    assert "<html" not in page
    assert 'id="inbox-filters"' not in page
    assert f'id="ticket-{ticket.pk}"' in page


def test_htmx_filter_change_returns_only_matching_rows(agent_client, categories):
    refund = TicketFactory(category=categories["refund"], emotion="angry")
    delivery = TicketFactory(category=categories["delivery"], emotion="neutral")

    page = agent_client.get(
        reverse("inbox"), {"category": "refund", "emotion": "angry"}, headers=HTMX
    ).content.decode()

    assert f'id="ticket-{refund.pk}"' in page
    assert f'id="ticket-{delivery.pk}"' not in page
    # the live socket follows the same filters, so new rows that do not match stay out
    assert 'view=inbox&amp;lang=en&amp;category=refund&amp;emotion=angry"' in page


def test_show_more_returns_the_next_rows_without_the_list_wrapper(agent_client):
    tickets = TicketFactory.create_batch(27)
    first = agent_client.get(reverse("inbox")).content.decode()
    cursor = first.split("after=")[1].split('"')[0]

    response = agent_client.get(reverse("inbox"), {"after": cursor}, headers=HTMX)

    page = response.content.decode()
    assert 'id="ticket-list"' not in page
    assert [f'id="ticket-{t.pk}"' in page for t in tickets] == [False] * 25 + [True] * 2
    assert "Show more" not in page


def test_inbox_shows_which_tickets_need_manual_triage(agent_client):
    TicketFactory(needs_manual_triage=True, ai_error="triage: boom")

    assert "Needs manual triage" in agent_client.get(reverse("inbox")).content.decode()


def _inbox_with(count: int) -> None:
    assignee = UserFactory()
    for n in range(count):
        ticket = TicketFactory(
            customer=CustomerFactory(is_vip=n % 2 == 0), assignee=assignee, emotion="neutral"
        )
        MessageFactory(ticket=ticket)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_inbox_query_count_does_not_grow_with_the_number_of_tickets(agent_client, categories):
    _inbox_with(5)
    with_five = _queries(agent_client, reverse("inbox"))
    _inbox_with(45)

    with_fifty = _queries(agent_client, reverse("inbox"))

    assert with_fifty == with_five


def test_ticket_page_query_count_does_not_grow_with_the_thread(agent_client, agent):
    ticket = TicketFactory()
    triage = TriageResultFactory(message=MessageFactory(ticket=ticket))
    RoutingDecisionFactory(triage=triage)
    DraftFactory(in_reply_to=triage.message)

    def add_messages(count: int) -> None:
        for n in range(count):
            direction = Message.Direction.OUTBOUND if n % 2 else Message.Direction.INBOUND
            MessageFactory(ticket=ticket, direction=direction, author_user=agent)

    add_messages(4)
    with_five = _queries(agent_client, reverse("ticket", args=[ticket.pk]))
    add_messages(45)

    with_fifty = _queries(agent_client, reverse("ticket", args=[ticket.pk]))

    assert with_fifty == with_five


# -- the ticket page ---------------------------------------------------------------------------


def test_ticket_page_shows_thread_triage_routing_and_draft(agent_client):
    triage = TriageResultFactory(
        message__body_text="Where is my parcel?",
        message__ticket__subject="Parcel late",
        category="delivery",
        emotion="anxious",
    )
    RoutingDecisionFactory(triage=triage, reasons=["Customer seems anxious"])
    DraftFactory(in_reply_to=triage.message, text="Your parcel arrives on Friday.")

    page = agent_client.get(reverse("ticket", args=[triage.ticket_id])).content.decode()

    assert "Where is my parcel?" in page
    assert "Emotion: anxious" in page
    assert "Customer seems anxious" in page
    assert "Your parcel arrives on Friday." in page
    assert "Approve &amp; send" in page


def test_ticket_page_shows_quoted_mail_collapsed_and_escaped(agent_client):
    message = MessageFactory(
        body_text="Still broken.",
        body_quoted="-- \nPriya <script>alert(1)</script>\n\n> Please update the app.",
    )

    page = agent_client.get(reverse("ticket", args=[message.ticket_id])).content.decode()

    thread = page[page.index('id="thread"') :]
    new_at, quoted_at = thread.index("Still broken."), thread.index("&gt; Please update the app.")
    assert new_at < thread.index('<details class="quoted"><summary>') < quoted_at
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread
    assert "<script>alert(1)" not in page


def test_ticket_page_for_a_failed_ticket_explains_what_to_do(agent_client):
    ticket = TicketFactory(needs_manual_triage=True, ai_error="triage: RuntimeError('boom')")
    MessageFactory(ticket=ticket)

    page = agent_client.get(reverse("ticket", args=[ticket.pk])).content.decode()

    assert "The AI could not finish this ticket" in page
    assert "Triage it by hand" in page
    assert "The AI is drafting a reply" not in page


def test_ticket_page_says_a_draft_is_coming_while_the_customer_waits_for_one(agent_client):
    triage = TriageResultFactory(message__body_text="Where is my parcel?")  # triaged, no draft

    page = agent_client.get(reverse("ticket", args=[triage.ticket_id])).content.decode()

    assert "The AI is drafting a reply" in page
    assert 'id="compose-text"' in page  # the agent need not wait for it


def test_ticket_page_promises_no_draft_once_the_customer_was_answered(agent_client):
    ticket = MessageFactory(body_text="Where is my parcel?").ticket
    MessageFactory(ticket=ticket, direction=Message.Direction.OUTBOUND, body_text="On its way.")

    page = agent_client.get(reverse("ticket", args=[ticket.pk])).content.decode()

    assert "The AI is drafting a reply" not in page
    assert 'id="compose-text"' in page


def test_marking_a_ticket_solved_takes_it_off_the_inbox_and_reopen_brings_it_back(agent_client):
    ticket = MessageFactory(body_text="Thanks, that worked!").ticket
    url = reverse("ticket-status", args=[ticket.pk])

    summary = agent_client.post(url, {"action": "solve"}, headers=HTMX).content.decode()

    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.SOLVED
    assert 'value="reopen"' in summary and 'value="solve"' not in summary
    assert ticket.subject not in agent_client.get(reverse("inbox")).content.decode()

    agent_client.post(url, {"action": "reopen"}, headers=HTMX)

    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN
    assert ticket.subject in agent_client.get(reverse("inbox")).content.decode()


def test_an_unknown_status_action_is_400_and_changes_nothing(agent_client):
    ticket = TicketFactory()

    response = agent_client.post(reverse("ticket-status", args=[ticket.pk]), {"action": "close"})

    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN


def test_unknown_ticket_is_404(agent_client):
    assert agent_client.get(reverse("ticket", args=[404])).status_code == 404


# -- draft actions -----------------------------------------------------------------------------


def _send(client, draft, *, htmx: bool = True, **data):
    return client.post(
        reverse("draft-send", args=[draft.pk]),
        {"action": "approve", **data},
        headers=HTMX if htmx else {},
    )


def test_htmx_approve_returns_the_draft_panel_and_updates_thread_and_summary(agent_client):
    draft = DraftFactory(text="Your parcel arrives on Friday.")

    response = _send(agent_client, draft)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert page.lstrip().startswith('<section id="draft-panel"')
    assert "Draft sent by alice" in page
    assert (
        '<section id="thread" class="thread" aria-label="Conversation" hx-swap-oob="true">' in page
    )
    assert 'id="ticket-summary"' in page and page.count('hx-swap-oob="true"') == 2
    assert "Your parcel arrives on Friday." in page.split('id="thread"')[1]
    assert "assigned to alice" in page


def test_plain_form_post_redirects_back_to_the_ticket(agent_client):
    draft = DraftFactory()

    response = _send(agent_client, draft, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{draft.ticket_id}/"
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SENT


def test_second_approval_through_the_page_is_409_and_names_the_first_sender(
    agent_client, other_agent_client, django_capture_on_commit_callbacks
):
    draft = DraftFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _send(agent_client, draft)
        second = _send(other_agent_client, draft)

    assert first.status_code == 200
    assert second.status_code == 409
    assert "This draft was already sent by alice at " in second.content.decode()
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1
    assert len(mail.outbox) == 1


def test_edit_and_send_through_the_page_sends_the_edited_text(agent_client):
    draft = DraftFactory(text="Hello,\nYour parcel arrives on Friday.\nBye")

    response = _send(
        agent_client, draft, action="edit", text="Hello,\nYour parcel arrives on Monday.\nBye"
    )

    assert response.status_code == 200
    outbound = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert outbound.body_text == "Hello,\nYour parcel arrives on Monday.\nBye"
    event = FeedbackEvent.objects.get()
    assert event.kind == "draft_edited"
    assert "+Your parcel arrives on Monday." in event.diff


def test_approve_ignores_text_typed_into_the_editor(agent_client):
    draft = DraftFactory(text="The original draft.")

    _send(agent_client, draft, text="Something the agent did not mean to send")

    assert (
        Message.objects.get(direction=Message.Direction.OUTBOUND).body_text == "The original draft."
    )


def test_sending_an_emptied_draft_is_400_and_says_why(agent_client):
    draft = DraftFactory()

    response = _send(agent_client, draft, action="edit", text="  ")

    assert response.status_code == 400
    assert "The reply is empty." in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_escalate_through_the_page_alerts_supervisors(agent_client):
    draft = DraftFactory()

    response = agent_client.post(
        reverse("draft-escalate", args=[draft.pk]), {"reason": "Legal threat"}, headers=HTMX
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Draft escalated by alice" in page
    assert "Escalated: Legal threat (by alice)" in page
    assert Escalation.objects.get().ticket_id == draft.ticket_id


def test_escalating_a_sent_draft_is_409(agent_client, other_agent_client):
    draft = DraftFactory()
    _send(agent_client, draft)

    response = other_agent_client.post(
        reverse("draft-escalate", args=[draft.pk]), {"reason": "too late"}, headers=HTMX
    )

    assert response.status_code == 409
    assert "already sent by alice" in response.content.decode()
    assert not Escalation.objects.exists()


def _model(target: str, **metrics) -> None:
    from triage.models import ModelVersion

    ModelVersion.objects.create(
        target=target, version=f"{target}-v1", metrics=metrics, is_active=True
    )


def test_the_inbox_never_shows_a_templated_held_out_score_as_accuracy(agent_client):
    _model("category", accuracy=0.999)  # measured on a slice of templates
    _model("answer", accuracy=0.83, realistic=912.0)

    html = agent_client.get(reverse("inbox")).content.decode()

    assert "99.9" not in html and "100%" not in html
    assert "Category</strong>: not measured on real messages yet" in html
    assert "KB answer</strong>: 83% right on realistic messages it never saw" in html
    assert "answer-v1" not in html  # no version hashes for agents


def test_once_agents_have_looked_the_inbox_shows_how_often_they_kept_the_labels(
    agent_client, agent
):
    _model("category", accuracy=0.87, realistic=400.0)
    for n in range(25):
        message = MessageFactory()
        corrected = n < 5
        FeedbackEvent.objects.create(
            kind="triage_corrected" if corrected else "draft_approved",
            actor=agent,
            ticket=message.ticket,
            triage=TriageResultFactory(message=message) if corrected else None,
            draft=None if corrected else DraftFactory(in_reply_to=message),
            before={"category": "refund", "emotion": "neutral"},
            after={"category": "payment" if corrected else "refund", "emotion": "neutral"},
        )

    html = agent_client.get(reverse("inbox")).content.decode()

    assert "Category</strong>: agents kept 80% of the last 25 labels" in html


def test_the_inbox_says_just_now_for_a_new_ticket_and_how_long_for_an_older_one(agent_client):
    new = TicketFactory(subject="Arrived a moment ago")
    old = TicketFactory(subject="Arrived earlier")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=3))

    page = agent_client.get(reverse("inbox")).content.decode()

    row = page[page.index(f'id="ticket-{new.pk}"') :]
    assert ">just now</time>" in row[: row.index("</article>")]
    assert "0\xa0minutes" not in page
    row = page[page.index(f'id="ticket-{old.pk}"') :]
    assert ">3\xa0hours ago</time>" in row[: row.index("</article>")]
