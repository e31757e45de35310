"""What the emulator sends: grpc-gateway error bodies, Cluster answers, request bodies read."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.sim.phases import desired_state, observe
from reconciler.sim.status import render_status, rfc3339
from reconciler.sim.store import ClusterRecord

#: grpc status codes grpc-gateway puts in error bodies, by HTTP status
GRPC_CODES: Mapping[int, int] = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 429: 8,
                                 500: 13, 501: 12, 502: 14, 503: 14, 504: 4}


#: the ``@type`` of the error detail every error body carries (its ``message`` is the SDK's)
ERROR_DETAIL_TYPE = "type.googleapis.com/google.rpc.LocalizedMessage"


class LineFeed(Protocol):
    """What a websocket answer streams: text lines as they come."""

    def take(self, now: float) -> tuple[list[str], bool]:
        """The lines not taken before, and whether the feed has ended after them."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer before it is written."""

    #: the HTTP status (101 with a ``feed``: switch to a websocket)
    status: int
    #: the JSON body
    body: Mapping[str, Any]
    #: extra headers (``Retry-After``, ...)
    headers: tuple[tuple[str, str], ...] = ()
    #: the lines a websocket answer streams (None: a plain answer)
    feed: LineFeed | None = None


class ApiError(Exception):
    """Stops a request with an error answer; ``message`` is what the caller reads."""

    def __init__(self, status: int, message: str,
                 headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers

    def answer(self) -> Answer:
        return error_answer(self.status, self.message, self.headers)


def error_answer(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """The grpc-gateway error shape, ``{"code": grpc code, "message", "details"}``, with the
    message once more as a detail: the grid SDK shows ``details[0].message`` to its user."""
    detail = {"@type": ERROR_DETAIL_TYPE, "locale": "en-US", "message": message}
    body = {"code": GRPC_CODES.get(status, 2), "message": message, "details": [detail]}
    return Answer(status, body, headers)


def render_cluster(record: ClusterRecord, now: float, *, phase: str | None = None,
                   created: bool = True) -> dict[str, Any]:
    """A wire Cluster as Grid answers it at ``now`` (reporting ``phase`` when given: what a
    poll observed); zero-valued fields are left out."""
    answer: dict[str, Any] = {"id": record.id, "name": record.name}
    if created:
        answer["createdAt"] = rfc3339(record.timeline.created_at)
    answer["spec"] = {**record.spec, "desiredState": desired_state(record.timeline)}
    answer["status"] = render_status(
        record, phase or observe(record.timeline, record.retry, now)[0], now)
    return answer


def read_object(body: bytes, *, allowed: Collection[str]) -> dict[str, Any]:
    """A request's JSON object; ApiError(400) when it is not one or holds an unknown field."""
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ApiError(400, f"the request body is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0]!r} in the request body "
                            f"(expected {', '.join(sorted(allowed))})")
    return data
