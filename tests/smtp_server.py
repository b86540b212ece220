"""A real SMTP server on loopback (aiosmtpd) that records what it accepts.

Hooks let a test act at a precise point of an SMTP conversation: `on_rcpt` runs after RCPT TO
(the server has not been given the message yet), `on_data` after the message was received and
stored, before the server answers 250. Hooks run in a thread, so they may block.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.e2e.livedesk import free_port


@dataclass
class Recorder:
    received: list[email.message.EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with a 550
    on_rcpt: Callable[[], None] | None = None
    on_data: Callable[[], None] | None = None
    # Store the message, then drop the connection instead of answering (a network failure
    # at the worst moment: the server has it, the client cannot know).
    drop_after_data: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if self.on_rcpt is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.on_rcpt)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        # SMTP carries CRLF line ends; compare messages as the recipient's client shows them.
        wire = envelope.original_content.replace(b"\r\n", b"\n")
        self.received.append(email.message_from_bytes(wire, policy=email.policy.default))
        if self.on_data is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.on_data)
        if self.drop_after_data:
            server.transport.abort()
        return "250 2.0.0 Ok: queued"


class SMTPServer:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[email.message.EmailMessage]:
        return self.recorder.received

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"
