"""A Notion database, through the official client (`notion-client`, API version 2025-09-03):
the database's data sources are queried page by page, each page's blocks read into plain text.
The title comes from the page's title property; the language from a select or text property
named "Language" when the database has one, the desk's default otherwise. The same database
receives the FAQ articles written here (`create_page`, `replace_page`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from django.utils.translation import gettext
from notion_client import Client
from notion_client.client import RetryOptions
from notion_client.errors import NotionClientErrorBase, RequestTimeoutError

from knowledge.sync import NOTION, ExternalArticle, SyncSourceError, desk_language
from knowledge.sync.http import parse_time

logger = logging.getLogger(__name__)

LANGUAGE_PROPERTY = "Language"
# Nested blocks (list items under list items, toggles) are read this deep.
MAX_DEPTH = 3
# Notion's limits: characters in one rich text object, blocks in one request.
TEXT_LIMIT, BLOCKS_LIMIT = 2000, 100
_TEXT_BLOCKS = (
    "paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item",
    "numbered_list_item", "to_do", "quote", "callout", "toggle", "code",
)  # fmt: skip


class NotionSource:
    def __init__(
        self,
        *,
        token: str,
        database_id: str,
        base_url: str,
        supported: list[str],
        default_language: str,
        timeout: float,
    ) -> None:
        self.database_id = database_id
        self.supported, self.default_language = supported, default_language
        self.client = Client(
            auth=token,
            base_url=base_url,
            timeout_ms=int(timeout * 1000),
            logger=logger,
            retry=RetryOptions(max_retries=2, initial_retry_delay_ms=500),
        )
        self._data_sources: list[dict] | None = None

    def __enter__(self) -> NotionSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    # -- reading -------------------------------------------------------------------------------

    def read(self) -> list[ExternalArticle]:
        """Every page of every data source of the database."""
        pages = []
        for data_source in self.data_sources():
            for page in self._paginate(
                lambda ds=data_source["id"], **kw: self.client.data_sources.query(
                    data_source_id=ds, page_size=100, **kw
                )
            ):
                pages.append(self._article(page))
        return pages

    def data_sources(self) -> list[dict]:
        """Each data source of the database with its properties (the schema)."""
        if self._data_sources is None:
            database = self._call(lambda: self.client.databases.retrieve(self.database_id))
            try:
                ids = [source["id"] for source in database["data_sources"]]
            except (KeyError, TypeError):
                raise SyncSourceError(
                    NOTION, gettext("the database lists no data sources")
                ) from None
            self._data_sources = [
                self._call(lambda i=i: self.client.data_sources.retrieve(i)) for i in ids
            ]
        return self._data_sources

    def _article(self, page: dict) -> ExternalArticle:
        try:
            properties = page["properties"]
            title = next(
                _plain(p["title"]) for p in properties.values() if p.get("type") == "title"
            )
            return ExternalArticle(
                external_id=str(page["id"]),
                title=title,
                body="\n".join(self._lines(page["id"], depth=0)),
                language=self._language(properties.get(LANGUAGE_PROPERTY)),
                url=str(page.get("url") or ""),
                updated_at=parse_time(page.get("last_edited_time")),
                archived=bool(page.get("archived") or page.get("in_trash")),
            )
        except (KeyError, TypeError, StopIteration) as exc:
            raise SyncSourceError(
                NOTION,
                gettext("page %(page)s is not as expected (%(error)r)")
                % {"page": page.get("id", "?"), "error": exc},
            ) from None

    def _language(self, prop: dict | None) -> str:
        if not prop:
            return self.default_language
        if prop.get("type") == "select":
            value = (prop.get("select") or {}).get("name", "")
        else:
            value = _plain(prop.get("rich_text") or [])
        return desk_language(value, supported=self.supported, default=self.default_language)

    def _lines(self, block_id: str, *, depth: int) -> Iterator[str]:
        number = 0
        for block in self._paginate(
            lambda **kw: self.client.blocks.children.list(block_id=block_id, **kw)
        ):
            kind = block.get("type", "")
            number = number + 1 if kind == "numbered_list_item" else 0
            if kind not in _TEXT_BLOCKS:
                continue  # images, tables, embeds, child pages: no text of their own here
            content = block[kind]
            text = _plain(content.get("rich_text") or [])
            if kind == "bulleted_list_item":
                text = f"- {text}"
            elif kind == "numbered_list_item":
                text = f"{number}. {text}"
            elif kind == "to_do":
                text = f"[{'x' if content.get('checked') else ' '}] {text}"
            indent = "  " * depth
            yield from (indent + line for line in text.split("\n"))
            if block.get("has_children") and depth + 1 < MAX_DEPTH:
                yield from self._lines(block["id"], depth=depth + 1)

    # -- writing -------------------------------------------------------------------------------

    def create_page(self, *, title: str, body: str, language: str) -> ExternalArticle:
        data_source = self.data_sources()[0]
        blocks = _paragraphs(body)
        page = self._call(
            lambda: self.client.pages.create(
                parent={"type": "data_source_id", "data_source_id": data_source["id"]},
                properties=self._properties(data_source, title, language),
                children=blocks[:BLOCKS_LIMIT],
            )
        )
        self._append(page["id"], blocks[BLOCKS_LIMIT:])
        return self._written(page, title, body, language)

    def trash_page(self, page_id: str) -> None:
        """Move a page to Notion's trash (it can be restored from there for 30 days)."""
        self._call(lambda: self.client.pages.update(page_id=page_id, in_trash=True))

    def replace_page(
        self, *, page_id: str, title: str, body: str, language: str
    ) -> ExternalArticle:
        """The page's title, language and text become the article's: its blocks are replaced."""
        data_source = self.data_sources()[0]
        # Every block is listed before the first is deleted: deleting shifts the list's pages.
        old = [
            block["id"]
            for block in self._paginate(
                lambda **kw: self.client.blocks.children.list(block_id=page_id, **kw)
            )
        ]
        for block_id in old:
            self._call(lambda b=block_id: self.client.blocks.delete(block_id=b))
        self._append(page_id, _paragraphs(body))
        page = self._call(
            lambda: self.client.pages.update(
                page_id=page_id, properties=self._properties(data_source, title, language)
            )
        )
        return self._written(page, title, body, language)

    def _properties(self, data_source: dict, title: str, language: str) -> dict:
        schema = data_source.get("properties") or {}
        title_name = next((name for name, p in schema.items() if p.get("type") == "title"), "Name")
        properties: dict[str, Any] = {title_name: {"title": _rich_text(title)}}
        kind = (schema.get(LANGUAGE_PROPERTY) or {}).get("type")
        if kind == "select":
            properties[LANGUAGE_PROPERTY] = {"select": {"name": language}}
        elif kind == "rich_text":
            properties[LANGUAGE_PROPERTY] = {"rich_text": _rich_text(language)}
        return properties

    def _append(self, page_id: str, blocks: list[dict]) -> None:
        for start in range(0, len(blocks), BLOCKS_LIMIT):
            chunk = blocks[start : start + BLOCKS_LIMIT]
            self._call(lambda c=chunk: self.client.blocks.children.append(page_id, children=c))

    def _written(self, page: dict, title: str, body: str, language: str) -> ExternalArticle:
        return ExternalArticle(
            external_id=str(page["id"]),
            title=title,
            body=body,
            language=language,
            url=str(page.get("url") or ""),
            updated_at=parse_time(page.get("last_edited_time")),
        )

    # -- the API -------------------------------------------------------------------------------

    def _paginate(self, call: Callable[..., Any]) -> Iterator[dict]:
        cursor = None
        while True:
            more = {"start_cursor": cursor} if cursor else {}
            answer = self._call(lambda more=more: call(**more))
            try:
                yield from answer["results"]
                cursor = answer.get("next_cursor")
            except (KeyError, TypeError):
                raise SyncSourceError(NOTION, gettext("a list answer has no results")) from None
            if not answer.get("has_more") or not cursor:
                return

    def _call(self, call: Callable[[], Any]) -> Any:
        """One API call; every failure as a SyncSourceError naming Notion."""
        try:
            answer = call()
        except RequestTimeoutError:
            raise SyncSourceError(NOTION, gettext("the API did not answer in time")) from None
        except NotionClientErrorBase as exc:
            status = getattr(exc, "status", None)
            raise SyncSourceError(
                NOTION,
                gettext("HTTP %(status)s from the API: %(error)s")
                % {"status": status, "error": exc}
                if status
                else str(exc),
            ) from None
        except httpx.HTTPError as exc:
            raise SyncSourceError(
                NOTION, gettext("could not reach the API: %(error)s") % {"error": exc}
            ) from None
        except ValueError:
            raise SyncSourceError(NOTION, gettext("the API did not answer with JSON")) from None
        if not isinstance(answer, dict):
            raise SyncSourceError(
                NOTION, gettext("the API answered with something other than an object")
            )
        return answer


def _plain(rich_text: list[dict]) -> str:
    return "".join(str(part.get("plain_text", "")) for part in rich_text)


def _rich_text(text: str) -> list[dict]:
    return [
        {"type": "text", "text": {"content": text[i : i + TEXT_LIMIT]}}
        for i in range(0, len(text), TEXT_LIMIT)
    ]


def _paragraphs(body: str) -> list[dict]:
    """One paragraph block a line: read back, the page gives the same text."""
    return [
        {"object": "block", "type": "paragraph", "paragraph": {"rich_text": _rich_text(line)}}
        for line in body.split("\n")
    ]
