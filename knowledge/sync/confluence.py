"""Confluence (Cloud or Server/Data Center) pages of one space, through the REST API:
`GET {url}/rest/api/content?spaceKey=…&type=page&expand=body.storage,version,history.lastUpdated`
following `_links.next`. The storage format (XHTML with ac:* macros) becomes plain text.
Confluence has no language per page: every page is in the desk's default language.
"""

from __future__ import annotations

import httpx
from django.utils.translation import gettext

from knowledge.sync import CONFLUENCE, ExternalArticle, SyncSourceError, article_html_to_text
from knowledge.sync.http import get_json, parse_time

PAGE_SIZE = 50


def confluence_read(
    *, url: str, user: str, token: str, space: str, language: str, timeout: float
) -> list[ExternalArticle]:
    pages: list[ExternalArticle] = []
    next_url: str | None = f"{url}/rest/api/content"
    params: dict | None = {
        "spaceKey": space,
        "type": "page",
        "expand": "body.storage,version,history.lastUpdated",
        "limit": PAGE_SIZE,
    }
    with httpx.Client(auth=(user, token), timeout=timeout) as client:
        while next_url:
            answer = get_json(client, next_url, source=CONFLUENCE, params=params)
            try:
                base = answer.get("_links", {}).get("base") or url
                pages.extend(_page(page, base, language) for page in answer["results"])
                # `next` is relative to the site's base (which includes /wiki on Cloud) and
                # carries every parameter of the query.
                following = answer.get("_links", {}).get("next")
                next_url, params = (f"{url}{following}" if following else None), None
            except (KeyError, TypeError, AttributeError) as exc:
                raise SyncSourceError(
                    CONFLUENCE,
                    gettext("a page of space %(space)s is not as expected (%(error)s)")
                    % {"space": space, "error": exc},
                ) from None
    return pages


def _page(data: dict, base: str, language: str) -> ExternalArticle:
    when = (data.get("history") or {}).get("lastUpdated", {}).get("when") or (
        data.get("version") or {}
    ).get("when")
    webui = (data.get("_links") or {}).get("webui") or ""
    return ExternalArticle(
        external_id=str(data["id"]),
        title=str(data["title"] or ""),
        body=article_html_to_text(str(data["body"]["storage"]["value"] or "")),
        language=language,
        url=f"{base}{webui}" if webui else "",
        updated_at=parse_time(when),
        archived=data.get("status", "current") != "current",
    )
