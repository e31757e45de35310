"""The Grid control-plane emulator over real HTTP (stdlib ``ThreadingHTTPServer``).

    with SimServer(Path("sim.db"), user_id="me", api_key="k", create_seconds=0.3) as sim:
        client = GridClient(sim.url, Credentials("me", "k"))

State lives in SQLite, so a server started again on the same file carries on where the
last one stopped (clusters keep moving through their phases in between).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconciler.logs import get_logger
from reconciler.sim.admin import DEFAULT_REASON
from reconciler.sim.app import Request, SimApp
from reconciler.sim.clusters import SimOptions
from reconciler.sim.faultkinds import KIND_HANG, KIND_RESET
from reconciler.sim.faults import Fault, FaultPolicy, Faults, LoggedRequest
from reconciler.sim.store import Store
from reconciler.sim.websocket import WebSocket, accept_key, is_upgrade, stream
from reconciler.sim.wire import Answer, LineFeed, error_answer

_log = get_logger("gridops.sim")
#: how long stop() lets requests in flight finish before the database is closed
_STOP_WAIT_SECONDS = 5.0


class SimServer:
    """The emulator on ``host:port`` (port 0: a free one; see ``url`` once started)."""

    def __init__(self, db_path: Path, *, host: str = "127.0.0.1", port: int = 0, user_id: str,
                 api_key: str, create_seconds: float = 6.0, delete_seconds: float = 3.0,
                 latency_seconds: float = 0.0, seed_global: bool = True,
                 failures: Mapping[str, str] | None = None,
                 fault_policy: FaultPolicy | None = None, failed_polls: int = 0,
                 username: str = "",
                 echo_requests: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.db_path = db_path
        self._address = (host, port)
        self._store = Store(db_path)
        options = SimOptions(user_id=user_id, api_key=api_key, create_seconds=create_seconds,
                             delete_seconds=delete_seconds, seed_global=seed_global,
                             failed_polls=failed_polls, username=username)
        self.app = SimApp(self._store, options, Faults(latency_seconds, fault_policy), clock)
        self.app.faults.log.echo = echo_requests
        if seed_global:
            self.app.clusters.seed_global()
        for name, reason in (failures or {}).items():
            self.fail_cluster(name, reason)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._foreground = False

    def __repr__(self) -> str:
        return f"SimServer({str(self.db_path)!r}, address={self._address!r})"

    @property
    def url(self) -> str:
        """``http://host:port`` of the listening server."""
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._httpd.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def request_count(self) -> int:
        """API requests received so far (not counting ``/_sim/`` ones)."""
        return self.app.request_count

    # --- lifetime ---------------------------------------------------------------------------

    def start(self) -> SimServer:
        """Listen and answer from a background thread."""
        httpd = self._bind()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="gridops-sim", daemon=True)
        self._thread.start()
        _log.debug("sim.listening", url=self.url, db=str(self.db_path))
        return self

    def bind(self) -> str:
        """Listen without answering yet (``serve_forever`` answers); returns the URL."""
        self._bind()
        return self.url

    def serve_forever(self) -> None:
        """Answer in this thread (listening first if ``bind`` was not called) until
        ``stop()`` is called from another thread, or Ctrl-C."""
        httpd = self._httpd or self._bind()
        _log.info("sim.listening", url=self.url, db=str(self.db_path))
        self._foreground = True
        try:
            httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._foreground = False
            self.stop()

    def stop(self) -> None:
        """Stop listening, drop open connections and close the database (safe to repeat)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            if self._thread is not None or self._foreground:
                httpd.shutdown()  # returns once the serving loop has ended
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            httpd.close_connections()
            httpd.wait_idle(timeout=_STOP_WAIT_SECONDS)
            httpd.server_close()
        self._store.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- control, the same as the /_sim/ endpoints ----------------------------------------

    def fail_cluster(self, name: str, reason: str = DEFAULT_REASON, *,
                     recover_seconds: float | None = None) -> None:
        """Make ``name`` FAILED with ``reason`` now if it exists, and on every later create;
        with ``recover_seconds`` it turns back to RUNNING that long after failing."""
        self.app.admin.fail(name, reason, recover_seconds)

    def clear_failure(self, name: str) -> None:
        self.app.admin.clear_failure(name)

    def set_latency(self, seconds: float) -> None:
        self.app.faults.set_latency(seconds)

    def inject_faults(self, status: int = 503, count: int = 1, *,
                      retry_after: float | None = None, method: str = "", kind: str = "status",
                      after_commit: bool = False) -> None:
        """Answer the next ``count`` API requests (with ``method``, when given) with
        ``status``, or with a transport ``kind`` of fault; ``after_commit``: once the
        request has done its work."""
        self.app.faults.inject(Fault(status, retry_after, method.upper(), kind, after_commit),
                               count)

    def set_fault_policy(self, policy: FaultPolicy) -> None:
        """Random faults from now on (``FaultPolicy()`` stops them)."""
        self.app.faults.set_policy(policy)

    def requests(self) -> list[LoggedRequest]:
        """Every API request answered so far, with the fault each met."""
        return self.app.faults.log.items()

    def seed_clusters(self, specs: Mapping[str, Mapping[str, Any]], *,
                      running: bool = True) -> None:
        """Store many BYOC clusters at once (name -> wire ClusterSpec), checked like creates
        (``ApiError`` with status 400 for an invalid one)."""
        self.app.clusters.seed(specs, running=running)

    def _bind(self) -> _HTTPServer:
        if self._httpd is not None:
            raise RuntimeError("the emulator is already started")
        self._httpd = _HTTPServer(self._address, self.app)
        return self._httpd


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: SimApp) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        #: set when the server stops, so a hanging answer ends at once
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A caller that hung up mid-answer is not worth a traceback on stderr."""
        _log.debug("sim.connection_error", client=str(client_address))

    def wait_idle(self, *, timeout: float) -> None:
        """Wait (up to ``timeout``) until no connection is being served."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._open_lock:
                if not self._open:
                    return
            time.sleep(0.01)

    def close_connections(self) -> None:
        """End kept-alive connections so their threads stop waiting for another request."""
        self.stopping.set()
        with self._open_lock:
            for conn in list(self._open):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gridops-sim"
    timeout = 60  # an idle kept-alive connection is closed after this
    disable_nagle_algorithm = True  # small answers go out at once, not after a delayed ACK
    # buffered: the headers and the body of an answer leave in one write (handle_one_request
    # flushes after each request), not one each
    wbufsize = -1
    server: _HTTPServer

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged with structlog in ``_serve`` (without headers) instead."""

    def _serve(self) -> None:
        start = time.monotonic()
        split = urlsplit(self.path)
        answer, fault = self._answer(split.path, split.query)
        if fault is not None and fault.kind in (KIND_RESET, KIND_HANG):
            self._drop(fault.kind)
            return
        if answer.feed is not None:
            self._stream(answer.feed)
            return
        payload = json.dumps(answer.body).encode()
        status = answer.status
        if fault is not None and fault.is_transport:  # malformed: a cut-off 200 answer
            payload, status = payload[:max(len(payload) // 2, 1)], 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in answer.headers:
            self.send_header(key, value)
        # logged before the answer leaves, so the line belongs to the caller's request
        _log.debug("sim.request", method=self.command, path=split.path, status=status,
                   elapsed_ms=round((time.monotonic() - start) * 1000, 1))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, feed: LineFeed) -> None:
        """Switch to a websocket and send the feed's lines on it."""
        self.close_connection = True
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept_key(self.headers["Sec-WebSocket-Key"]))
        self.end_headers()
        self.wfile.flush()
        stream(WebSocket(self.connection), feed, self.server.app.clock, self.server.stopping)

    def _drop(self, kind: str) -> None:
        """End the connection without an answer: at once with a reset, or after a hang."""
        self.close_connection = True
        if kind == KIND_HANG:
            self.server.stopping.wait(self.server.app.faults.hang_seconds)
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()

    def _answer(self, path: str, query: str) -> tuple[Answer, Fault | None]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return error_answer(400, "bad Content-Length"), None
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(method=self.command, path=path, body=body,
                          query=parse_qs(query, keep_blank_values=True),
                          authorization=self.headers.get("Authorization", ""),
                          websocket=is_upgrade(lambda name: self.headers.get(name, "")))
        try:
            return self.server.app.respond(request)
        except Exception as e:  # an emulator bug: answer 500 rather than drop the connection
            _log.exception("sim.crashed", method=self.command, path=path)
            return error_answer(500, f"the emulator failed: {type(e).__name__}"), None
