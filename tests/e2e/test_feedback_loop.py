"""The feedback loop in a real browser against a live installation.

An agent edits a draft, says why ("Tone") and sends it; the customer rates the reply from the
link in its e-mail, in a browser that never signed in, and adds a comment. The agent solves the
ticket and the customer writes again: a follow-up. A second ticket is answered automatically
and an agent replies on it anyway: a takeover. A supervisor brings the metrics up to date and
finds each of them in its figure and in the tickets behind it; the evaluation export carries
them too. The metrics page is photographed for the docs on a desktop, a phone and in Chinese.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.livedesk import (
    LIVE_TIMEOUT_MS,
    ROOT,
    Installation,
    mails_to,
    sign_in,
)
from tests.mailbox import before_footer

pytestmark = pytest.mark.browser

PIPELINE_TIMEOUT_S = 90  # triage + routing + draft (+ auto-send) by the worker
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _docs_screenshot(page: Page, name: str) -> Path:
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = DOCS_SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _signed_in(browser: Browser, desk: Installation, username: str, **context) -> Page:
    page = browser.new_context(viewport=DESKTOP, **context).new_page()
    sign_in(page, desk, username, "/inbox/" if username == "agent" else "/supervisor/")
    return page


def _wait_for_draft(desk: Installation, ticket_id: int) -> None:
    desk.wait_for(
        lambda: desk.orm(
            "from replies.models import Draft\n"
            f"result = Draft.objects.filter(ticket_id={ticket_id}).exists()"
        ),
        PIPELINE_TIMEOUT_S,
        f"the worker to draft a reply on ticket {ticket_id}",
        every=1,
    )


def _rating_links(text: str) -> dict[str, str]:
    """The footer's one-click links by score label ("Good", "Okay", "Not good")."""
    footer = text.replace("\r\n", "\n").split("\n-- \n", 1)[1]
    return dict(re.findall(r"^(Good|Okay|Not good): (\S+)$", footer, re.M))


def _kpi(page: Page, title: str) -> Locator:
    return page.locator("article.kpi").filter(has=page.get_by_role("heading", name=title))


def _listed_tickets(page: Page) -> list[int]:
    refs = page.locator("table.report tbody th[scope=row] a").all_inner_texts()
    return [int(re.match(r"#(\d+)", ref).group(1)) for ref in refs]


def test_ratings_edits_follow_ups_and_takeovers_reach_the_metrics_and_the_export(
    live_desk: Installation, chromium: Browser, tmp_path: Path
) -> None:
    token = live_desk.api_token("agent")
    agent = _signed_in(chromium, live_desk, "agent")

    # 1. The agent edits a draft for its tone and sends it.
    customer = f"noor.{uuid.uuid4().hex[:8]}@example.com"
    edited = live_desk.create_ticket(
        token=token,
        subject="Where is my parcel?",
        body="Hello, I ordered a desk lamp last Monday and the tracking has not changed since "
        "Wednesday. Could you tell me when it will arrive? Thank you, Noor",
        email=customer,
        name="Noor Haddad",
    )
    agent.goto(f"{live_desk.base_url}/tickets/{edited['id']}/")
    editor = agent.locator("#draft-text")
    expect(editor).to_have_value(re.compile(r"\S"), timeout=PIPELINE_TIMEOUT_S * 1000)
    marker = f"Reference E2E-{uuid.uuid4().hex[:10]}: I am so sorry for the wait."
    reply_text = f"{editor.input_value().rstrip()}\n\n{marker}"
    editor.fill(reply_text)
    agent.get_by_label("Tone", exact=True).check()
    agent.locator("#send-edited").click()
    expect(agent.locator("#draft-panel")).to_contain_text("Draft sent by agent")
    sent = agent.locator("#thread article.message.out").filter(has_text=marker)
    expect(sent.locator(".chip.delivery-sent")).to_be_visible(timeout=LIVE_TIMEOUT_MS)

    # The customer rates the reply from its e-mail, in a browser that never signed in.
    mail = live_desk.wait_for(
        lambda: [m for m in mails_to(live_desk.sent_mail, customer) if marker in m.get_content()],
        20,
        f"the reply e-mail to {customer}",
    )[0]
    body = mail.get_content()
    assert before_footer(body) == reply_text.strip()
    links = _rating_links(body)
    assert set(links) == {"Good", "Okay", "Not good"}
    site_url = live_desk.env["SITE_URL"]
    assert all(link.startswith(f"{site_url}/rate/") for link in links.values()), links
    # The mail carries the installation's public address; this one listens on a test port.
    good = live_desk.base_url + urlsplit(links["Good"]).path
    customer_context = chromium.new_context(viewport=DESKTOP)
    try:
        rating_page = customer_context.new_page()
        rating_page.goto(good)
        expect(rating_page.get_by_role("heading", level=1)).to_have_text(
            "Thank you for your rating"
        )
        expect(rating_page.locator(".rating-page")).to_contain_text("You rated our reply: Good")
        rating_page.get_by_label("Anything you would like to add?").fill(
            "Quick and kind, thank you."
        )
        rating_page.get_by_role("button", name="Send comment").click()
        expect(rating_page.get_by_role("heading", level=1)).to_have_text(
            "Thank you for your comment"
        )
        # A second click on another score changes nothing: the first rating stands.
        rating_page.goto(live_desk.base_url + urlsplit(links["Not good"]).path)
        expect(rating_page.get_by_role("heading", level=1)).to_have_text(
            "Your rating was already recorded"
        )
    finally:
        customer_context.close()

    # 2. The agent solves the ticket; the customer writes again the same day.
    agent.goto(f"{live_desk.base_url}/tickets/{edited['id']}/")
    agent.get_by_role("button", name="Mark solved").click()
    expect(agent.locator("#ticket-summary .status")).to_have_text("Solved")
    status, _written = live_desk.api(
        "POST",
        f"/api/v1/tickets/{edited['id']}/messages",
        token=token,
        payload={"body": "Hello again, the lamp still has not arrived. Noor"},
    )
    assert status == 201

    # 3. A second ticket is answered automatically; an agent replies on it anyway.
    keyword = f"AUTO-{uuid.uuid4().hex[:8]}"
    live_desk.orm(
        "from supportdesk.models import Category\n"
        "from triage.models import RoutingRule, RoutingSettings\n"
        "Category.objects.update(auto_send=True)\n"
        "config = RoutingSettings.current()\n"
        "config.auto_send_min_category_confidence = 0\n"
        "config.auto_send_min_draft_confidence = 0\n"
        "config.save()\n"
        "RoutingRule.objects.create(position=1, name='Test tickets: send the draft', "
        f"keywords=[{keyword!r}], action='auto_send')\n"
        "result = True"
    )
    automatic = live_desk.create_ticket(
        token=token,
        subject="Invoice for my order",
        body="Hello, where can I download the invoice for my last order? "
        f"My reference is {keyword}. Thank you, Sam",
        email=f"sam.{uuid.uuid4().hex[:8]}@example.com",
        name="Sam Okafor",
    )
    _wait_for_draft(live_desk, automatic["id"])
    verdict = live_desk.wait_for(
        lambda: live_desk.orm(
            "from triage.models import RoutingDecision\n"
            f"d = RoutingDecision.objects.filter(ticket_id={automatic['id']})"
            ".order_by('-pk').first()\n"
            "result = d.auto_send if d else None"
        ),
        PIPELINE_TIMEOUT_S,
        "the auto-send check",
        every=1,
    )
    assert verdict["allowed"], f"auto-send held back: {verdict['blocked_by']}"
    agent.goto(f"{live_desk.base_url}/tickets/{automatic['id']}/")
    expect(agent.locator("#thread article.message.out")).to_have_count(1)
    takeover = f"Sam, I checked this myself: the invoice is attached ({uuid.uuid4().hex[:6]})."
    agent.locator("#compose-text").fill(takeover)
    agent.locator("#compose-send").click()
    expect(agent.locator("#thread article.message.out").filter(has_text=takeover)).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    agent.context.close()

    # The worker has counted the follow-up before the figures are brought up to date.
    live_desk.wait_for(
        lambda: live_desk.orm(
            "from feedback.models import FeedbackEvent\n"
            f"result = FeedbackEvent.objects.filter(ticket_id={edited['id']}, "
            "kind='follow_up').exists()"
        ),
        PIPELINE_TIMEOUT_S,
        "the worker to count the customer's follow-up",
        every=1,
    )

    # 4. The supervisor brings the figures up to date and finds each judgement.
    supervisor = _signed_in(chromium, live_desk, "supervisor")
    supervisor.goto(f"{live_desk.base_url}/metrics/")
    supervisor.get_by_role("button", name="Update now").click()
    expect(supervisor).to_have_url(re.compile(r"/metrics/"))
    expect(supervisor.locator(".metrics-head")).to_contain_text("Figures as of")

    csat = _kpi(supervisor, "Customer satisfaction")
    expect(csat.locator("a[href*='measure=csat_good']")).to_contain_text("100 %")
    expect(csat.locator("a[href*='measure=csat_good']")).to_contain_text("good of 1 rating")
    drafts = _kpi(supervisor, "Drafts")
    # Two drafts were decided: one edited, and the automatic reply a person took over.
    expect(drafts.locator("a[href*='measure=edited']")).to_have_text(re.compile(r"50 %\s+edited"))
    expect(drafts).to_contain_text("of 2 drafts people decided")
    after = _kpi(supervisor, "Answers that did not end it")
    expect(after.locator("a[href*='measure=follow_ups']")).to_have_text(
        re.compile(r"1\s+customer wrote again")
    )
    expect(after.locator("a[href*='measure=takeovers']")).to_have_text(
        re.compile(r"1\s+taken over after an automatic reply")
    )
    metrics_url = supervisor.url

    drafts.locator("a[href*='measure=edited']").click()
    expect(supervisor.get_by_role("heading", level=1)).to_have_text("Draft edited, then sent")
    assert _listed_tickets(supervisor) == [edited["id"]]
    row = supervisor.locator("table.report tbody tr").first
    expect(row.locator(".chip")).to_have_text(["Tone"])
    expect(row).to_contain_text("good")

    supervisor.goto(metrics_url)
    after.locator("a[href*='measure=follow_ups']").click()
    expect(supervisor.get_by_role("heading", level=1)).to_have_text("Customer wrote again")
    assert _listed_tickets(supervisor) == [edited["id"]]

    supervisor.goto(metrics_url)
    after.locator("a[href*='measure=takeovers']").click()
    expect(supervisor.get_by_role("heading", level=1)).to_have_text(
        "Taken over from an automatic reply"
    )
    assert _listed_tickets(supervisor) == [automatic["id"]]

    # 5. The evaluation export carries the edit's reason, the rating, the follow-up and the
    # takeover.
    target = tmp_path / "eval.jsonl"
    live_desk.manage("export_feedback", "--format", "eval", "--output", str(target))
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    by_ticket = {row["ticket_id"]: row for row in rows if row["id"].startswith("draft-")}
    edit = by_ticket[edited["id"]]
    assert (edit["outcome"], edit["edit_reason"], edit["follow_ups"], edit["taken_over"]) == (
        "edited",
        "tone",
        1,
        False,
    )
    assert edit["rating"] == {"score": "good", "comment": "Quick and kind, thank you."}
    assert "I am so sorry for the wait." in edit["sent"]
    auto = by_ticket[automatic["id"]]
    assert (auto["outcome"], auto["taken_over"], auto["rating"]) == ("auto", True, None)

    # 6. The page as the docs show it: a desktop, a phone, and in Traditional Chinese.
    supervisor.goto(metrics_url)
    _docs_screenshot(supervisor, "metrics")
    phone = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, live_desk, "supervisor", "/supervisor/")
    phone.goto(metrics_url)
    _no_sideways_scroll(phone)
    _docs_screenshot(phone, "metrics-mobile")
    phone.context.close()

    supervisor.goto(f"{live_desk.base_url}/me/")
    supervisor.locator("#language").select_option("zh-hant")
    supervisor.get_by_role("button", name="Save").click()
    supervisor.goto(metrics_url)
    expect(supervisor.locator("html")).to_have_attribute("lang", "zh-hant")
    _docs_screenshot(supervisor, "metrics-zh-hant")
    supervisor.context.close()


def _no_sideways_scroll(page: Page) -> None:
    """On a phone the page itself never scrolls sideways; wide tables scroll in their box."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the phone's screen"
