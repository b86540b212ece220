"""A desk WebSocket as the browser opens it: same origin, with the signed-in user's session."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.test import Client


def desk_socket(path: str, client: Client | None = None) -> WebsocketCommunicator:
    from supportdesk.asgi import application

    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)
