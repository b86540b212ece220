"""Accessibility in a real browser: axe-core finds no serious or critical violation on the pages
customers and agents use, signed out and in, on a desktop and on a phone.

axe runs inside each page under the page's own Content-Security-Policy, so it checks what a
visitor's browser renders. It is evaluated through the browser's debugging protocol rather than
added as a <script> element, which the policy (rightly) refuses without the page's nonce.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.livedesk import (
    LIVE_TIMEOUT_MS,
    VIP_EMAIL,
    Installation,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
PIPELINE_TIMEOUT_S = 120
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class DeskTickets:
    with_draft: int  # a proposed draft, from a customer with an earlier ticket
    escalated: int  # an angry VIP's ticket, in the supervisors' queue


@pytest.fixture(scope="module")
def desk_tickets(live_desk: Installation) -> DeskTickets:
    token = live_desk.api_token("agent")
    customer = f"robin.{uuid.uuid4().hex[:8]}@example.com"
    earlier = live_desk.create_ticket(
        token=token,
        subject="Where is my parcel?",
        body="Hello, the tracking for my desk lamp has not changed since Wednesday. Robin",
        email=customer,
        name="Robin Hale",
    )
    with_draft = live_desk.create_ticket(
        token=token,
        subject="Change my delivery address",
        body="Hi, I moved last week. Can I still change the address on my order? "
        "It has not shipped yet. Thanks, Robin",
        email=customer,
        name="Robin Hale",
    )
    escalated = live_desk.create_ticket(
        token=token,
        subject="Charged twice AGAIN - this is unacceptable",
        body="You charged my card twice for the same order and nobody answers. I am furious. "
        "Refund me today or I cancel everything!",
        email=VIP_EMAIL,
        name="Vera Importante",
    )
    live_desk.wait_for(
        lambda: live_desk.orm(
            "from replies.models import Draft\n"
            "from triage.models import Escalation\n"
            f"result = Draft.objects.filter(ticket_id={with_draft['id']}, status='proposed')"
            f".exists() and Escalation.objects.filter(ticket_id={escalated['id']}).exists()"
        ),
        PIPELINE_TIMEOUT_S,
        "the worker to draft the reply and raise the escalation",
        every=1,
    )
    # Whatever triage made of them, the inbox shows a row of each urgency (each has its colour).
    live_desk.orm(
        "from supportdesk.models import Ticket\n"
        f"Ticket.objects.filter(pk={earlier['id']}).update(urgency=Ticket.Urgency.MEDIUM)\n"
        f"Ticket.objects.filter(pk={with_draft['id']}).update(urgency=Ticket.Urgency.LOW)\n"
        f"Ticket.objects.filter(pk={escalated['id']}).update(urgency=Ticket.Urgency.HIGH)\n"
        "result = True"
    )
    return DeskTickets(with_draft=with_draft["id"], escalated=escalated["id"])


def serious_violations(page: Page) -> list[dict]:
    """The serious and critical violations axe finds in the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " ".join(" >>> ".join(t) if isinstance(t, list) else t for t in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"  - {target}\n      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    found = serious_violations(page)
    assert not found, f"{what} ({page.url}) has serious accessibility violations:\n" + describe(
        found
    )


def wait_until_live(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)


def open_every_disclosure(page: Page) -> None:
    for details in page.locator("details").all():
        if not details.evaluate("element => element.open"):
            details.locator(":scope > summary").click()
    expect(page.locator("details:not([open])")).to_have_count(0)


def test_login_page(live_desk: Installation, desk_page: Page) -> None:
    desk_page.goto(f"{live_desk.base_url}/login/")
    assert_accessible(desk_page, "The sign-in page")

    # Not a demo user: the other tests' sign-ins must not inherit a failed attempt.
    desk_page.get_by_label("Username").fill("nobody")
    desk_page.get_by_label("Password").fill("not the password")
    desk_page.get_by_role("button", name="Sign in").click()
    expect(desk_page.get_by_role("alert")).to_contain_text("didn't match")
    assert_accessible(desk_page, "The sign-in page with its error")


def test_contact_form_with_and_without_errors(live_desk: Installation, desk_page: Page) -> None:
    desk_page.goto(f"{live_desk.base_url}/contact/")
    assert_accessible(desk_page, "The contact form")

    desk_page.get_by_label("Your e-mail address").fill("not an address")
    desk_page.get_by_role("button", name="Send message").click()
    expect(desk_page.locator("#form-errors")).to_be_focused()
    expect(desk_page.locator(".field-error").first).to_be_visible()
    assert_accessible(desk_page, "The contact form showing its errors")

    desk_page.get_by_label("Your name").fill("Rita Sousa")
    desk_page.get_by_label("Your e-mail address").fill(f"rita.{uuid.uuid4().hex[:8]}@example.com")
    desk_page.get_by_label("Subject").fill("Late order")
    desk_page.get_by_label("Your message").fill("Hello, my order has not arrived yet.")
    desk_page.get_by_role("button", name="Send message").click()
    expect(desk_page.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    assert_accessible(desk_page, "The contact form's thank-you page")


def test_contact_form_in_a_taiwanese_browser(live_desk: Installation, chromium: Browser) -> None:
    context = chromium.new_context(locale="zh-TW")
    try:
        page = context.new_page()
        page.goto(f"{live_desk.base_url}/contact/")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
        expect(page.get_by_role("heading", level=1)).to_have_text("聯絡客服")
        assert_accessible(page, "The contact form in Traditional Chinese")
        screenshot(page, "contact-zh-hant")
    finally:
        context.close()


def test_inbox(live_desk: Installation, desk_page: Page, desk_tickets: DeskTickets) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    expect(desk_page.locator(f"#ticket-{desk_tickets.with_draft}")).to_be_visible()
    assert_accessible(desk_page, "The inbox")
    screenshot(desk_page, "accessibility-inbox")

    desk_page.locator(f"#ticket-{desk_tickets.with_draft} input.pick").check()
    desk_page.get_by_role("button", name="Assign", exact=True).click()
    expect(desk_page.locator(".bulk-message")).to_be_visible()
    assert_accessible(desk_page, "The inbox after a bulk action")


def test_inbox_on_a_phone(
    live_desk: Installation, chromium: Browser, desk_tickets: DeskTickets
) -> None:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in(page, live_desk, "agent", "/inbox/")
        expect(page.locator(f"#ticket-{desk_tickets.with_draft}")).to_be_visible()
        assert_accessible(page, "The inbox on a 390 px wide screen")
        screenshot(page, "accessibility-inbox-phone")
    finally:
        context.close()


def test_ticket_with_a_proposed_draft(
    live_desk: Installation, desk_page: Page, desk_tickets: DeskTickets
) -> None:
    sign_in(desk_page, live_desk, "agent", f"/tickets/{desk_tickets.with_draft}/")
    expect(desk_page.locator("#draft-text")).to_have_value(re.compile(r"\S"))
    assert_accessible(desk_page, "The ticket page")

    # Sources, the composer, triage correction, merging and escalating are behind disclosures.
    open_every_disclosure(desk_page)
    expect(desk_page.locator("#compose-text")).to_be_visible()
    assert_accessible(desk_page, "The ticket page with every disclosure open")

    desk_page.locator(".macro-open[data-for=draft-text]").click()
    picker = desk_page.locator("#macro-picker")
    expect(desk_page.locator("#macro-search")).to_be_focused()
    expect(picker.get_by_role("option").first).to_be_visible()
    desk_page.keyboard.press("ArrowDown")
    expect(desk_page.locator("#macro-search")).to_have_attribute(
        "aria-activedescendant", re.compile(r"\S")
    )
    assert_accessible(desk_page, "The macro picker")
    screenshot(desk_page, "accessibility-macro-picker")

    desk_page.keyboard.type("zzzz nothing matches")
    expect(picker).to_contain_text("No macro matches")
    assert_accessible(desk_page, "The macro picker when nothing matches")


def test_supervisor_escalation_queue(
    live_desk: Installation, desk_page: Page, desk_tickets: DeskTickets
) -> None:
    sign_in(desk_page, live_desk, "supervisor", "/supervisor/")
    expect(
        desk_page.locator(f'#escalation-list a[href="/tickets/{desk_tickets.escalated}/"]')
    ).to_be_visible()
    assert_accessible(desk_page, "The escalation queue")

    # A supervisor's ticket page carries more: engine details, re-routing, de-escalating.
    desk_page.goto(f"{live_desk.base_url}/tickets/{desk_tickets.escalated}/")
    wait_until_live(desk_page)
    open_every_disclosure(desk_page)
    assert_accessible(desk_page, "An escalated ticket, seen by a supervisor")


def test_preferences(live_desk: Installation, desk_page: Page) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    desk_page.goto(f"{live_desk.base_url}/me/")  # no live socket on this page
    assert_accessible(desk_page, "The preferences page")

    desk_page.get_by_label("Time zone").select_option("Europe/Lisbon")
    desk_page.get_by_role("button", name="Save").click()
    expect(desk_page.get_by_role("status")).to_contain_text("Europe/Lisbon")
    assert_accessible(desk_page, "The preferences page after saving")


def test_metrics_and_the_tickets_behind_a_figure(
    live_desk: Installation, chromium: Browser, desk_tickets: DeskTickets
) -> None:
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        context = chromium.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, live_desk, "supervisor", "/supervisor/")
            page.goto(f"{live_desk.base_url}/metrics/")
            page.get_by_role("button", name="Update now").click()
            expect(page.locator(".metrics-head")).to_contain_text("Figures as of")
            assert_accessible(page, f"The metrics page, {viewport['width']} px wide")

            page.goto(f"{live_desk.base_url}/metrics/tickets/?measure=tickets")
            expect(
                page.locator(f'table.report a[href="/tickets/{desk_tickets.with_draft}/"]')
            ).to_be_visible()
            assert_accessible(page, f"The tickets behind a figure, {viewport['width']} px wide")
        finally:
            context.close()


@pytest.fixture(scope="module")
def faq_suggestion(live_desk: Installation) -> int:
    """A pending FAQ suggestion: a question the demo knowledge base cannot answer."""
    token = live_desk.api_token("agent")
    ticket = live_desk.create_ticket(
        token=token,
        subject="Watch strap",
        body="Hello, does the leather watch strap fit an Apple Watch 45mm? Thanks, Kim",
        email=f"kim.{uuid.uuid4().hex[:8]}@example.com",
        name="Kim Park",
    )
    return live_desk.wait_for(
        lambda: live_desk.orm(
            "from knowledge.models import KnowledgeGap\n"
            f"gap = KnowledgeGap.objects.filter(ticket_id={ticket['id']}).first()\n"
            "result = gap.suggestion_id if gap else None"
        ),
        PIPELINE_TIMEOUT_S,
        "the worker to raise an FAQ suggestion",
        every=1,
    )


def test_knowledge_review_suggestion_and_article_pages(
    live_desk: Installation, chromium: Browser, faq_suggestion: int
) -> None:
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        context = chromium.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, live_desk, "admin", "/inbox/")
            page.goto(f"{live_desk.base_url}/knowledge/")
            expect(page.locator(f"#suggestion-{faq_suggestion}")).to_be_visible()
            assert_accessible(page, f"The FAQ suggestions, {viewport['width']} px wide")

            page.goto(f"{live_desk.base_url}/knowledge/suggestions/{faq_suggestion}/")
            expect(page.get_by_label("Answer", exact=True)).to_be_visible()
            open_every_disclosure(page)
            assert_accessible(page, f"An FAQ suggestion, {viewport['width']} px wide")

            page.goto(f"{live_desk.base_url}/knowledge/articles/")
            page.locator("table.knowledge-articles tbody th a").first.click()
            expect(page.locator("#history")).to_be_visible()
            assert_accessible(page, f"An article's page, {viewport['width']} px wide")
        finally:
            context.close()
