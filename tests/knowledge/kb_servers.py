"""Real HTTP servers on loopback that speak the parts of the Zendesk Help Center, Notion and
Confluence REST APIs the knowledge-base sync uses: the same JSON shapes, authentication checked
on every request, and lists paginated two items a page so every reader follows its cursor.

Each server records every request, and `faults` scripts one-off failures (an HTTP 500, a body
that is not JSON, an answer slower than the client waits) for the first request whose path
contains the fault's `path`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PER_PAGE = 2


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Fault:
    path: str = ""
    status: int = 500
    raw: bytes = b'{"error": "InternalError"}'
    hang: float = 0.0


@dataclass
class LoopbackAPI:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def authorised(self, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def calls(self, method: str, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and contains in r.path]


def serve(api: LoopbackAPI) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            api.requests.append(
                Recorded(self.command, split.path, parse_qs(split.query), headers, body)
            )
            fault = next((f for f in api.faults if f.path in split.path), None)
            if fault is not None:
                api.faults.remove(fault)
                time.sleep(fault.hang)
                self._send(fault.status, fault.raw)
                return
            if not api.authorised(headers):
                self._send(401, b'{"error": "unauthorized"}')
                return
            status, payload = api.route(self.command, split.path, parse_qs(split.query), body)
            self._send(status, json.dumps(payload).encode())

        def _send(self, status: int, raw: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- Zendesk Help Center -----------------------------------------------------------------------


@dataclass
class FakeZendesk(LoopbackAPI):
    """`GET /api/v2/help_center/locales.json` and `.../{locale}/articles.json` (next_page)."""

    email: str = "kb@example.com"
    token: str = "zd-token"
    locales: list[str] = field(default_factory=lambda: ["en-us", "ja", "zh-tw", "ko"])
    articles: list[dict] = field(default_factory=list)

    def authorised(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == _basic(f"{self.email}/token", self.token)

    def article(self, id: int, locale: str, title: str, body: str, **extra: Any) -> dict:
        data = {
            "id": id,
            "url": f"{self.url}/api/v2/help_center/{locale}/articles/{id}.json",
            "html_url": f"https://acme.zendesk.com/hc/{locale}/articles/{id}",
            "title": title,
            "body": body,
            "locale": locale,
            "source_locale": "en-us",
            "draft": False,
            "updated_at": "2026-12-01T10:00:00Z",
            **extra,
        }
        self.articles.append(data)
        return data

    def route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        if path == "/api/v2/help_center/locales.json":
            return 200, {"locales": self.locales, "default_locale": "en-us"}
        parts = path.split("/")  # ['', 'api', 'v2', 'help_center', locale, 'articles.json']
        if method == "GET" and len(parts) == 6 and parts[5] == "articles.json":
            locale = parts[4]
            if locale not in self.locales:
                return 404, {"error": "RecordNotFound"}
            mine = [a for a in self.articles if a["locale"] == locale]
            page = int(query.get("page", ["1"])[0])
            chunk = mine[(page - 1) * PER_PAGE : page * PER_PAGE]
            more = page * PER_PAGE < len(mine)
            return 200, {
                "articles": chunk,
                "page": page,
                "per_page": PER_PAGE,
                "page_count": max(1, -(-len(mine) // PER_PAGE)),
                "count": len(mine),
                "next_page": f"{self.url}{path}?page={page + 1}&per_page={PER_PAGE}"
                if more
                else None,
                "previous_page": None,
            }
        return 404, {"error": "RecordNotFound"}


# -- Confluence --------------------------------------------------------------------------------


@dataclass
class FakeConfluence(LoopbackAPI):
    """`GET /rest/api/content?spaceKey=…&type=page&expand=…` with `_links.next`."""

    user: str = "kb@example.com"
    token: str = "cf-token"
    space: str = "KB"
    pages: list[dict] = field(default_factory=list)

    def authorised(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == _basic(self.user, self.token)

    def page(self, id: str, title: str, storage: str, *, when: str = "2026-12-01T10:00:00.000Z"):
        data = {
            "id": id,
            "type": "page",
            "status": "current",
            "title": title,
            "space": {"key": self.space},
            "body": {"storage": {"value": storage, "representation": "storage"}},
            "version": {"number": 1, "when": when},
            "history": {"latest": True, "lastUpdated": {"when": when}},
            "_links": {
                "webui": f"/spaces/{self.space}/pages/{id}",
                "self": f"/rest/api/content/{id}",
            },
        }
        self.pages.append(data)
        return data

    def route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        if method != "GET" or path != "/rest/api/content":
            return 404, {"statusCode": 404, "message": "not found"}
        if query.get("spaceKey") != [self.space] or query.get("type") != ["page"]:
            return 400, {"statusCode": 400, "message": "spaceKey and type=page expected"}
        expand = query.get("expand", [""])[0].split(",")
        if "body.storage" not in expand:
            return 400, {"statusCode": 400, "message": "body.storage not expanded"}
        start = int(query.get("start", ["0"])[0])
        current = [p for p in self.pages if p["status"] == "current"]
        chunk = current[start : start + PER_PAGE]
        links = {"base": self.url, "context": ""}
        if start + PER_PAGE < len(current):
            links["next"] = (
                f"/rest/api/content?spaceKey={self.space}&type=page&expand={','.join(expand)}"
                f"&limit={PER_PAGE}&start={start + PER_PAGE}"
            )
        return 200, {
            "results": chunk,
            "start": start,
            "limit": PER_PAGE,
            "size": len(chunk),
            "_links": links,
        }


# -- Notion ------------------------------------------------------------------------------------


def rich(text: str) -> list[dict]:
    return [
        {
            "type": "text",
            "text": {"content": text, "link": None},
            "annotations": {"bold": False, "italic": False, "code": False, "color": "default"},
            "plain_text": text,
            "href": None,
        }
    ]


@dataclass
class FakeNotion(LoopbackAPI):
    """Databases, data sources (query), pages (create, update), blocks (list children, append,
    delete), as API version 2025-09-03 has them."""

    token: str = "secret_notion"
    database_id: str = "db0000000000000000000000000000aa"
    data_source_id: str = "ds0000000000000000000000000000bb"
    language_type: str = "select"
    pages: dict[str, dict] = field(default_factory=dict)
    blocks: dict[str, list[dict]] = field(default_factory=dict)

    def authorised(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}" and bool(
            headers.get("notion-version")
        )

    def _now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def add_page(self, title: str, lines: list[tuple[str, str]], language: str | None = None):
        page_id = str(uuid.uuid4())
        properties: dict[str, Any] = {
            "Name": {"id": "title", "type": "title", "title": rich(title)}
        }
        if language is not None:
            properties["Language"] = self._language(language)
        self.pages[page_id] = {
            "object": "page",
            "id": page_id,
            "created_time": "2026-11-01T09:00:00.000Z",
            "last_edited_time": "2026-12-01T10:00:00.000Z",
            "archived": False,
            "in_trash": False,
            "url": f"https://www.notion.so/{page_id.replace('-', '')}",
            "parent": {"type": "data_source_id", "data_source_id": self.data_source_id},
            "properties": properties,
        }
        self.blocks[page_id] = [self.block(kind, text) for kind, text in lines]
        return page_id

    def _language(self, language: str) -> dict:
        if self.language_type == "select":
            return {"id": "lang", "type": "select", "select": {"id": "x", "name": language}}
        return {"id": "lang", "type": "rich_text", "rich_text": rich(language)}

    def block(self, kind: str, text: str, **extra: Any) -> dict:
        return {
            "object": "block",
            "id": str(uuid.uuid4()),
            "type": kind,
            "has_children": False,
            "archived": False,
            "in_trash": False,
            kind: {"rich_text": rich(text), "color": "default", **extra},
        }

    def edit(self, page_id: str, *, title: str | None = None, lines=None) -> None:
        page = self.pages[page_id]
        if title is not None:
            page["properties"]["Name"]["title"] = rich(title)
        if lines is not None:
            self.blocks[page_id] = [self.block(kind, text) for kind, text in lines]
        page["last_edited_time"] = self._now()

    def title(self, page_id: str) -> str:
        return "".join(p["plain_text"] for p in self.pages[page_id]["properties"]["Name"]["title"])

    def text(self, page_id: str) -> list[str]:
        return [
            "".join(p["plain_text"] for p in b[b["type"]]["rich_text"])
            for b in self.blocks[page_id]
        ]

    def _list(self, items: list[dict], query_or_body: dict) -> dict:
        raw = query_or_body.get("start_cursor")
        start = int((raw[0] if isinstance(raw, list) else raw) or 0)
        chunk = items[start : start + PER_PAGE]
        more = start + PER_PAGE < len(items)
        return {
            "object": "list",
            "results": chunk,
            "next_cursor": str(start + PER_PAGE) if more else None,
            "has_more": more,
            "type": "page_or_data_source" if chunk and chunk[0]["object"] == "page" else "block",
        }

    def _stored_blocks(self, children: list[dict]) -> list[dict]:
        stored = []
        for child in children:
            kind = child["type"]
            text = "".join(p["text"]["content"] for p in child[kind]["rich_text"])
            stored.append(self.block(kind, text))
        return stored

    def route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        missing = {"object": "error", "status": 404, "code": "object_not_found", "message": path}
        if method == "GET" and parts == ["databases", self.database_id]:
            return 200, {
                "object": "database",
                "id": self.database_id,
                "title": rich("Help articles"),
                "data_sources": [{"id": self.data_source_id, "name": "Help articles"}],
            }
        if method == "GET" and parts == ["data_sources", self.data_source_id]:
            properties: dict[str, Any] = {"Name": {"id": "title", "name": "Name", "type": "title"}}
            if self.language_type:
                properties["Language"] = {
                    "id": "lang",
                    "name": "Language",
                    "type": self.language_type,
                }
            return 200, {
                "object": "data_source",
                "id": self.data_source_id,
                "properties": properties,
            }
        if method == "POST" and parts == ["data_sources", self.data_source_id, "query"]:
            live = [p for p in self.pages.values() if not p["in_trash"]]
            return 200, self._list(live, body or {})
        if parts[:1] == ["blocks"] and parts[2:] == ["children"]:
            if parts[1] not in self.blocks:
                return 404, missing
            if method == "GET":
                return 200, self._list(self.blocks[parts[1]], query)
            if method == "PATCH":
                added = self._stored_blocks(body["children"])
                self.blocks[parts[1]].extend(added)
                self.pages[parts[1]]["last_edited_time"] = self._now()
                return 200, {"object": "list", "results": added, "has_more": False}
        if method == "DELETE" and parts[:1] == ["blocks"] and len(parts) == 2:
            for page_id, children in self.blocks.items():
                for block in children:
                    if block["id"] == parts[1]:
                        children.remove(block)
                        self.pages[page_id]["last_edited_time"] = self._now()
                        return 200, {**block, "in_trash": True, "archived": True}
            return 404, missing
        if method == "POST" and parts == ["pages"]:
            if body["parent"] != {"type": "data_source_id", "data_source_id": self.data_source_id}:
                return 400, {"object": "error", "status": 400, "code": "validation_error",
                             "message": "parent"}  # fmt: skip
            props = body["properties"]
            title = "".join(p["text"]["content"] for p in props["Name"]["title"])
            language = None
            if "Language" in props:
                value = props["Language"]
                language = (
                    value["select"]["name"]
                    if "select" in value
                    else "".join(p["text"]["content"] for p in value["rich_text"])
                )
            page_id = self.add_page(title, [], language)
            self.blocks[page_id] = self._stored_blocks(body.get("children", []))
            self.pages[page_id]["last_edited_time"] = self._now()
            return 200, self.pages[page_id]
        if method == "PATCH" and parts[:1] == ["pages"] and len(parts) == 2:
            page = self.pages.get(parts[1])
            if page is None:
                return 404, missing
            props = body.get("properties", {})
            if body.get("in_trash") or body.get("archived"):
                page["in_trash"] = page["archived"] = True
            if "Name" in props:
                page["properties"]["Name"]["title"] = rich(
                    "".join(p["text"]["content"] for p in props["Name"]["title"])
                )
            page["last_edited_time"] = self._now()
            return 200, page
        return 404, missing
