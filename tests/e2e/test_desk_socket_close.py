"""What a desk page does when the server closes its socket, in a real Chromium.

The page is the real `base.html` with its real scripts (htmx, its ws extension, desk.js); only
the WebSocket is a stand-in the test opens and closes, so no installation is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.template import engines
from django.test import RequestFactory
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.browser

ORIGIN = "http://desk.test"
PAGE = "/tickets/42/"

# Stands in for the browser's WebSocket: records every connection the page opens and lets the
# test play the server's side.
FAKE_WEBSOCKET = """
window.__sockets = [];
class FakeWebSocket extends EventTarget {
  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
  CONNECTING = 0; OPEN = 1; CLOSING = 2; CLOSED = 3;
  constructor(url) { super(); this.url = url; this.readyState = 0; window.__sockets.push(this); }
  serverOpen() { this.readyState = 1; this.fire(new Event("open"), this.onopen); }
  serverClose(code) {
    this.readyState = 3;
    this.fire(new CloseEvent("close", { code, wasClean: code !== 1006 }), this.onclose);
  }
  fire(event, handler) { if (handler) handler.call(this, event); this.dispatchEvent(event); }
  send() {}
  close() { this.readyState = 3; }
}
window.WebSocket = FakeWebSocket;
"""


def _desk_page_html() -> str:
    """`base.html` as an open ticket page renders it, minus the signed-in header."""
    request = RequestFactory().get(PAGE)
    request.user = AnonymousUser()
    template = engines["django"].from_string(
        '{% extends "base.html" %}'
        '{% block main_attrs %}hx-ext="ws" ws-connect="/ws/desk/?view=ticket&amp;id=42"'
        "{% endblock %}{% block content %}<h1>Where is my parcel?</h1>{% endblock %}"
    )
    return template.render(request=request)


@pytest.fixture
def open_page(desk_page: Page) -> Page:
    html = _desk_page_html()

    def serve(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == PAGE:
            route.fulfill(body=html, content_type="text/html")
            return
        found = finders.find(path.removeprefix("/static/"))
        if not path.startswith("/static/") or found is None:
            route.fulfill(status=404)
            return
        route.fulfill(body=Path(found).read_bytes(), content_type="text/javascript")

    desk_page.add_init_script(FAKE_WEBSOCKET)
    desk_page.route(f"{ORIGIN}/**", serve)
    desk_page.goto(f"{ORIGIN}{PAGE}")
    desk_page.wait_for_function("window.__sockets.length === 1")
    desk_page.evaluate("window.__sockets[0].serverOpen()")
    expect(desk_page.locator("body")).to_have_attribute("data-live", "on")
    return desk_page


def test_an_ended_session_says_so_and_does_not_reconnect(open_page: Page) -> None:
    open_page.evaluate("window.__sockets[0].serverClose(4401)")

    notice = open_page.get_by_role("alert")
    expect(notice).to_have_text("Your session ended — sign in again. Live updates have stopped.")
    expect(notice.get_by_role("link", name="sign in again")).to_have_attribute(
        "href", "/login/?next=%2Ftickets%2F42%2F"
    )
    expect(open_page.locator("body")).to_have_attribute("data-live", "ended")
    # The first retry after a drop comes within a second (see the next test); wait past it.
    open_page.wait_for_timeout(2500)
    assert open_page.evaluate("window.__sockets.length") == 1


def test_a_lost_permission_says_so_and_does_not_reconnect(open_page: Page) -> None:
    open_page.evaluate("window.__sockets[0].serverClose(4403)")

    expect(open_page.get_by_role("alert")).to_have_text(
        "Your account no longer has access to this page. Live updates have stopped."
    )
    open_page.wait_for_timeout(2500)
    assert open_page.evaluate("window.__sockets.length") == 1


def test_a_dropped_connection_still_reconnects_quietly(open_page: Page) -> None:
    open_page.evaluate("window.__sockets[0].serverClose(1006)")

    open_page.wait_for_function("window.__sockets.length === 2", timeout=5000)
    expect(open_page.locator("body")).to_have_attribute("data-live", "off")
    expect(open_page.get_by_role("alert")).to_have_count(0)
