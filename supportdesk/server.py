"""The ASGI server, daphne, with answers for requests whose headers are too large.

Twisted's HTTP channel (under daphne) drops the connection without a word when one header line
is longer than 16 KB, and when all headers together pass 16 KB it writes "400" and closes at
once, while the client is still sending: the kernel then resets the connection and the client
usually never reads the answer. Either way a browser or an API client sees a broken connection
instead of a status it can act on.

This module answers both with `431 Request Header Fields Too Large` (RFC 6585) and closes the
way RFC 9112 asks: the answer is written, the sending side is shut, and what the client still
sends is read and thrown away for a few seconds before the socket closes, so the answer arrives.
Other malformed requests keep Twisted's 400, with the same graceful close.

Run it as daphne: `python -m supportdesk.server -b 127.0.0.1 -p 8000 supportdesk.asgi:application`
(`manage.py serve` does).
"""

from __future__ import annotations

from twisted.web import http

LINGER_SECONDS = 5.0
LINGER_MAX_BYTES = 1024 * 1024

_431_BODY = b"Request header fields too large: at most 16 KB of headers are accepted.\n"


def _answer(status_line: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status_line + b"\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: close\r\n\r\n" + body
    )


def _close_after(channel: http.HTTPChannel, answer: bytes) -> None:
    """Write `answer`, half-close, then discard input until the client closes or time is up."""
    if getattr(channel, "_desk_closing", False):
        return
    channel._desk_closing = True
    channel.setTimeout(None)  # our own timer below ends the connection
    transport = channel.transport
    transport.write(answer)
    drained = [0]

    def discard(data: bytes) -> None:
        drained[0] += len(data)
        if drained[0] > LINGER_MAX_BYTES:
            transport.abortConnection()

    channel.dataReceived = discard
    channel.lineReceived = lambda line: None
    channel.rawDataReceived = lambda data: None
    transport.loseWriteConnection()
    # Imported here: importing the reactor at module level would install Twisted's default one
    # before daphne installs its asyncio reactor.
    from twisted.internet import reactor

    reactor.callLater(LINGER_SECONDS, _abort_if_open, transport)


def _abort_if_open(transport) -> None:
    if transport.connected:
        transport.abortConnection()


def _header_too_large(self: http.HTTPChannel, line: bytes = b"") -> None:
    _close_after(self, _answer(b"431 Request Header Fields Too Large", _431_BODY))


def _bad_request(self: http.HTTPChannel) -> None:
    if self._receivedHeaderSize > self.totalHeadersSize:
        _header_too_large(self)
    else:
        _close_after(self, _answer(b"400 Bad Request", b"Bad request.\n"))


def install() -> None:
    """Patch Twisted's HTTP channel once, before daphne builds its first protocol."""
    http.HTTPChannel.lineLengthExceeded = _header_too_large
    http.HTTPChannel._respondToBadRequestAndDisconnect = _bad_request


if __name__ == "__main__":
    install()
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()
