"""The server side of a websocket (RFC 6455), as much as the logs stream needs.

The emulator serves with the standard library's HTTP server, so the protocol is written out
here (about a hundred lines) rather than bringing in a library and a second server: the
opening handshake (``Sec-WebSocket-Accept``), unmasked text and close frames out, masked
client frames in (a close is answered and ends the stream, a ping gets its pong).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import select
import socket
import sqlite3
import struct
import threading
from collections.abc import Callable

from reconciler.sim.wire import LineFeed

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA
CLOSE_NORMAL, CLOSE_GOING_AWAY = 1000, 1001
#: how often a followed feed is looked at for new lines
POLL_SECONDS = 0.1
#: client bytes kept while a frame is incomplete; past this the client is cut off
_MAX_BUFFER = 1 << 20


def is_upgrade(header: Callable[[str], str]) -> bool:
    """Whether the request's headers (``header(name)``, "" when absent) open a version 13
    websocket with a well-formed key."""
    if header("Upgrade").lower() != "websocket":
        return False
    if "upgrade" not in header("Connection").lower().replace(" ", "").split(","):
        return False
    if header("Sec-WebSocket-Version").strip() != "13":
        return False
    try:
        return len(base64.b64decode(header("Sec-WebSocket-Key"), validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1((key.strip() + _GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (a server never masks)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


def decode_frame(buffer: bytes) -> tuple[int, bytes, int] | None:
    """``(opcode, payload, bytes used)`` of the first frame in ``buffer``, unmasked; None
    while it is incomplete."""
    if len(buffer) < 2:
        return None
    opcode, size, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
    masked = bool(buffer[1] & 0x80)
    if size in (126, 127):
        width = 2 if size == 126 else 8
        if len(buffer) < at + width:
            return None
        size, at = int.from_bytes(buffer[at:at + width], "big"), at + width
    mask = b""
    if masked:
        mask, at = buffer[at:at + 4], at + 4
    if len(mask) < 4 * masked or len(buffer) < at + size:
        return None
    payload = buffer[at:at + size]
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload, at + size


class WebSocket:
    """An open websocket on ``sock`` (after the handshake)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self._closed = False

    def send_text(self, text: str) -> None:
        self._sock.sendall(encode_frame(OP_TEXT, text.encode()))

    def close(self, code: int = CLOSE_NORMAL) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                self._sock.sendall(encode_frame(OP_CLOSE, struct.pack("!H", code)))

    def closed_by_peer(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the client; True once it closed (or hung up)."""
        poller = select.poll()  # not select(): it fails on descriptors past 1023
        poller.register(self._sock, select.POLLIN)
        if not poller.poll(timeout * 1000):
            return False
        data = self._sock.recv(65536)
        if not data:
            return True
        self._buffer += data
        if len(self._buffer) > _MAX_BUFFER:
            return True
        while (frame := decode_frame(self._buffer)) is not None:
            opcode, payload, used = frame
            self._buffer = self._buffer[used:]
            if opcode == OP_CLOSE:
                self.close()
                return True
            if opcode == OP_PING:
                self._sock.sendall(encode_frame(OP_PONG, payload))
        return False


def stream(ws: WebSocket, feed: LineFeed, clock: Callable[[], float],
           stopping: threading.Event) -> None:
    """Send the feed's lines as they come; close when it ends, the client closes or the
    server stops."""
    try:
        while True:
            lines, ended = feed.take(clock())
            for line in lines:
                ws.send_text(line)
            if ended:
                ws.close(CLOSE_NORMAL)
                return
            if ws.closed_by_peer(POLL_SECONDS):
                return
            if stopping.is_set():
                ws.close(CLOSE_GOING_AWAY)
                return
    except (OSError, sqlite3.Error):  # the client went away, or the server is closing
        return
