"""The emulator's request handling, free of any HTTP server: auth, injected trouble, routes.

``SimApp.handle`` takes a parsed request and returns the answer; ``server.py`` does the HTTP.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import structlog

from reconciler.sim.admin import AdminApi
from reconciler.sim.clusters import ClusterApi, SimOptions
from reconciler.sim.faults import (
    KIND_MALFORMED,
    Fault,
    Faults,
    LoggedRequest,
)
from reconciler.sim.store import Store
from reconciler.sim.wire import Answer, ApiError, error_answer

_CLUSTERS = re.compile(r"^/v1/core/clusters(?:/(?P<id>[^/]+)(?P<types>/instance-types)?)?/?$")
_FAILURE = re.compile(r"^/_sim/failures/(?P<name>[^/]+)$")
_log = structlog.get_logger("gridops.sim")


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


class SimApp:
    """Everything the emulator answers, for one store and one set of options."""

    def __init__(self, store: Store, options: SimOptions, faults: Faults,
                 clock: Callable[[], float] = time.time) -> None:
        self.clusters = ClusterApi(store, options, clock)
        self.admin = AdminApi(store, faults, clock, lambda: self.request_count)
        self.faults = faults
        #: API requests received (``/v1/...``; not the ``/_sim/`` ones)
        self.request_count = 0
        self._count_lock = threading.Lock()
        self._expected = _basic(options.user_id, options.api_key)

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
            self._authenticate(request)
            fault = self.faults.take(request.method, request.path, name)
            if fault is not None and not fault.after_commit:
                return _fault_answer(fault)
            return Answer(200, self._api_route(request))

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
        self._authenticate(request)
        return Answer(200, self._admin_route(request))

    def _before_api_request(self) -> None:
        with self._count_lock:
            self.request_count += 1
        latency = self.faults.latency_seconds
        if latency:
            time.sleep(latency)

    def _authenticate(self, request: Request) -> None:
        if not hmac.compare_digest(_normalised(request.authorization), self._expected):
            raise ApiError(401, "missing or wrong credentials: send HTTP basic auth with your "
                                "Grid user id and API key")

    def _api_route(self, request: Request) -> dict[str, Any]:
        match = _CLUSTERS.match(request.path)
        if match is None:
            raise ApiError(404, "Not Found")
        cluster_id = unquote(match["id"]) if match["id"] else None
        key = (request.method, cluster_id is not None, match["types"] is not None)
        c = self.clusters
        routes: dict[tuple[str, bool, bool], Callable[[], dict[str, Any]]] = {
            ("GET", False, False): lambda: c.list_clusters(request.query),
            ("POST", False, False): lambda: c.create(request.body),
            ("GET", True, False): lambda: c.get(str(cluster_id)),
            ("PUT", True, False): lambda: c.update(str(cluster_id), request.body),
            ("DELETE", True, False): lambda: c.delete(str(cluster_id), request.query),
            ("GET", True, True): lambda: c.instance_types(str(cluster_id)),
        }
        if key not in routes:
            raise ApiError(405, "Method Not Allowed")
        return routes[key]()

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


def _basic(user_id: str, api_key: str) -> bytes:
    return f"{user_id}:{api_key}".encode()


def _normalised(header: str) -> bytes:
    """The ``user:key`` bytes of a basic auth header (empty when it is not one)."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return b""
    try:
        return base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""
