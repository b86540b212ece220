"""The whole loop in a real browser against a live installation.

A ticket arrives through the HTTP API → the worker triages, routes and drafts it → the agent's
already-open inbox shows it live → the agent edits the draft and sends it → the customer's
e-mail is written and the edit is kept as feedback. And: an angry VIP reaches the supervisor's
escalation list live, and assigning it takes it off the list.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.livedesk import (
    LIVE_TIMEOUT_MS,
    VIP_EMAIL,
    Installation,
    assert_not_reloaded,
    mails_to,
    screenshot,
    sign_in,
)
from tests.mailbox import before_footer

pytestmark = pytest.mark.browser

PIPELINE_TIMEOUT_MS = 60_000  # triage + routing + draft by the worker


def test_agent_edits_and_sends_a_live_ticket(live_desk: Installation, desk_page: Page) -> None:
    token = live_desk.api_token("agent")
    customer = f"pat.{uuid.uuid4().hex[:8]}@example.com"
    sign_in(desk_page, live_desk, "agent", "/inbox/")

    ticket = live_desk.create_ticket(
        token=token,
        subject="Where is my parcel?",
        body="Hello, I ordered a desk lamp last Monday and the tracking has not changed since "
        "Wednesday. Could you tell me when it will arrive? Thank you, Pat",
        email=customer,
        name="Pat Doyle",
    )
    row = desk_page.locator(f"#ticket-rows #ticket-{ticket['id']}")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    # The worker's triage reaches the same row live, too.
    expect(row.locator(".chip.lang")).to_have_text("en", timeout=PIPELINE_TIMEOUT_MS)
    assert_not_reloaded(desk_page)
    screenshot(desk_page, "inbox")

    row.locator("a.subject").click()
    expect(desk_page).to_have_url(f"{live_desk.base_url}/tickets/{ticket['id']}/")
    editor = desk_page.locator("#draft-text")
    expect(editor).to_have_value(re.compile(r"\S"), timeout=PIPELINE_TIMEOUT_MS)
    draft = editor.input_value()
    marker = f"Reference E2E-{uuid.uuid4().hex[:10]}: we have asked the courier to call you."
    edited = f"{draft.rstrip()}\n\n{marker}"
    editor.fill(edited)
    screenshot(desk_page, "ticket")

    desk_page.locator("#send-edited").click()
    expect(desk_page.locator("#draft-panel")).to_contain_text("Draft sent by agent")
    # The worker delivers the reply and the thread updates live.
    outbound = desk_page.locator("#thread article.message.out").filter(has_text=marker)
    expect(outbound.locator(".chip.delivery-sent")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    screenshot(desk_page, "ticket-sent")

    saved = live_desk.orm(
        "from feedback.models import FeedbackEvent\n"
        "from supportdesk.models import Message\n"
        f"out = Message.objects.filter(ticket_id={ticket['id']}, direction='out')\n"
        f"events = FeedbackEvent.objects.filter(ticket_id={ticket['id']})\n"
        "result = {\n"
        "  'outbound': list(out.values('body_text', 'delivery_status', 'author_user__username')),\n"
        "  'events': list(events.values('kind', 'diff', 'actor__username')),\n"
        "}"
    )
    assert saved["outbound"] == [
        {"body_text": edited.strip(), "delivery_status": "sent", "author_user__username": "agent"}
    ]
    assert [(e["kind"], e["actor__username"]) for e in saved["events"]] == [
        ("draft_edited", "agent")
    ]
    assert marker in saved["events"][0]["diff"]

    mails = live_desk.wait_for(
        lambda: mails_to(live_desk.sent_mail, customer), 10, f"an e-mail to {customer}"
    )
    assert len(mails) == 1
    assert before_footer(mails[0].get_content()) == edited.strip()
    assert f"[#{ticket['id']}]" in mails[0]["Subject"]


def test_supervisor_sees_an_angry_vip_live_and_takes_it(
    live_desk: Installation, desk_page: Page
) -> None:
    token = live_desk.api_token("agent")
    sign_in(desk_page, live_desk, "supervisor", "/supervisor/")
    badge = desk_page.locator("#escalation-badge")
    open_before = int(badge.inner_text())

    ticket = live_desk.create_ticket(
        token=token,
        subject="Charged twice AGAIN - this is unacceptable",
        body="This is the third time I write. You charged my card twice for the same order and "
        "nobody answers. I am furious. Refund me today or I cancel everything!",
        email=VIP_EMAIL,
        name="Vera Importante",
    )
    escalation = desk_page.locator("#escalation-list article.escalation").filter(
        has=desk_page.locator(f'a[href="/tickets/{ticket["id"]}/"]')
    )
    expect(escalation).to_be_visible(timeout=PIPELINE_TIMEOUT_MS)
    expect(escalation).to_contain_text("VIP customer")
    expect(badge).to_have_text(str(open_before + 1), timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(desk_page)
    screenshot(desk_page, "supervisor")

    escalation.get_by_role("button", name="Assign to me").click()
    expect(escalation).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    expect(badge).to_have_text(str(open_before), timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(desk_page)

    taken = live_desk.orm(
        "from triage.models import Escalation\n"
        "e = Escalation.objects.select_related('ticket__assignee', 'acknowledged_by')"
        f".get(ticket_id={ticket['id']})\n"
        "result = [e.ticket.assignee.username, e.acknowledged_by.username]"
    )
    assert taken == ["supervisor", "supervisor"]

    # The ticket explains itself: the rule that fired and the conditions that matched.
    desk_page.goto(f"{live_desk.base_url}/tickets/{ticket['id']}/")
    fired = desk_page.locator(".fired-rules li").first
    expect(fired).to_contain_text("VIP, angry or urgent: alert a supervisor")
    expect(fired).to_contain_text("VIP customer")
    expect(desk_page.get_by_label("Assigned to")).to_have_value(
        str(
            live_desk.orm(
                "from django.contrib.auth.models import User\n"
                "result = User.objects.get(username='supervisor').pk"
            )
        )
    )
