"""The draft editor in a real browser, driven from the keyboard: open a source to read the
passage the draft quotes, regenerate with an instruction, see the needs-translation banner."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.livedesk import Installation, assert_not_reloaded, screenshot, sign_in

pytestmark = pytest.mark.browser

TICKET = """
from replies.services import draft_create
from tests.factories import CustomerFactory, MessageFactory, TriageResultFactory
message = MessageFactory(
    ticket__subject={subject!r},
    ticket__customer=CustomerFactory(name={name!r}, plan="paying", email={email!r}),
    body_text={body!r},
)
TriageResultFactory(message=message, language={language!r})
result = draft_create(message_id=message.pk).ticket_id
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[Installation]:
    installation = Installation.create("editor", tmp_path_factory.mktemp("editor-var"))
    try:
        installation.manage("migrate", "--noinput", step="migrate")
        installation.manage("migrate", "--noinput", "--database", "channels")
        installation.manage("load_demo", step="load_demo")
        installation.serve(worker=False)
        yield installation
    finally:
        installation.stop()


def _ticket(desk: Installation, **fields: str) -> int:
    return desk.orm(TICKET.format(**fields))


def test_agent_reads_a_source_and_regenerates_more_formal_by_keyboard(
    desk: Installation, desk_page: Page
) -> None:
    ticket_id = _ticket(
        desk, subject="Password", name="Ana Ruiz", email="ana.editor@example.com",
        body="I forgot my password. How do I reset it?", language="en",
    )  # fmt: skip
    page = desk_page
    sign_in(page, desk, "agent", f"/tickets/{ticket_id}/")
    draft = page.locator("#draft-text")
    expect(draft).to_have_value(starts_with("Hi Ana Ruiz,"))
    expect(page.locator("#draft-confidence")).to_contain_text("Confidence:")

    page.locator("#citation-1 summary").press("Enter")  # focus, then the key
    passage = page.locator("#citation-1 .passage")
    expect(passage).to_be_visible()
    expect(passage).to_contain_text("Forgot password")
    screenshot(page, "editor-source-open")

    page.get_by_role("button", name="More formal").press("Enter")
    expect(page.locator("#draft-panel")).to_contain_text("regenerated: more formal")
    expect(page.locator("#draft-text")).to_have_value(starts_with("Dear Ana Ruiz,"))
    page.get_by_role("button", name="Shorter").press("Enter")
    expect(page.locator("#draft-panel")).to_contain_text("regenerated: more formal, shorter")
    assert "Thank you for contacting us." not in page.locator("#draft-text").input_value()
    assert_not_reloaded(page)
    screenshot(page, "editor-regenerated-formal-shorter")

    # An agent who edited the draft is asked before a regeneration replaces the edit.
    page.locator("#draft-text").press("Control+End")
    page.keyboard.type(" P.S. Call us any time.")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Add steps").press("Enter")
    expect(page.locator("#draft-text")).to_have_value(re.compile(r"Call us any time\.$"))
    assert questions == ["Regenerating replaces your edits to the draft. Continue?"]
    expect(page.locator("#draft-panel")).not_to_contain_text("add steps")


def test_needs_translation_banner_when_drafted_from_the_source_article(
    desk: Installation, desk_page: Page
) -> None:
    ticket_id = _ticket(
        desk, subject="Invoice", name="Mía", email="mia.editor@example.com",
        body="Necesito descargar el invoice PDF de mi pedido", language="es",
    )  # fmt: skip
    page = desk_page
    sign_in(page, desk, "agent", f"/tickets/{ticket_id}/")

    banner = page.locator(".banner.warn", has_text="Needs translation.")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("(en). Translate the quoted part before sending.")
    expect(page.locator("#draft-text")).to_have_value(starts_with("¡Hola Mía!"))
    screenshot(page, "editor-needs-translation")


def test_bounced_reply_shows_on_the_ticket_until_an_agent_lifts_the_stop(
    desk: Installation, desk_page: Page
) -> None:
    ticket_id = desk.orm(BOUNCED)
    page = desk_page
    sign_in(page, desk, "agent", f"/tickets/{ticket_id}/")

    stop = page.locator(".banner.danger", has_text="Replies to gone.editor@example.com are stopped")
    expect(stop).to_be_visible()
    expect(stop).to_contain_text("5.1.1 user unknown")
    expect(page.locator(".banner.danger", has_text="was not delivered")).to_be_visible()
    expect(page.locator(".chip.delivery-failed")).to_have_text("Failed")
    screenshot(page, "ticket-delivery-failed")

    page.get_by_role("button", name="Address fixed: allow sending again").press("Enter")
    expect(stop).to_have_count(0)
    assert_not_reloaded(page)


BOUNCED = """
from supportdesk.models import Message
from supportdesk.outbox.delivery import customer_outbound_block, outbox_entry_fields
from tests.factories import CustomerFactory, MessageFactory
inbound = MessageFactory(
    ticket__subject="Where is my order?",
    ticket__customer=CustomerFactory(name="Gone", email="gone.editor@example.com"),
    body_text="Where is my order?",
)
MessageFactory(
    ticket=inbound.ticket, direction=Message.Direction.OUTBOUND,
    body_text="It ships tomorrow.",
    **{**outbox_entry_fields(), "delivery_status": Message.Delivery.FAILED,
       "delivery_error": "bounce: Status: 5.1.1 user unknown"},
)
customer_outbound_block(
    customer_id=inbound.ticket.customer_id, reason="bounce: Status: 5.1.1 user unknown"
)
result = inbound.ticket_id
"""


def starts_with(prefix: str) -> re.Pattern:
    """A pattern matching a value that starts with ``prefix`` (textarea values are long)."""
    return re.compile("^" + re.escape(prefix))
