"""What the emulator sends: grpc-gateway error bodies, Cluster answers, request bodies read."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.model import PHASE_FAILED
from reconciler.sim.phases import desired_state, phase_at
from reconciler.sim.store import ClusterRecord

#: grpc status codes grpc-gateway puts in error bodies, by HTTP status
GRPC_CODES: Mapping[int, int] = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 429: 8,
                                 500: 13, 501: 12, 502: 14, 503: 14, 504: 4}


@dataclass(frozen=True)
class Answer:
    """An HTTP answer before it is written."""

    #: the HTTP status
    status: int
    #: the JSON body
    body: Mapping[str, Any]
    #: extra headers (``Retry-After``, ...)
    headers: tuple[tuple[str, str], ...] = ()


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
    """The grpc-gateway error shape: ``{"code": grpc code, "message": ..., "details": []}``."""
    body = {"code": GRPC_CODES.get(status, 2), "message": message, "details": []}
    return Answer(status, body, headers)


def render_cluster(record: ClusterRecord, now: float, *, created: bool = True) -> dict[str, Any]:
    """A wire Cluster as Grid answers it at ``now``; zero-valued fields are left out."""
    phase = phase_at(record.timeline, now)
    status: dict[str, Any] = {"phase": phase}
    if phase == PHASE_FAILED and record.reason:
        status["reason"] = record.reason
    answer: dict[str, Any] = {"id": record.id, "name": record.name}
    if created:
        answer["createdAt"] = rfc3339(record.timeline.created_at)
    answer["spec"] = {**record.spec, "desiredState": desired_state(record.timeline)}
    answer["status"] = status
    return answer


def rfc3339(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
