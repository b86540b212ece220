"""The Content-Security-Policy on desk pages: scripts only from our files or with this
response's nonce, no framing, and customer- and AI-written text where htmx ignores attributes."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, DraftFactory, MessageFactory, TriageResultFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<div hx-get="/inbox/" hx-trigger="load">x</div>'
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """The page's <script> tags, its attributes, and each text with whether htmx leaves it
    alone: inside an element with hx-disable, or in the <title>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.attributes: set[tuple[str, str | None]] = set()
        self.texts: list[tuple[str, bool]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.attributes.update(attrs)
        if tag == "script":
            self.scripts.append((attributes, ""))
        if tag not in VOID:
            self.open.append((tag, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.update(attrs)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1][0] == "script":
            attributes, code = self.scripts[-1]
            self.scripts[-1] = (attributes, code + data)
        inert = any(tag == "title" or "hx-disable" in attrs for tag, attrs in self.open)
        self.texts.append((data, inert))

    def shown_only_where_htmx_is_off(self, text: str) -> bool:
        places = [inert for data, inert in self.texts if text in data]
        assert places, f"{text!r} is not on the page"
        return all(places)


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: sources
        for name, *sources in (part.split() for part in header.split(";") if part.strip())
    }


def assert_strict(response) -> str:
    """Assert the policy and that every <script> carries its nonce; return the nonce."""
    assert response.status_code == 200
    directives = policy(response)
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    script_src = directives["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'unsafe-inline'" not in directives["style-src"]
    nonces = [s.removeprefix("'nonce-").removesuffix("'") for s in script_src if "nonce-" in s]
    assert len(nonces) == 1, script_src
    page = Page(response.content.decode())
    assert page.scripts, "the page loads no script at all"
    for attributes, code in page.scripts:
        if attributes.get("type") == "application/json":
            continue  # a data block (the script's strings): never run, so outside the policy
        assert attributes.get("nonce") == nonces[0], (attributes, code[:80])
    # Inline handlers and inline styles would need 'unsafe-inline'; hx-on would need eval.
    assert not {name for name, _ in page.attributes if re.match(r"on|hx-on|style$", name)}
    return nonces[0]


def test_contact_page_nonces_its_inline_script(client):
    response = client.get(reverse("contact"))

    nonce = assert_strict(response)
    inline = [
        code
        for attributes, code in Page(response.content.decode()).scripts
        if code.strip() and attributes.get("type") != "application/json"
    ]
    assert len(inline) == 1 and "navigator.language" in inline[0]
    assert nonce != assert_strict(client.get(reverse("contact")))  # one per response


def test_login_page_is_under_the_policy(client):
    assert_strict(client.get(reverse("login")))


def test_inbox_allows_the_live_socket_and_keeps_subjects_and_names_inert(agent_client):
    MessageFactory(
        ticket__subject=f"Subject {HOSTILE}",
        ticket__customer=CustomerFactory(name=f"Eve {HOSTILE}"),
    )

    response = agent_client.get(reverse("inbox"))

    assert_strict(response)
    connect = policy(response)["connect-src"]
    assert {"'self'", "ws://testserver", "wss://testserver"} <= set(connect)
    page = Page(response.content.decode())
    assert page.shown_only_where_htmx_is_off(f"Subject {HOSTILE}")
    assert page.shown_only_where_htmx_is_off(f"Eve {HOSTILE}")
    assert ("hx-trigger", "load") not in page.attributes


def test_ticket_page_shows_customer_and_ai_text_where_htmx_is_off(agent_client):
    message = MessageFactory(
        body_text=f"My parcel {HOSTILE}",
        body_quoted=f"> earlier {HOSTILE}",
        ticket__subject=f"Subject {HOSTILE}",
        ticket__customer=CustomerFactory(name=f"Eve {HOSTILE}"),
    )
    TriageResultFactory(message=message)
    DraftFactory(in_reply_to=message, text=f"Dear Eve, {HOSTILE}")

    response = agent_client.get(reverse("ticket", args=[message.ticket_id]))

    assert_strict(response)
    page = Page(response.content.decode())
    for text in (
        f"My parcel {HOSTILE}",
        f"> earlier {HOSTILE}",
        f"Subject {HOSTILE}",
        f"Eve {HOSTILE}",
        f"Dear Eve, {HOSTILE}",
    ):
        assert page.shown_only_where_htmx_is_off(text), text
    assert ("hx-trigger", "load") not in page.attributes


def test_a_host_we_do_not_serve_gets_a_400_and_no_socket_origin(client):
    response = client.get(reverse("login"), HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert "evil.example" not in response["Content-Security-Policy"]
    assert policy(response)["connect-src"] == ["'self'"]
