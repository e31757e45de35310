"""The emulator's request handling, free of any HTTP server: routes, auth, injected trouble.

``SimApp.handle`` takes a parsed request and returns the answer; ``server.py`` does the HTTP
(and the websocket of the logs route, whose answer carries a feed of lines).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from reconciler.logs import get_logger
from reconciler.sim.admin import AdminApi
from reconciler.sim.auth import Auth
from reconciler.sim.clusters import ClusterApi, SimOptions
from reconciler.sim.faultkinds import KIND_MALFORMED
from reconciler.sim.faults import Fault, Faults, LoggedRequest
from reconciler.sim.routes import AUTH_NONE, AUTH_TOKEN_QUERY, Match, match_route
from reconciler.sim.store import Store
from reconciler.sim.wire import Answer, ApiError, error_answer

_FAILURE = re.compile(r"^/_sim/failures/(?P<name>[^/]+)$")
_log = get_logger("gridops.sim")


@dataclass(frozen=True)
class Request:
    """An HTTP request as the app sees it."""

    #: ``GET``, ``POST``, ...
    method: str
    #: the URL path, still percent-encoded, without the query
    path: str
    #: query parameters, each with every value it was given
    query: Mapping[str, list[str]]
    #: the raw body (empty when none)
    body: bytes
    #: the ``Authorization`` header ("" when absent); never logged
    authorization: str = ""
    #: whether it asks for a websocket (``Upgrade: websocket`` with a key)
    websocket: bool = False


class SimApp:
    """Everything the emulator answers, for one store and one set of options."""

    def __init__(self, store: Store, options: SimOptions, faults: Faults,
                 clock: Callable[[], float] = time.time) -> None:
        self.clusters = ClusterApi(store, options, clock)
        self.auth = Auth(options.user_id, options.api_key, username=options.username,
                         clock=clock)
        self.admin = AdminApi(store, faults, clock, lambda: self.request_count)
        self.faults = faults
        #: the emulator's time (Unix seconds)
        self.clock = clock
        #: API requests received (``/v1/...``; not the ``/_sim/`` ones)
        self.request_count = 0
        self._count_lock = threading.Lock()

    def handle(self, request: Request) -> Answer:
        return self.respond(request)[0]

    def respond(self, request: Request) -> tuple[Answer, Fault | None]:
        """The answer, and the fault injected into it (the HTTP server carries out a
        transport fault: a reset, a hang or a malformed body, instead of the answer)."""
        if request.path.startswith("/_sim/"):
            return self._guarded(lambda: self._admin(request)), None
        self._before_api_request()
        name = _body_name(request)
        fault: Fault | None = None

        def api() -> Answer:
            nonlocal fault
            match = match_route(request.method, request.path)
            self._authenticate(request, match.route.auth)
            fault = self.faults.take(request.method, request.path, name)
            if fault is not None and not fault.after_commit:
                return _fault_answer(fault)
            return self._api_answer(match, request)

        answer = self._guarded(api)
        handled = 0 if fault is not None and not fault.after_commit else answer.status
        if fault is not None and fault.after_commit and fault.kind != KIND_MALFORMED:
            answer = _fault_answer(fault)  # a malformed one cuts the real answer short
        status = answer.status
        if fault is not None and fault.is_transport:
            status = 200 if fault.kind == KIND_MALFORMED else 0
        self.faults.log.add(LoggedRequest(
            method=request.method, path=request.path, status=status,
            fault=fault.describe() if fault else "", handled=handled, name=name))
        return answer, fault

    def _guarded(self, route: Callable[[], Answer]) -> Answer:
        try:
            return route()
        except ApiError as e:
            return e.answer()
        except sqlite3.Error as e:
            _log.error("sim.store_error", error=str(e))
            return error_answer(500, f"the emulator's database failed: {e}")

    def _admin(self, request: Request) -> Answer:
        self.auth.check(request.authorization)
        return Answer(200, self._admin_route(request))

    def _before_api_request(self) -> None:
        with self._count_lock:
            self.request_count += 1
        latency = self.faults.latency_seconds
        if latency:
            time.sleep(latency)

    def _authenticate(self, request: Request, how: str) -> None:
        if how == AUTH_NONE:
            return
        credential = request.authorization
        token = request.query.get("token", [""])[-1]
        if how == AUTH_TOKEN_QUERY and token and not credential:
            credential = token if " " in token.strip() else f"Bearer {token}"
        self.auth.check(credential)

    def _api_answer(self, match: Match, request: Request) -> Answer:
        name, cluster_id, c = match.route.name, match.cluster_id, self.clusters
        if name == "logs":
            if not request.websocket:
                raise ApiError(400, "the logs of a cluster are a websocket: open it with "
                                    "'Upgrade: websocket'")
            return Answer(101, {}, feed=c.logs(cluster_id, request.query))
        routes: dict[str, Callable[[], dict[str, Any]]] = {
            "login": lambda: self.auth.login(request.body),
            "user": self.auth.user,
            "list": lambda: c.list_clusters(request.query),
            "create": lambda: c.create(request.body),
            "get": lambda: c.get(cluster_id),
            "update": lambda: c.update(cluster_id, request.body),
            "delete": lambda: c.delete(cluster_id, request.query),
            "instance_types": lambda: c.instance_types(cluster_id),
            "cloud_provider_id": lambda: c.cloud_provider_id(cluster_id),
        }
        return Answer(200, routes[name]())

    def _admin_route(self, request: Request) -> dict[str, Any]:
        method, path = request.method, request.path
        if (method, path) == ("GET", "/_sim/state"):
            return self.admin.state()
        if (method, path) == ("POST", "/_sim/failures"):
            return self.admin.post_failure(request.body)
        if (method, path) == ("POST", "/_sim/latency"):
            return self.admin.post_latency(request.body)
        if (method, path) == ("POST", "/_sim/faults"):
            return self.admin.post_faults(request.body)
        if (method, path) == ("POST", "/_sim/fault-policy"):
            return self.admin.post_fault_policy(request.body)
        if (method, path) == ("GET", "/_sim/requests"):
            return {"requests": [r.to_json() for r in self.faults.log.items()]}
        if (method, path) == ("DELETE", "/_sim/requests"):
            self.faults.log.clear()
            return {}
        match = _FAILURE.match(path)
        if method == "DELETE" and match:
            self.admin.clear_failure(unquote(match["name"]))
            return {}
        raise ApiError(404, "Not Found")


def _body_name(request: Request) -> str:
    """The cluster name a create or update carries ("" when none or unreadable)."""
    if request.method not in ("POST", "PUT") or not request.body:
        return ""
    try:
        data = json.loads(request.body)
    except ValueError:
        return ""
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else ""


def _fault_answer(fault: Fault) -> Answer:
    headers: tuple[tuple[str, str], ...] = ()
    if fault.retry_after is not None:
        headers = (("Retry-After", f"{fault.retry_after:g}"),)
    if fault.is_transport:  # the server does not send this one
        return error_answer(502, f"injected fault ({fault.kind})")
    return error_answer(fault.status, f"injected fault (HTTP {fault.status})", headers)
