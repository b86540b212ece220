"""An agent's day in a real browser: no dead ends, no silent failures, no lost typing.

Two agents have the same ticket open. One approves the draft while the other is editing it: the
editor's text is not replaced; a prompt says what happened, and taking the new state moves their
text into the composer, from where it goes out as a further reply or an internal note. A failed
action is said where the agent is looking.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.livedesk import (
    DEMO_PASSWORD,
    LIVE_TIMEOUT_MS,
    Installation,
    assert_not_reloaded,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

PIPELINE_TIMEOUT_MS = 60_000


def _second_agent(desk: Installation) -> str:
    desk.orm(
        "from django.contrib.auth.models import Group, User\n"
        "user, _ = User.objects.get_or_create(username='agent2')\n"
        f"user.set_password({DEMO_PASSWORD!r}); user.save()\n"
        "user.groups.add(Group.objects.get(name='agent'))\n"
        "result = True"
    )
    return "agent2"


def _ticket_with_draft(desk: Installation, page: Page) -> int:
    ticket = desk.create_ticket(
        token=desk.api_token("agent"),
        subject="Change my delivery address",
        body="Hi, I moved last week. Can I still change the address on my order? "
        f"It has not shipped yet. Thanks, Robin ({uuid.uuid4().hex[:6]})",
        email=f"robin.{uuid.uuid4().hex[:8]}@example.com",
        name="Robin Hale",
    )
    page.goto(f"{desk.base_url}/tickets/{ticket['id']}/")
    expect(page.locator("#draft-text")).to_have_value(
        re.compile(r"\S"), timeout=PIPELINE_TIMEOUT_MS
    )
    return ticket["id"]


def _page_for(browser: Browser, desk: Installation, username: str, then: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, desk, username, then)
    return page


def test_two_agents_on_one_draft_nobody_loses_their_text(
    live_desk: Installation, desk_page: Page, chromium: Browser
) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    ticket_id = _ticket_with_draft(live_desk, desk_page)
    other = _page_for(chromium, live_desk, _second_agent(live_desk), f"/tickets/{ticket_id}/")
    expect(other.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)
    expect(desk_page.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)

    # agent2 starts editing; agent approves the draft as it is.
    mine = f"P.S. from agent2 {uuid.uuid4().hex[:8]}: your new address is noted."
    editor = other.locator("#draft-text")
    editor.fill(f"{editor.input_value().rstrip()}\n\n{mine}")
    # The first agent sees who is typing before they act.
    expect(desk_page.locator("#viewers")).to_contain_text(
        "agent2 is editing", timeout=LIVE_TIMEOUT_MS
    )
    screenshot(desk_page, "ticket-colleague-editing")
    desk_page.get_by_role("button", name="Approve & send").click()
    expect(desk_page.locator("#draft-panel")).to_contain_text("Draft sent by agent")

    # agent2's editor is untouched; a prompt says what happened.
    changed = other.locator("#panel-changed")
    expect(changed).to_contain_text("The draft was sent by agent", timeout=LIVE_TIMEOUT_MS)
    expect(other.locator("#draft-text")).to_have_value(re.compile(re.escape(mine)))
    assert_not_reloaded(other)
    screenshot(other, "ticket-panel-changed")

    # Taking the new state moves the text into the composer; it goes out as a further reply.
    other.get_by_role("button", name="Show the new state (keeps your text)").click()
    composer = other.locator("#compose-text")
    expect(composer).to_have_value(re.compile(re.escape(mine)))
    expect(other.locator("#draft-panel")).to_contain_text("Draft sent by agent")
    other.locator("#compose-send").click()
    expect(other.locator("#thread article.message.out").filter(has_text=mine)).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    # The first agent sees the further reply arrive in their thread, live.
    expect(desk_page.locator("#thread article.message.out").filter(has_text=mine)).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    other.context.close()


def test_losing_a_send_race_says_who_won_and_gives_the_text_back(
    live_desk: Installation, desk_page: Page, chromium: Browser
) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    ticket_id = _ticket_with_draft(live_desk, desk_page)
    # The other agent sends their edit without taking the new state the page offers them.
    other = _page_for(chromium, live_desk, _second_agent(live_desk), f"/tickets/{ticket_id}/")

    mine = f"Edited by agent2 {uuid.uuid4().hex[:8]}."
    other.locator("#draft-text").fill(mine)
    desk_page.get_by_role("button", name="Approve & send").click()
    expect(desk_page.locator("#draft-panel")).to_contain_text("Draft sent by agent")

    other.locator("#send-edited").click()
    panel = other.locator("#draft-panel")
    expect(panel.get_by_role("alert")).to_contain_text("already sent by agent")
    expect(panel.get_by_role("alert")).to_contain_text("Your text is kept below")
    expect(other.locator("#compose-text")).to_have_value(mine)
    screenshot(other, "ticket-send-race")

    # Kept text can become an internal note for the team.
    other.locator("#compose-note").click()
    note = other.locator("#thread article.message.note").filter(has_text=mine)
    expect(note).to_be_visible()
    expect(note).to_contain_text("Internal note")
    other.context.close()


def test_a_server_failure_is_said_where_the_agent_is_looking(
    live_desk: Installation, desk_page: Page
) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    ticket_id = _ticket_with_draft(live_desk, desk_page)
    desk_page.route(
        f"**/tickets/{ticket_id}/notes/",
        lambda route: route.fulfill(status=500, body="<h1>Server Error (500)</h1>"),
    )
    desk_page.locator("details.compose-other summary").click()
    desk_page.locator("#compose-text").fill("Customer called: keep the old address after all.")
    desk_page.locator("#compose-note").click()

    notice = desk_page.locator("#desk-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("error 500")
    expect(desk_page.locator("#compose-text")).to_have_value(
        "Customer called: keep the old address after all."
    )

    desk_page.unroute(f"**/tickets/{ticket_id}/notes/")
    desk_page.route(f"**/tickets/{ticket_id}/notes/", lambda route: route.abort())
    desk_page.locator("#compose-note").click()
    expect(notice).to_contain_text("cannot reach the server")


def test_search_finds_a_ticket_as_the_agent_types(live_desk: Installation, desk_page: Page) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    marker = uuid.uuid4().hex[:6]
    ticket = live_desk.create_ticket(
        token=live_desk.api_token("agent"),
        subject="退款還沒到帳",
        body=f"您好，我上個月退回的桌燈到現在還沒有收到退款。訂單 LM-{marker}",
        email=f"mei.{marker}@example.com",
        name="林美",
    )
    row = desk_page.locator(f"#ticket-rows #ticket-{ticket['id']}")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)

    desk_page.keyboard.press("/")
    expect(desk_page.locator("#id_q")).to_be_focused()
    desk_page.keyboard.type("退款")
    expect(desk_page.locator(".list-head")).to_contain_text("Search: “退款”")
    expect(row).to_be_visible()
    desk_page.locator("#id_q").fill(f"lm-{marker}")
    expect(desk_page.locator(".list-head")).to_contain_text(f"Search: “lm-{marker}”")
    expect(desk_page.locator("#ticket-rows .row")).to_have_count(1)
    expect(row).to_be_visible()
    screenshot(desk_page, "search-results")

    desk_page.locator("#saved-view-name").fill("Refund follow-ups")
    desk_page.get_by_role("button", name="Save", exact=True).click()
    expect(desk_page.locator("#saved-views")).to_contain_text("Refund follow-ups")


def test_a_macro_is_inserted_by_keyboard_in_the_customers_language(
    live_desk: Installation, desk_page: Page
) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    ticket = live_desk.create_ticket(
        token=live_desk.api_token("agent"),
        subject="注文について",
        body="先週注文した商品がまだ届いておりません。ご確認いただけますでしょうか。",
        email=f"sato.{uuid.uuid4().hex[:8]}@example.com",
        name="佐藤 花子",
    )
    desk_page.goto(f"{live_desk.base_url}/tickets/{ticket['id']}/")
    expect(desk_page.locator("#draft-text")).to_have_value(
        re.compile(r"\S"), timeout=PIPELINE_TIMEOUT_MS
    )
    desk_page.keyboard.press("r")  # the composer, under the draft
    composer = desk_page.locator("#compose-text")
    expect(composer).to_be_focused()

    desk_page.keyboard.press("Alt+m")
    picker = desk_page.locator("#macro-picker")
    expect(picker).to_be_visible()
    expect(desk_page.locator("#macro-search")).to_be_focused()
    # The ticket is in Japanese: the Japanese variants are offered.
    expect(picker.locator("[role=option]").first).to_be_visible()
    expect(picker).to_contain_text("ご注文番号のお願い")
    desk_page.keyboard.type("返金")
    expect(picker.locator("[role=option]")).to_have_count(1)
    screenshot(desk_page, "macros-picker")
    desk_page.keyboard.press("Enter")

    expect(picker).not_to_be_visible()
    expect(composer).to_have_value(re.compile(rf"佐藤 花子 様.*#{ticket['id']}", re.S))


def test_bulk_assign_by_keyboard_and_a_tag_that_filters(
    live_desk: Installation, desk_page: Page
) -> None:
    token = live_desk.api_token("agent")
    marker = uuid.uuid4().hex[:6]
    made = [
        live_desk.create_ticket(
            token=token,
            subject=f"Bulk {marker} {i}",
            body=f"Question {i} about order LM-{marker}{i}.",
            email=f"bulk{i}.{marker}@example.com",
            name=f"Bulk {i}",
        )
        for i in range(2)
    ]
    sign_in(desk_page, live_desk, "agent", f"/inbox/?q={marker}")
    rows = desk_page.locator("#ticket-rows .row")
    expect(rows).to_have_count(2, timeout=LIVE_TIMEOUT_MS)

    desk_page.keyboard.press("j")
    desk_page.keyboard.press("x")
    desk_page.keyboard.press("j")
    desk_page.keyboard.press("x")
    expect(desk_page.locator("#bulk-count")).to_have_text("2 selected")
    # A live update replaces one picked row (the pipeline or a colleague changed the ticket):
    # the agent's pick survives it.
    first = f"#ticket-{made[0]['id']}"
    desk_page.eval_on_selector(first, "row => { row.dataset.stale = 'yes'; }")
    live_desk.orm(
        "from supportdesk import realtime\n"
        "realtime.send_now(realtime.DeskEvent(event=realtime.TICKET_UPDATED,"
        f" ticket_id={made[0]['id']}))\n"
        "result = True"
    )
    expect(desk_page.locator(f"{first}:not([data-stale])")).to_have_count(
        1, timeout=LIVE_TIMEOUT_MS
    )
    expect(desk_page.locator(f"{first} input.pick")).to_be_checked()
    desk_page.locator("#bulk-assignee").select_option(label="agent")
    desk_page.get_by_role("button", name="Assign", exact=True).click()
    expect(desk_page.locator(".bulk-message")).to_contain_text("2 tickets assigned.")
    expect(rows.first).to_contain_text("→ agent")
    screenshot(desk_page, "inbox-bulk")

    desk_page.goto(f"{live_desk.base_url}/tickets/{made[0]['id']}/")
    desk_page.get_by_placeholder("Add a tag").fill("Press enquiry")
    desk_page.get_by_role("button", name="Add", exact=True).click()
    expect(desk_page.locator(".tags")).to_contain_text("press-enquiry")
    desk_page.locator(".tags a", has_text="press-enquiry").click()
    expect(desk_page.locator("#ticket-rows .row")).to_have_count(1)
    expect(desk_page.locator(f"#ticket-{made[0]['id']}")).to_contain_text("#press-enquiry")


def test_an_agent_works_in_traditional_chinese_beside_an_english_colleague(
    live_desk: Installation, desk_page: Page, chromium: Browser
) -> None:
    live_desk.orm(
        "from django.contrib.auth.models import Group, User\n"
        "user, _ = User.objects.get_or_create(username='mei')\n"
        f"user.set_password({DEMO_PASSWORD!r}); user.save()\n"
        "user.groups.add(Group.objects.get(name='agent'))\n"
        "result = True"
    )
    sign_in(desk_page, live_desk, "mei", "/inbox/")
    desk_page.get_by_role("link", name="mei").click()  # her preferences
    desk_page.get_by_label("Language").select_option(label="繁體中文")
    desk_page.get_by_role("button", name="Save").click()
    expect(desk_page.locator("h1")).to_have_text("個人偏好設定")
    expect(desk_page.locator("html")).to_have_attribute("lang", "zh-hant")

    desk_page.get_by_role("link", name="收件匣").click()
    expect(desk_page.locator("h1")).to_have_text("收件匣")
    expect(desk_page.get_by_label("搜尋")).to_be_visible()
    expect(desk_page.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)
    desk_page.evaluate("window.__sameDocument = true")  # the new row must come without a reload
    # The English-speaking colleague has the same inbox open.
    english = _page_for(chromium, live_desk, "agent", "/inbox/")

    ticket = live_desk.create_ticket(
        token=live_desk.api_token("agent"),
        subject=f"訂單還沒收到 {uuid.uuid4().hex[:4]}",
        body="你好，我上週訂的檯燈到現在還沒收到，請問可以幫我查一下嗎？訂單編號 LM-48213。",
        email=f"lin.{uuid.uuid4().hex[:8]}@example.com",
        name="林小姐",
    )
    # The row arrives live on both pages, each in its reader's language.
    row = desk_page.locator(f"#ticket-{ticket['id']}")
    expect(row).to_contain_text("剛剛", timeout=LIVE_TIMEOUT_MS)  # "just now"
    english_row = english.locator(f"#ticket-{ticket['id']}")
    expect(english_row).to_contain_text("just now", timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(desk_page)
    screenshot(desk_page, "inbox-zh-hant")

    row.locator("a.subject").click()
    expect(desk_page.locator("#draft-text")).to_have_value(
        re.compile(r"\S"), timeout=PIPELINE_TIMEOUT_MS
    )
    expect(desk_page.get_by_role("button", name="核准 & 送出")).to_be_visible()
    expect(desk_page.locator("#triage-title")).to_have_text("分類判讀")
    screenshot(desk_page, "ticket-zh-hant")
    # A failed action is said in her language too: an empty internal note.
    desk_page.locator("details.compose-other summary").click()
    desk_page.locator("#compose-text").fill(" ")
    desk_page.locator("#compose-note").click()
    expect(desk_page.locator("#draft-panel > p.alert")).to_contain_text("備註")


def test_a_repeat_customer_is_recognised_and_the_duplicate_merged(
    live_desk: Installation, desk_page: Page
) -> None:
    token = live_desk.api_token("agent")
    email = f"noor.{uuid.uuid4().hex[:8]}@example.com"
    first = live_desk.create_ticket(
        token=token,
        subject="Lamp flickers",
        body="My desk lamp flickers since yesterday. What can I do?",
        email=email,
        name="Noor Haddad",
    )
    second = live_desk.create_ticket(
        token=token,
        subject="Lamp flickering (again)",
        body="Writing again about the flickering lamp, it is still the same.",
        email=email,
        name="Noor Haddad",
    )
    sign_in(desk_page, live_desk, "supervisor", f"/tickets/{second['id']}/")

    # The customer panel links their other ticket; engine details sit behind a toggle.
    panel = desk_page.locator("#ticket-summary")
    expect(panel).to_contain_text("Their other tickets (1)")
    expect(panel.get_by_role("link", name=re.compile("Lamp flickers"))).to_be_visible()
    engine = desk_page.locator("details.engine")
    expect(engine).to_be_visible(timeout=PIPELINE_TIMEOUT_MS)
    expect(engine.locator("p")).not_to_be_visible()
    engine.locator("summary").click()
    expect(engine.locator("p")).to_contain_text("ms")

    desk_page.locator("details.merge summary").click()
    desk_page.get_by_label("Merge this ticket's messages into").select_option(
        value=str(first["id"])
    )
    desk_page.get_by_role("button", name="Merge", exact=True).click()

    # The conversation continues on the older ticket, with both messages and a note saying so.
    expect(desk_page).to_have_url(f"{live_desk.base_url}/tickets/{first['id']}/")
    thread = desk_page.locator("#thread")
    expect(thread).to_contain_text("still the same")
    expect(thread).to_contain_text(f"merged #{second['id']}")
    desk_page.goto(f"{live_desk.base_url}/tickets/{second['id']}/")
    expect(desk_page.locator("#thread")).to_contain_text(f"Merged into #{first['id']}")


def test_an_agent_sees_no_engine_numbers_and_dates_in_their_own_time_zone(
    live_desk: Installation, desk_page: Page
) -> None:
    sign_in(desk_page, live_desk, "agent", "/inbox/")
    desk_page.locator("#ticket-rows .row a.subject").first.click()
    expect(desk_page.locator("#triage-title")).to_be_visible()
    expect(desk_page.locator("details.engine")).to_have_count(0)
    ticket_url = desk_page.url
    stamp = desk_page.locator("#thread article.message time").first
    utc = stamp.inner_text()

    desk_page.get_by_role("link", name="agent", exact=True).click()
    desk_page.get_by_label("Time zone").select_option("Asia/Tokyo")
    desk_page.get_by_role("button", name="Save").click()
    expect(desk_page.locator("[role=status]")).to_contain_text("Asia/Tokyo")
    desk_page.goto(ticket_url)
    # Tokyo is 9 hours ahead of the desk's UTC: the same message shows a different time.
    expect(stamp).not_to_have_text(utc)
    desk_page.get_by_role("link", name="agent", exact=True).click()
    desk_page.get_by_label("Time zone").select_option("")
    desk_page.get_by_role("button", name="Save").click()
