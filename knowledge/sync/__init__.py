"""Knowledge-base sync: readers that turn each external source's articles into plain
`ExternalArticle`s, and (in services.py) the writes that keep local articles in step with them.

The readers are plain Python over HTTP: no ORM. Each returns every article of its source or
raises `SyncSourceError`; a source is never read in part (an article missing from a complete
listing is unpublished, so a partial listing must never be taken for a complete one).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

import nh3

from supportdesk.intake.email_in.decode import html_to_text

ZENDESK, NOTION, CONFLUENCE = "zendesk", "notion", "confluence"
SOURCES = (ZENDESK, NOTION, CONFLUENCE)


@dataclass(frozen=True)
class ExternalArticle:
    external_id: str
    title: str
    body: str  # plain text, one paragraph or list item a line
    language: str  # one of the desk's SUPPORTED_LANGUAGES
    url: str
    updated_at: datetime | None
    archived: bool = False  # a draft, archived or trashed page: not shown to customers
    # The external id of the article this one translates, when the source says so.
    translation_of: str = ""


class SyncSourceError(Exception):
    """A source could not be read (timeout, HTTP error, an answer that is not the API's JSON).
    The message names the source and is meant for the person running the sync."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


def desk_language(code: str, *, supported: list[str], default: str) -> str:
    """A source's locale ("zh-tw", "en-us", "pt-BR", "ja") as one of the desk's languages
    ("zh-Hant", "en", "pt", "ja"); `default` when it names none of them."""
    code = code.strip().replace("_", "-").lower()
    by_lower = {language.lower(): language for language in supported}
    if code in by_lower:
        return by_lower[code]
    if code.startswith("zh"):
        traditional = any(part in code for part in ("hant", "-tw", "-hk", "-mo"))
        script = "zh-hant" if traditional else "zh-hans"
        return by_lower.get(script, by_lower.get("zh", default))
    return by_lower.get(code.split("-")[0], default)


# Block elements whose content html_to_text puts on a line of its own; anything else a source
# may send (Confluence's ac:* macros, custom elements) is dropped with its text kept.
_KEPT_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "pre", "section", "span", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
# A Confluence macro's parameters (a code block's language, a panel's colour) are not text.
_MACRO_PARAMETER = re.compile(r"<ac:parameter\b[^>]*>.*?</ac:parameter>", re.DOTALL)


def article_html_to_text(markup: str) -> str:
    """An article's HTML as plain text: paragraphs, headings and list items one a line, with no
    blank lines between them.
    Sanitised first (no script or style content survives); CDATA sections, in which Confluence
    keeps code blocks, are kept as preformatted text; its macros' parameters are dropped."""
    markup = _MACRO_PARAMETER.sub("", markup)
    markup = _CDATA.sub(lambda m: f"<pre>{html.escape(m.group(1))}</pre>", markup)
    clean = nh3.clean(
        markup, tags=_KEPT_TAGS, attributes={"a": {"href"}}, url_schemes={"http", "https"}
    )
    return "\n".join(line for line in html_to_text(clean).splitlines() if line.strip())
