"""The knowledge base grows from what customers ask, in a real browser on a live installation.

Three customers ask, in English, Traditional Chinese and Spanish, whether the leather strap fits
an Apple Watch: the demo knowledge base has no answer. A fourth customer only says thanks and a
fifth asks something the knowledge base answers; neither is a gap. An agent answers the English
customer by hand. The admin finds one FAQ suggestion asked three times in three languages, with
the agent's answer proposed without the customer's name or order number, edits it and publishes
it with Ctrl+Enter. The two customers still waiting get a new draft citing the new article; the
customer the agent answered gets none. The article starts at version 1 with its translations
waiting for a translator. The pages are photographed for the docs.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.livedesk import LIVE_TIMEOUT_MS, Installation, screenshot, sign_in

pytestmark = pytest.mark.browser

PIPELINE_TIMEOUT_S = 120  # triage + draft of five tickets by the worker
REDRAFT_TIMEOUT_S = 180  # train the answer model, then draft the waiting tickets again
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

STRAP = [
    # (subject, body, customer name, locale)
    (
        "Watch strap",
        "Hello, does the leather watch strap fit an Apple Watch 45mm? "
        "I would like to order one for my husband. Thanks, Dana",
        "Dana Whitfield",
        "en-GB",
    ),
    (
        "錶帶尺寸",
        "您好，請問你們的真皮錶帶適用於 Apple Watch 45mm 嗎？我想買一條送給朋友。",
        "林美玲",
        "zh-TW",
    ),
    (
        "Correa de reloj",
        "Hola, ¿la correa de piel sirve para un Apple Watch de 45 mm? "
        "Quiero comprar una para mi hermano. Gracias, Lucía",
        "Lucía Romero",
        "es-ES",
    ),
]
THANKS = (
    "Thank you!",
    "Got it, the refund just showed up on my card. Thanks so much for the help!",
    "Priya Natarajan",
)
ANSWERED_BY_KB = (
    "Change my delivery address",
    "Hi, I moved last week. Can I still change the address on my order? "
    "It has not shipped yet. Thanks, Omar",
    "Omar Haddad",
)
ORDER_NUMBER = "LM-204118"
AGENT_ANSWER = (
    "Hi Dana,\n\n"
    "Yes, it does: the leather strap comes in two sizes, and the 45mm one fits the Apple Watch "
    "cases of 44, 45 and 49 mm (Series 4 and later, SE and Ultra). Dana, I checked your last "
    f"order {ORDER_NUMBER}: the watch in it is a 45 mm Series 9, so choose the 45mm strap.\n\n"
    "Kind regards,\nLumen Support"
)
PUBLISHED_ANSWER = (
    "Yes. The leather strap comes in two sizes. The 45mm strap fits Apple Watch cases of 44, 45 "
    "and 49 mm (Series 4 and later, SE and Ultra); the 41mm strap fits cases of 38, 40 and 41 mm. "
    "Choose the size printed on the back of your watch."
)


def _post(desk: Installation, token: str, subject: str, body: str, name: str, locale: str) -> int:
    status, data = desk.api(
        "POST",
        "/api/v1/tickets",
        token=token,
        payload={
            "subject": subject,
            "body": body,
            "customer": {
                "email": f"{uuid.uuid4().hex[:10]}@example.com",
                "name": name,
                "locale": locale,
            },
        },
    )
    assert status == 201, f"POST /api/v1/tickets answered {status}: {data}"
    return data["id"]


def _signed_in(browser: Browser, desk: Installation, username: str, then: str, **kw) -> Page:
    page = browser.new_context(viewport=DESKTOP, **kw).new_page()
    sign_in(page, desk, username, then)
    return page


def _reload_until(page: Page, locator: Locator, timeout_s: float, what: str) -> None:
    """Reload `page` until `locator` is visible: the worker's result without a live update."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            expect(locator).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout_s:.0f}s for {what}") from None
            page.reload()


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the phone's screen"


def test_questions_the_kb_cannot_answer_become_an_article_that_answers_the_waiting_tickets(
    live_desk: Installation, chromium: Browser
) -> None:
    # 1. Three customers ask the same question in three languages; two others write too.
    token = live_desk.api_token("agent")
    strap = [_post(live_desk, token, *ask) for ask in STRAP]
    thanks = _post(live_desk, token, *THANKS, "en-GB")
    answered_by_kb = _post(live_desk, token, *ANSWERED_BY_KB, "en-GB")
    everyone = [*strap, thanks, answered_by_kb]
    live_desk.wait_for(
        lambda: (
            live_desk.orm(
                "from replies.models import Draft\n"
                f"result = Draft.objects.filter(ticket_id__in={everyone!r})"
                ".values('ticket_id').distinct().count()"
            )
            == len(everyone)
        ),
        PIPELINE_TIMEOUT_S,
        "the worker to draft a reply to every ticket",
        every=1,
    )

    # 2. An agent answers the English customer by hand instead of the holding draft.
    english = strap[0]
    agent = _signed_in(chromium, live_desk, "agent", f"/tickets/{english}/")
    expect(agent.locator("#draft-panel")).to_contain_text("No knowledge-base article answers this")
    agent.locator("details.compose-other > summary").click()
    agent.locator("#compose-text").fill(AGENT_ANSWER)
    agent.locator("#compose-send").click()
    sent = agent.locator("#thread article.message.out").filter(has_text=ORDER_NUMBER)
    expect(sent).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    agent.context.close()

    # 3. The admin finds one suggestion, asked three times in three languages.
    admin = _signed_in(chromium, live_desk, "admin", "/inbox/")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Knowledge").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("FAQ suggestions")
    rows = admin.locator("ol.faq-rows > li.faq-row")
    ours = rows.filter(has_text="Apple Watch")
    expect(ours).to_have_count(1)
    expect(ours.locator(".faq-count")).to_contain_text("3")
    expect(ours.locator(".faq-count")).to_contain_text("tickets")
    for language in ("en", "zh-Hant", "es"):
        expect(ours.locator(".chip").filter(has_text=re.compile(rf"^{language} 1$"))).to_have_count(
            1
        )
    # Neither the thanks nor the question the knowledge base answers is a suggestion.
    expect(rows.filter(has_text=re.compile("refund|thank", re.I))).to_have_count(0)
    expect(rows.filter(has_text=re.compile("address", re.I))).to_have_count(0)
    # The proposed answer comes from the agent's reply, read by the worker.
    _reload_until(
        admin, ours.get_by_text("answer proposed"), 60, "the agent's reply to be proposed"
    )
    screenshot(admin, "knowledge-review")

    # By keyboard: the first row (most asked first) is ours; Enter opens it.
    expect(rows.first).to_contain_text("Apple Watch")
    admin.keyboard.press("j")
    expect(rows.first).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin).to_have_url(re.compile(r"/knowledge/suggestions/\d+/$"))
    suggestion_url = admin.url
    head = admin.locator("header.list-head")
    expect(head).to_contain_text("Asked 3 times")
    for language in ("English", "Traditional Chinese", "Spanish"):
        expect(head).to_contain_text(f"{language} 1")
    asked = admin.locator("ol.asked > li")
    expect(asked).to_have_count(3)
    expect(asked.filter(has_text="Apple Watch")).to_have_count(3)

    answer = admin.get_by_label("Answer", exact=True)
    proposed = answer.input_value()
    assert "the 45mm one fits the Apple Watch cases of 44, 45 and 49 mm" in proposed, proposed
    for personal in ("Dana", ORDER_NUMBER, "Kind regards", "Lumen Support"):
        assert personal not in proposed, f"{personal!r} in the proposed answer: {proposed!r}"
    title = admin.get_by_label("Title", exact=True).input_value()
    assert "Apple Watch" in title, title
    screenshot(admin, "knowledge-suggestion")

    phone = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, live_desk, "admin", "/inbox/")
    phone.goto(suggestion_url)
    expect(phone.get_by_label("Answer", exact=True)).to_be_visible()
    _no_sideways_scroll(phone)
    screenshot(phone, "knowledge-suggestion-phone")
    phone.context.close()

    # The admin writes the answer for everyone and publishes it from the keyboard.
    answer.fill(PUBLISHED_ANSWER)
    answer.press("Control+Enter")
    expect(admin.locator(".knowledge-messages")).to_contain_text(f"Published “{title}”")

    # 4. The customers still waiting get a new draft citing the new article.
    for ticket in strap[1:]:
        admin.goto(f"{live_desk.base_url}/tickets/{ticket}/")
        citation = admin.locator("#draft-panel .citations summary").filter(has_text=title)
        _reload_until(admin, citation, REDRAFT_TIMEOUT_S, f"a new draft on ticket {ticket}")
        expect(admin.locator("#draft-panel .citations summary")).to_have_count(1)
        expect(admin.locator("#draft-panel")).not_to_contain_text(
            "No knowledge-base article answers this"
        )
        expect(admin.locator("#draft-text")).to_have_value(re.compile(r"45\s?mm"))
    # The customer the agent answered gets no new draft: the reply is the latest word. (The
    # worker's run is over first: only then is the absence of a draft an answer.)
    live_desk.wait_for(
        lambda: live_desk.orm(
            "from django_q.models import Task\n"
            "result = Task.objects.filter("
            "func='replies.tasks.suggestion_published', success=True).exists()"
        ),
        REDRAFT_TIMEOUT_S,
        "the worker to finish drafting the waiting tickets again",
        every=1,
    )
    admin.goto(f"{live_desk.base_url}/tickets/{english}/")
    expect(
        admin.locator("#thread article.message.out").filter(has_text=ORDER_NUMBER)
    ).to_be_visible()
    expect(admin.locator("#draft-text")).to_have_count(0)
    expect(admin.locator("#draft-panel").get_by_role("button", name="Send reply")).to_be_visible()

    # 5. The article: version 1, from the suggestion, with its translations waiting.
    admin.goto(suggestion_url)
    expect(admin.locator("header.list-head")).to_contain_text("Approved")
    admin.get_by_role("link", name=title).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(title)
    expect(admin.locator("header.list-head")).to_contain_text("version 1")
    history = admin.locator("#history ol.versions > li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("From an FAQ suggestion asked 3 times")
    expect(admin.locator(".article-body")).to_contain_text("Choose the size printed on the back")
    _reload_until(
        admin,
        admin.locator("#translation-es").get_by_text("Waiting for a translator").first,
        60,
        "the translations to be proposed",
    )
    for language in ("zh-Hant", "es"):
        expect(admin.locator(f"#translation-{language}")).to_contain_text(
            "Waiting for a translator"
        )

    # A second version, compared with the first, for the docs.
    edit = admin.get_by_role("region", name="Edit")
    edit.get_by_label("Text", exact=True).fill(
        f"{PUBLISHED_ANSWER}\nThe strap's buckle is stainless steel on both sizes."
    )
    edit.get_by_label("What changed (optional)").fill("Buckle material added")
    edit.get_by_role("button", name="Save as a new version").click()
    expect(admin.locator("header.list-head")).to_contain_text("version 2")
    admin.get_by_role("link", name="Compare version 2 with previous").click()
    expect(admin.locator("#diff")).to_contain_text("The strap's buckle is stainless steel")
    screenshot(admin, "knowledge-article")
    admin.context.close()
