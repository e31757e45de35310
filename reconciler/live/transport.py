"""HTTP/1.1 for the Grid client over the standard library's ``http.client``, with a pool of
keep-alive connections: an ``httpx`` transport, so the client, its retries and its reading of
failures stay httpx's.

httpx's own transport (httpcore) costs about 1 ms of CPU per request here and puts every
thread through one pool lock; ``http.client`` costs about 0.2 ms. At 1,000 creates, 10 at a
time, that was half of apply's time. It is used only where it can do all the default one
does for the Grid client: HTTP/1.1, TLS with the same certificate checks, no proxy (with a
proxy set in the environment, ``open_transport`` leaves the client httpx's default, which
honours it).

Failures leave as the httpx errors the client's retry rules read, and mean what they do
there:

- before a byte of the request was sent (connecting, the TLS handshake):
  ``ConnectError`` / ``ConnectTimeout``: the request never left;
- while sending: ``WriteError`` / ``WriteTimeout``; while waiting for or reading the
  answer: ``ReadError`` / ``ReadTimeout`` / ``RemoteProtocolError``: it may have been acted on.

An idle connection the server has closed is noticed before it is used (as httpcore does: the
socket reads as ready while nothing was asked), and so is one idle longer than
``KEEPALIVE_SECONDS``; either is replaced by a new one, so a stale connection is never
mistaken for a lost answer.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

#: an idle connection older than this is closed rather than used (httpcore's default)
KEEPALIVE_SECONDS = 5.0
#: idle connections kept per pool at most
MAX_IDLE = 20
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def open_transport(base_url: str, *,
                   verify: ssl.SSLContext | bool) -> httpx.BaseTransport | None:
    """The transport for a Grid at ``base_url``: this module's; None (httpx's default, which
    honours it) when a proxy is set in the environment."""
    if any(os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_VARIABLES):
        return None
    context = None
    if base_url[:6].lower() == "https:":
        context = verify if isinstance(verify, ssl.SSLContext) else _default_context()
    return KeepAliveTransport(context)


def _default_context() -> ssl.SSLContext:
    """The certificate checks httpx makes by default (certifi's bundle, or SSL_CERT_FILE /
    SSL_CERT_DIR)."""
    return httpx.create_ssl_context()


class KeepAliveTransport(httpx.BaseTransport):
    """Requests over pooled ``http.client`` connections, one request per connection at a
    time; safe to share between threads."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        """``tls``: the context for https, None for plain http."""
        self._tls = tls
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, int], list[tuple[float, _Connection]]] = {}
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout: dict[str, float | None] = request.extensions.get("timeout", {})
        url = request.url
        origin = (url.host, url.port or (443 if self._tls else 80))
        conn = self._take(origin) or self._connect(origin, timeout.get("connect"))
        try:
            status, reason, headers, body, reusable = _exchange(conn, request, timeout)
        except BaseException:
            conn.close()
            raise
        if reusable:
            self._give_back(origin, conn)
        else:
            conn.close()
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body),
                              extensions={"http_version": b"HTTP/1.1",
                                          "reason_phrase": reason.encode("latin-1")})

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for _, conn in conns:
                conn.close()

    def _take(self, origin: tuple[str, int]) -> _Connection | None:
        """An idle connection to ``origin`` that is still good, or None."""
        now = time.monotonic()
        while True:
            with self._lock:
                conns = self._idle.get(origin)
                if not conns:
                    return None
                since, conn = conns.pop()
            if now - since <= KEEPALIVE_SECONDS and not _closed_by_server(conn):
                return conn
            conn.close()

    def _give_back(self, origin: tuple[str, int], conn: _Connection) -> None:
        with self._lock:
            conns = self._idle.setdefault(origin, [])
            if not self._closed and len(conns) < MAX_IDLE:
                conns.append((time.monotonic(), conn))
                return
        conn.close()

    def _connect(self, origin: tuple[str, int],
                 seconds: float | None) -> _Connection:
        host, port = origin
        conn: _Connection
        if self._tls is not None:
            conn = _TlsConnection(host, port, timeout=seconds, context=self._tls)
        else:
            conn = _PlainConnection(host, port, timeout=seconds)
        try:
            conn.connect()
        except TimeoutError as e:
            conn.close()
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from e
        except OSError as e:  # refused, unreachable, no such host, a refused certificate
            conn.close()
            raise httpx.ConnectError(f"could not connect to {host}:{port}: "
                                     f"{type(e).__name__}") from e
        if conn.sock is not None:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn


class _OneWrite:
    """A connection that sends a request's header block and its body in one write.
    ``http.client`` writes them apart; each write then costs the server a wakeup to read a
    part, and, with TCP_NODELAY, a segment of its own: one write took a fifth off a create's
    client CPU and wall time against the emulator (Python's ``http.client`` joined the two
    itself before 3.6). Only the public ``send`` is overridden: while ``held`` is on, what it
    is given waits and leaves with the next part; ``release`` sends whatever still waits
    (or, after a failure, drops it)."""

    held = False
    _waiting = b""

    def send(self, data: Any) -> None:
        if self.held and not self._waiting and isinstance(data, bytes):
            self._waiting = data
            return
        if self._waiting:
            data, self._waiting = self._waiting + bytes(data), b""
            self.held = False
        super().send(data)  # type: ignore[misc]

    def release(self, *, send: bool = True) -> None:
        self.held = False
        data, self._waiting = self._waiting, b""
        if data and send:
            super().send(data)  # type: ignore[misc]


class _PlainConnection(_OneWrite, http.client.HTTPConnection):
    pass


class _TlsConnection(_OneWrite, http.client.HTTPSConnection):
    pass


_Connection = _PlainConnection | _TlsConnection


def _exchange(conn: _Connection, request: httpx.Request,
              timeout: dict[str, float | None]
              ) -> tuple[int, str, list[tuple[bytes, bytes]], bytes, bool]:
    """Send ``request`` and read the whole answer: (status, reason, headers, body, whether
    the connection may carry another request)."""
    with _failures(httpx.WriteError, httpx.WriteTimeout, httpx.LocalProtocolError,
                   "sending the request"):
        _set_timeout(conn, timeout.get("write"))
        conn.putrequest(request.method, request.url.raw_path.decode("ascii"),
                        skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.raw:
            conn.putheader(name, value)
        body = request.read() or None
        conn.held = body is not None
        try:
            conn.endheaders(body)
        except BaseException:
            conn.release(send=False)
            raise
        conn.release()
    with _failures(httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError,
                   "reading the answer"):
        _set_timeout(conn, timeout.get("read"))
        answer = conn.getresponse()
        body = answer.read()
    headers = [(name.encode("latin-1"), value.encode("latin-1"))
               for name, value in answer.getheaders()]
    return answer.status, answer.reason, headers, body, not answer.will_close


@contextmanager
def _failures(network: type[httpx.TransportError], timed_out: type[httpx.TransportError],
              protocol: type[httpx.TransportError], doing: str) -> Iterator[None]:
    """Socket and protocol failures while ``doing`` as the httpx error that says the same:
    ``protocol`` for a message that breaks HTTP (no answer at all, a malformed one; a header
    gridops may not send)."""
    try:
        yield
    except TimeoutError as e:
        raise timed_out(f"{doing} timed out") from e
    except (http.client.HTTPException, ValueError) as e:
        raise protocol(f"{doing}: {type(e).__name__}") from e
    except OSError as e:  # reset, broken pipe
        raise network(f"{doing}: {type(e).__name__}") from e


def _set_timeout(conn: _Connection, seconds: float | None) -> None:
    if conn.sock is not None:
        conn.sock.settimeout(seconds)


def _closed_by_server(conn: _Connection) -> bool:
    """An idle connection whose socket reads as ready: the server closed it (or sent
    something nobody asked for); either way it must not carry a request."""
    sock: Any = conn.sock
    if sock is None:
        return True
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)
