"""The emulator's API routes, matched before anything else (pure).

As in grpc-gateway, the path is routed first: an unknown path is a 404 and a known path
with another method a 405, whoever asks; only a known route checks credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from reconciler.sim.wire import ApiError

#: how a route takes its credential: the ``Authorization`` header, or (the logs websocket,
#: as the grid CLI opens it) a ``token`` query parameter holding the same value
AUTH_HEADER, AUTH_TOKEN_QUERY, AUTH_NONE = "header", "token-query", "none"


@dataclass(frozen=True)
class Route:
    """One API call."""

    #: what the app calls to answer it
    name: str
    #: the HTTP method
    method: str
    #: the path, ``{id}`` for the cluster id
    template: str
    #: AUTH_HEADER, AUTH_TOKEN_QUERY or AUTH_NONE
    auth: str = AUTH_HEADER


@dataclass(frozen=True)
class Match:
    """A request's route and the cluster id in its path ("" when none)."""

    route: Route
    cluster_id: str = ""


ROUTES: tuple[Route, ...] = (
    Route("login", "POST", "/v1/auth/login", AUTH_NONE),
    Route("user", "GET", "/v1/auth/user"),
    Route("list", "GET", "/v1/core/clusters"),
    Route("create", "POST", "/v1/core/clusters"),
    Route("get", "GET", "/v1/core/clusters/{id}"),
    Route("update", "PUT", "/v1/core/clusters/{id}"),
    Route("delete", "DELETE", "/v1/core/clusters/{id}"),
    Route("instance_types", "GET", "/v1/core/clusters/{id}/instance-types"),
    Route("cloud_provider_id", "GET", "/v1/core/clusters/{id}/cloud-provider-id"),
    Route("logs", "GET", "/v1/core/clusters/{id}/logs", AUTH_TOKEN_QUERY),
)


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace(r"\{id\}", "(?P<id>[^/]+)") + "/?$")


_PATTERNS = tuple((route, _pattern(route.template)) for route in ROUTES)


def match_route(method: str, path: str) -> Match:
    """The route of ``method path`` (still percent-encoded); ApiError 404 or 405."""
    found = [(route, m) for route, pattern in _PATTERNS if (m := pattern.match(path))]
    if not found:
        raise ApiError(404, "Not Found")
    for route, m in found:
        if route.method == method:
            return Match(route, unquote(m["id"]) if "id" in m.groupdict() else "")
    raise ApiError(405, "Method Not Allowed")
