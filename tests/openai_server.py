"""A real HTTP server on loopback that speaks the OpenAI chat-completions API (non-streaming,
JSON-schema structured output), for pointing the real `openai` SDK at.

Tests script it two ways: `push(...)` queues one-off behaviours (a 429 with Retry-After, a
500, a hang, a body that is not JSON), and `model` is a function from the request to the
JSON content the "model" answers with when nothing is queued. Every request is captured.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    status: int = 200
    content: Any = None  # dict → JSON content; str → raw content (may be invalid JSON)
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # seconds to wait before answering
    error: str = ""
    raw_body: bytes | None = None  # sent as-is instead of a chat completion (a proxy's page)
    content_type: str = "application/json"
    prompt_tokens: int = 100
    completion_tokens: int = 20


@dataclass
class CapturedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def schema_name(self) -> str:
        return self.body.get("response_format", {}).get("json_schema", {}).get("name", "")

    @property
    def schema(self) -> dict:
        return self.body.get("response_format", {}).get("json_schema", {}).get("schema", {})

    @property
    def text(self) -> str:
        """Everything the model was shown."""
        return "\n".join(m.get("content", "") for m in self.body.get("messages", []))

    @property
    def user_text(self) -> str:
        return "\n".join(
            m.get("content", "") for m in self.body.get("messages", []) if m["role"] == "user"
        )


def answer(content: Any, **usage: int) -> Behaviour:
    return Behaviour(content=content, **usage)


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[CapturedRequest] = []
        self.queue: deque[Behaviour] = deque()
        self.model: Callable[[CapturedRequest], Any] = lambda request: {"ok": True}
        self._release = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                request = CapturedRequest(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with server._lock:
                    server.requests.append(request)
                    behaviour = server.queue.popleft() if server.queue else None
                if behaviour is None:
                    behaviour = answer(server.model(request))
                if behaviour.hang:
                    server._release.wait(behaviour.hang)
                self._reply(request, behaviour)

            def _reply(self, request: CapturedRequest, behaviour: Behaviour) -> None:
                if behaviour.status != 200:
                    payload = {"error": {"message": behaviour.error or "scripted failure",
                                         "type": "server_error", "code": None}}  # fmt: skip
                else:
                    content = behaviour.content
                    if not isinstance(content, str):
                        content = json.dumps(content, ensure_ascii=False)
                    payload = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": request.body.get("model", ""),
                        "choices": [{
                            "index": 0,
                            "message": {"role": "assistant", "content": content, "refusal": None},
                            "finish_reason": "stop",
                        }],
                        "usage": {
                            "prompt_tokens": behaviour.prompt_tokens,
                            "completion_tokens": behaviour.completion_tokens,
                            "total_tokens": behaviour.prompt_tokens + behaviour.completion_tokens,
                        },
                    }  # fmt: skip
                data = json.dumps(payload).encode()
                if behaviour.raw_body is not None:
                    data = behaviour.raw_body
                try:
                    self.send_response(behaviour.status)
                    self.send_header("content-type", behaviour.content_type)
                    self.send_header("content-length", str(len(data)))
                    for name, value in behaviour.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def root_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *behaviours: Behaviour) -> None:
        self.queue.extend(behaviours)

    def calls(self, schema_name: str) -> list[CapturedRequest]:
        return [r for r in self.requests if r.schema_name == schema_name]

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()  # wake any scripted hang
        self.httpd.shutdown()
        self.httpd.server_close()
