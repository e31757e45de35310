"""The Grid client's HTTP/1.1 transport, against a loopback server scripted byte by byte:
connections are kept and reused, a connection the server closed is never used (so it is
never taken for a lost answer), every failure means what the client's retry rules read it as,
and answers a real gateway gives (gzip, chunked) arrive whole."""

from __future__ import annotations

import gzip
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from reconciler.errors import GridAnswerLost, GridAPIError
from reconciler.live import retry, transport
from reconciler.live.client import GridClient, basic_authorization
from reconciler.live.credentials import Credentials
from reconciler.live.transport import KeepAliveTransport, open_transport

CREDENTIALS = Credentials("transport-user", "transport-key-0123456789")
CLUSTER = (b'{"id": "c1", "name": "c1", "spec": {"clusterType": "CLUSTER_TYPE_BYOC"}, '
           b'"status": {"phase": "CLUSTER_STATE_QUEUED"}}')


def answer(body: bytes = CLUSTER, *, headers: tuple[str, ...] = ()) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class Script:
    """How the server treats each request: ``reply(n)`` gives the bytes for the n-th request
    (0-based, over all connections), or None to reset the connection without an answer;
    ``close_after`` closes the connection after each answer."""

    reply: Callable[[int], bytes | None] = lambda _: answer()
    close_after: bool = False
    url: str = ""
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    #: set each time the server closed a connection after answering
    closed: threading.Event = field(default_factory=threading.Event)


def _read_request(stream: socket.SocketIO) -> bytes | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        chunk = stream.read(1)
        if not chunk:
            return None
        head += chunk
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (stream.read(length) if length else b"")


@contextmanager
def scripted_server(script: Script) -> Iterator[Script]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            script.connections += 1
            stream = socket.SocketIO(self.request, "rb")
            while True:
                request = _read_request(stream)
                if request is None:
                    return
                script.requests.append(request)
                reply = script.reply(len(script.requests) - 1)
                if reply is None:  # a reset: RST, no answer
                    self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.request.close()
                    return
                self.request.sendall(reply)
                if script.close_after:
                    self.request.close()
                    script.closed.set()
                    return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as server:
        script.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield script
        finally:
            server.shutdown()


def client(url: str, **kwargs: float) -> GridClient:
    return GridClient(url, CREDENTIALS, max_retries=kwargs.pop("max_retries", 0), backoff=0.01,
                      timeout=kwargs.pop("timeout", 5.0))


def test_the_client_speaks_through_the_keep_alive_transport() -> None:
    with scripted_server(Script()) as grid, client(grid.url) as c:
        assert isinstance(c._transport, KeepAliveTransport)  # noqa: SLF001


def test_a_plain_http_client_without_a_proxy_makes_no_tls_context(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # no TLS is spoken to a loopback http Grid: making the context httpx's client would get
    # cost every run 3 ms; only that client (the one a proxy gets) needs it
    from reconciler.live import client as client_module

    asked: list[str] = []
    real = client_module._tls  # noqa: SLF001
    monkeypatch.setattr(client_module, "_tls", lambda url: asked.append(url) or real(url))
    with scripted_server(Script()) as grid, client(grid.url) as c:
        assert c.create_cluster("c1", {}).name == "c1"
    assert asked == []
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the control
    with client("http://127.0.0.1:1"):
        assert asked == ["http://127.0.0.1:1"]


def test_one_connection_carries_request_after_request() -> None:
    with scripted_server(Script()) as grid, client(grid.url) as c:
        for _ in range(5):
            assert c.create_cluster("c1", {}).name == "c1"
    assert (grid.connections, len(grid.requests)) == (1, 5)


def test_a_connection_the_server_closed_while_idle_is_replaced_not_taken_for_a_lost_answer(
) -> None:
    with scripted_server(Script(close_after=True)) as grid, client(grid.url) as c:
        for _ in range(3):
            grid.closed.clear()
            assert c.create_cluster("c1", {}).name == "c1"
            assert grid.closed.wait(5)
            time.sleep(0.05)  # the server's FIN reaches the idle connection
    assert (grid.connections, len(grid.requests)) == (3, 3)


def test_a_connection_idle_longer_than_keep_alive_is_not_used(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 0.0)
    with scripted_server(Script()) as grid, client(grid.url) as c:
        c.create_cluster("c1", {})
        time.sleep(0.01)
        c.create_cluster("c1", {})
    assert grid.connections == 2


def test_an_answer_that_says_connection_close_is_not_followed_on_that_connection() -> None:
    script = Script(reply=lambda _: answer(headers=("Connection: close",)))
    with scripted_server(script) as grid, client(grid.url) as c:
        c.create_cluster("c1", {})
        c.create_cluster("c1", {})
    assert grid.connections == 2


def test_a_reset_after_the_request_arrived_is_a_lost_answer_for_a_create() -> None:
    with scripted_server(Script(reply=lambda _: None)) as grid, client(grid.url) as c, \
            pytest.raises(GridAnswerLost, match="may or may not have been made"):
        c.create_cluster("c1", {})
    assert len(grid.requests) == 1


def test_a_reset_after_the_request_arrived_is_retried_for_a_read() -> None:
    script = Script(reply=lambda n: None if n == 0 else answer(b'{"clusters": []}'))
    with scripted_server(script) as grid, client(grid.url, max_retries=1) as c:
        assert c.list_clusters() == []
    assert len(grid.requests) == 2


def test_an_answer_that_never_comes_is_a_read_timeout_and_a_lost_answer() -> None:
    gate = threading.Event()

    def late(_: int) -> bytes:
        gate.wait(5)
        return answer()

    with scripted_server(Script(reply=late)) as grid, client(grid.url, timeout=0.2) as c, \
            pytest.raises(GridAnswerLost, match="ReadTimeout"):
        c.create_cluster("c1", {})
    gate.set()


def test_a_port_nobody_listens_on_is_a_connect_error_so_the_create_never_left() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with client(f"http://127.0.0.1:{port}") as c, \
            pytest.raises(GridAPIError, match="could not reach Grid") as caught:
        c.create_cluster("c1", {})
    assert not isinstance(caught.value, GridAnswerLost)
    assert isinstance(caught.value.__cause__, retry.NEVER_SENT)


def test_an_answer_that_is_not_http_is_a_protocol_error_that_may_have_been_acted_on() -> None:
    with scripted_server(Script(reply=lambda _: b"SSH-2.0-OpenSSH\r\n")) as grid, \
            client(grid.url) as c, pytest.raises(GridAnswerLost, match="RemoteProtocolError"):
        c.create_cluster("c1", {})


@pytest.mark.parametrize("framing", ["gzip", "chunked"])
def test_gzip_and_chunked_answers_arrive_whole(framing: str) -> None:
    body = b'{"clusters": [' + b",".join([CLUSTER] * 50) + b"]}"
    if framing == "gzip":
        packed = gzip.compress(body)
        reply = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip"
                 f"\r\nContent-Length: {len(packed)}\r\n\r\n").encode() + packed
    else:
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 100]), body[i:i + 100])
                          for i in range(0, len(body), 100))
        reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    with scripted_server(Script(reply=lambda _: reply)) as grid, client(grid.url) as c:
        assert [x.name for x in c.list_clusters()] == ["c1"] * 50
        assert [x.name for x in c.list_clusters()] == ["c1"] * 50
    assert grid.connections == 1


def test_the_request_on_the_wire_carries_host_auth_and_the_json_body() -> None:
    with scripted_server(Script()) as grid, client(grid.url) as c:
        c.create_cluster("c1", {"region": "us-east-1"})
    head, _, body = grid.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /v1/core/clusters HTTP/1.1"
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    basic = httpx.BasicAuth(CREDENTIALS.user_id, CREDENTIALS.api_key)
    signed = next(basic.auth_flow(httpx.Request("GET", grid.url)))
    assert headers == {
        "host": grid.url.removeprefix("http://"), "accept": "application/json",
        "accept-encoding": "gzip, deflate", "connection": "keep-alive",
        "user-agent": "gridops", "authorization": signed.headers["Authorization"],
        "content-length": str(len(body)), "content-type": "application/json",
    }
    assert body == b'{"name":"c1","spec":{"region":"us-east-1"}}'


@pytest.mark.parametrize(("user", "key"), [("u", "k"), ("ünïcode-user", "kéy:with:colons")])
def test_the_basic_authorization_is_the_one_httpx_makes(user: str, key: str) -> None:
    signed = next(httpx.BasicAuth(user, key).auth_flow(httpx.Request("GET", "http://x")))
    assert basic_authorization(Credentials(user, key)) == signed.headers["Authorization"]


def test_the_credentials_stay_masked_in_the_client_s_headers() -> None:
    c = client("http://127.0.0.1:1")
    assert CREDENTIALS.api_key not in repr(c._headers)  # noqa: SLF001
    token = basic_authorization(CREDENTIALS).removeprefix("Basic ")
    assert token not in repr(c._headers) and token not in repr(c)  # noqa: SLF001


def test_with_a_proxy_set_the_client_asks_the_proxy_with_the_same_headers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with scripted_server(Script()) as grid:
        with client(grid.url) as direct:
            direct.create_cluster("c1", {})
        with scripted_server(Script()) as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            with client(grid.url) as proxied:
                assert [x.name for x in [proxied.create_cluster("c1", {})]] == ["c1"]
    assert len(grid.requests) == 1  # only the direct client reached the Grid itself
    direct_head, _, direct_body = grid.requests[0].partition(b"\r\n\r\n")
    proxy_head, _, proxy_body = proxy.requests[0].partition(b"\r\n\r\n")
    assert proxy_head.split(b"\r\n")[0] == f"POST {grid.url}/v1/core/clusters HTTP/1.1".encode()
    assert sorted(proxy_head.lower().split(b"\r\n")[1:]) == \
        sorted(direct_head.lower().split(b"\r\n")[1:])
    assert proxy_body == direct_body


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "HTTP_PROXY"])
def test_a_proxy_in_the_environment_leaves_httpx_its_own_transport(
        monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert isinstance(open_transport("https://grid.example", verify=True), KeepAliveTransport)
    monkeypatch.setenv(variable, "http://proxy.example:3128")
    assert open_transport("https://grid.example", verify=True) is None


def test_a_closed_transport_keeps_no_connection() -> None:
    with scripted_server(Script()) as grid:
        c = client(grid.url)
        c.create_cluster("c1", {})
        c.close()
        idle = c._transport._idle  # noqa: SLF001
        assert idle == {}
    assert isinstance(c._transport, httpx.BaseTransport)  # noqa: SLF001


def test_a_request_s_header_block_and_body_leave_in_one_write() -> None:
    """Apart, each costs the server a wakeup (and a segment of its own): a server that reads
    once per request finds the whole request there, every time."""
    arrived: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            for _ in range(20):
                arrived.append(conn.recv(65536))
                conn.sendall(answer())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with listener, client(f"http://127.0.0.1:{listener.getsockname()[1]}") as c:
        for _ in range(20):
            c.create_cluster("c1", {"region": "us-east-1"})
    thread.join(5)

    body = b'{"name":"c1","spec":{"region":"us-east-1"}}'
    assert len(arrived) == 20
    assert all(chunk.startswith(b"POST ") and chunk.endswith(b"\r\n\r\n" + body)
               for chunk in arrived), [len(chunk) for chunk in arrived]


def test_a_request_that_cannot_be_sent_leaves_nothing_waiting_on_the_connection() -> None:
    conn = transport._PlainConnection("127.0.0.1", 9)  # noqa: SLF001
    conn.held = True
    conn.send(b"head")  # waits for the body
    conn.release(send=False)

    assert (conn.held, conn._waiting) == (False, b"")  # noqa: SLF001
