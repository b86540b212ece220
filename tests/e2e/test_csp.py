"""The Content-Security-Policy in a real browser: the desk, the contact form and the admin work
under it without a single violation, the live socket connects, and markup a customer mails in
stays text."""

from __future__ import annotations

import time
import uuid
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.livedesk import (
    DEMO_PASSWORD,
    LIVE_TIMEOUT_MS,
    Installation,
    assert_not_reloaded,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

HOSTILE = '<div hx-get="/inbox/" hx-trigger="load">x</div>'
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def watch_violations(page: Page) -> list[str]:
    """Every CSP violation on this page from now on, across navigations: the document's
    securitypolicyviolation events and Chromium's console reports."""
    found: list[str] = []
    page.expose_function("reportCspViolation", lambda text: found.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


def htmx_requests_to_inbox(page: Page) -> list[str]:
    """Requests htmx sends to the inbox from this page from now on."""
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.url)
            if "/inbox/" in request.url and request.headers.get("hx-request")
            else None
        ),
    )
    return sent


def test_desk_pages_run_under_the_policy_with_the_live_socket(
    live_desk: Installation, desk_page: Page
) -> None:
    page = desk_page
    violations = watch_violations(page)
    token = live_desk.api_token("agent")

    sign_in(page, live_desk, "agent", "/inbox/")  # waits for the live socket to open
    header = page.context.request.get(f"{live_desk.base_url}/inbox/").headers
    assert "frame-ancestors 'none'" in header["content-security-policy"]
    ticket = live_desk.create_ticket(
        token=token,
        subject="Lamp arrived broken",
        body="Hello, the desk lamp I ordered arrived with a cracked shade. Can you send a new "
        "one? Thanks, Noor",
        email=f"noor.{uuid.uuid4().hex[:8]}@example.com",
        name="Noor Haddad",
    )
    row = page.locator(f"#ticket-rows #ticket-{ticket['id']}")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(page)

    row.locator("a.subject").click()
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#draft-text")).to_be_visible(timeout=60_000)
    screenshot(page, "csp-ticket")

    assert violations == []

    # The policy is enforced and every violation would have been seen: a script injected
    # without the nonce does not run, and is reported.
    ran = page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.body.append(script);
          return window.injected === true;
        }"""
    )
    assert not ran
    deadline = time.monotonic() + 5
    while not violations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert any("script-src" in v for v in violations), violations


def test_contact_form_script_runs_under_the_policy(live_desk: Installation, chromium) -> None:
    context = chromium.new_context(locale="pt-BR", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        violations = watch_violations(page)

        page.goto(f"{live_desk.base_url}/contact/")

        # The page's one inline script ran: it filled in the browser's language.
        expect(page.locator("#id_locale")).to_have_value("pt-BR")
        screenshot(page, "csp-contact")
        page.get_by_label("Your name").fill("Rita Sousa")
        page.get_by_label("Your e-mail address").fill(f"rita.{uuid.uuid4().hex[:8]}@example.com")
        page.get_by_label("Subject").fill("Encomenda atrasada")
        page.get_by_label("Your message").fill("Olá, a minha encomenda ainda não chegou.")
        page.get_by_role("button", name="Send message").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        assert violations == []
    finally:
        context.close()


def test_markup_a_customer_mails_in_stays_text(live_desk: Installation, desk_page: Page) -> None:
    page = desk_page
    violations = watch_violations(page)
    sent = htmx_requests_to_inbox(page)
    marker = uuid.uuid4().hex[:8]
    mail = EmailMessage()
    mail["From"] = f"Mallory Grey <mallory.{marker}@example.com>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Parcel {marker}"
    mail["Message-ID"] = f"<{marker}@example.com>"
    mail.set_content(f"Hello, my parcel did not arrive.\n{HOSTILE}\n")
    mail.add_alternative(f"<p>Hello, my parcel did not arrive.</p>{HOSTILE}", subtype="html")
    raw = live_desk.var_dir / f"hostile-{marker}.eml"
    raw.write_bytes(mail.as_bytes())
    filed = live_desk.manage("ingest_email", str(raw))
    ticket_id = int(filed.split("ticket #")[1].split()[0])

    sign_in(page, live_desk, "agent", f"/tickets/{ticket_id}/")
    body = page.locator("#thread .message.in .body").first
    expect(body).to_contain_text(HOSTILE)  # shown as the text the customer wrote
    expect(page.locator("#thread [hx-get]")).to_have_count(0)
    # Were the markup ever to get past escaping, htmx would still leave it alone in a message.
    page.evaluate(
        """(markup) => {
          const body = document.querySelector("#thread .message.in .body");
          body.insertAdjacentHTML("beforeend", markup);
          htmx.process(body);
        }""",
        HOSTILE,
    )
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_desk.base_url}/inbox/")
    expect(page.locator(f"#ticket-{ticket_id}")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")

    assert sent == []
    assert violations == []
    # The same markup outside customer text is live, so a request would have been seen.
    with page.expect_request(lambda request: "/inbox/" in request.url):
        page.evaluate(
            """(markup) => {
              const main = document.getElementById("main");
              main.insertAdjacentHTML("beforeend", markup);
              htmx.process(main);
            }""",
            HOSTILE,
        )
    assert sent


def test_admin_works_under_the_policy(live_desk: Installation, desk_page: Page) -> None:
    page = desk_page
    violations = watch_violations(page)
    page.goto(f"{live_desk.base_url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    ticket_id = live_desk.orm(
        "from tests.factories import MessageFactory\nresult = MessageFactory().ticket_id"
    )
    for path in (
        "/admin/supportdesk/ticket/",
        f"/admin/supportdesk/ticket/{ticket_id}/change/",
        "/admin/supportdesk/customer/",  # editable list
        "/admin/triage/routingrule/add/",  # the two-pane category picker
    ):
        response = page.goto(live_desk.base_url + path)
        assert response is not None and response.ok, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    # The admin's own scripts ran: the category picker was built.
    expect(page.locator("#id_categories_from")).to_be_visible()
    assert violations == []
