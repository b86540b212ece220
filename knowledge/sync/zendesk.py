"""Zendesk Help Center articles, in every Help Center locale the desk speaks.

`GET {url}/api/v2/help_center/locales.json` names the Help Center's locales; each one that maps
to a desk language (zh-tw → zh-Hant, en-us → en, pt-br → pt, ja → ja ...) is read with
`GET {url}/api/v2/help_center/{locale}/articles.json`, following `next_page`. One Zendesk
article in several locales is one local article per locale: its external id is
"{article id}:{locale}", and one in another locale than the article's `source_locale` is
linked here as a translation of the source-locale one. A draft is "archived": not published
here.
"""

from __future__ import annotations

import httpx
from django.utils.translation import gettext

from knowledge.sync import (
    ZENDESK,
    ExternalArticle,
    SyncSourceError,
    article_html_to_text,
    desk_language,
)
from knowledge.sync.http import get_json, parse_time


def zendesk_read(
    *,
    url: str,
    email: str,
    token: str,
    supported: list[str],
    timeout: float,
) -> list[ExternalArticle]:
    auth = (f"{email}/token", token)
    articles: list[ExternalArticle] = []
    with httpx.Client(auth=auth, timeout=timeout, follow_redirects=False) as client:
        listing = get_json(client, f"{url}/api/v2/help_center/locales.json", source=ZENDESK)
        try:
            locales = [str(locale) for locale in listing["locales"]]
        except (KeyError, TypeError):
            raise SyncSourceError(
                ZENDESK, gettext("the locales answer has no list of locales")
            ) from None
        for locale in locales:
            language = desk_language(locale, supported=supported, default="")
            if not language:
                continue  # a Help Center language the desk does not serve
            page_url: str | None = f"{url}/api/v2/help_center/{locale}/articles.json"
            params: dict | None = {"per_page": 100}
            while page_url:
                page = get_json(client, page_url, source=ZENDESK, params=params)
                try:
                    articles.extend(_article(a, language) for a in page["articles"])
                    page_url, params = page.get("next_page"), None  # next_page keeps per_page
                except (KeyError, TypeError, AttributeError) as exc:
                    raise SyncSourceError(
                        ZENDESK,
                        gettext(
                            "an articles page of locale %(locale)s is not as expected (%(error)s)"
                        )
                        % {"locale": locale, "error": exc},
                    ) from None
    return articles


def _article(data: dict, language: str) -> ExternalArticle:
    locale = str(data.get("locale") or "")
    source_locale = str(data.get("source_locale") or "")
    return ExternalArticle(
        external_id=f"{data['id']}:{locale}",
        title=str(data["title"] or ""),
        body=article_html_to_text(str(data.get("body") or "")),
        language=language,
        url=str(data.get("html_url") or ""),
        updated_at=parse_time(data.get("updated_at")),
        archived=bool(data.get("draft")),
        translation_of=(
            f"{data['id']}:{source_locale}" if source_locale and source_locale != locale else ""
        ),
    )
