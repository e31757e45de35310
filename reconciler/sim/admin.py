"""The emulator's control endpoints under ``/_sim/`` (same basic auth as the API).

- ``GET /_sim/state``: ``{"latencySeconds", "pendingFaults", "failures", "requestCount"}``
- ``POST /_sim/failures`` ``{"name", "reason", "recoverSeconds"}``: the named cluster fails
  with ``reason``: at once if it exists, and on every later create of that name (where it
  would turn RUNNING); with ``recoverSeconds`` it turns back to RUNNING that long after it
  failed, as Grid's status may while it retries
- ``DELETE /_sim/failures/{name}``: forget that rule (a cluster already FAILED stays FAILED)
- ``POST /_sim/latency`` ``{"seconds"}``: sleep that long before answering each API request
- ``POST /_sim/faults`` ``{"status", "count", "retryAfter", "method", "kind",
  "afterCommit"}``: answer the next ``count`` API requests (of ``method``, when given) with
  ``status`` (and a ``Retry-After`` header when given), or with a ``kind`` of fault (``reset``,
  ``hang``, ``malformed``); ``afterCommit: true`` lets the request do its work first
- ``POST /_sim/fault-policy`` ``{"rate", "seed", "kinds", "method", "target", "afterCommit",
  "hangSeconds", "retryAfter"}``: random faults from now on (``rate: 0`` stops them)
- ``GET /_sim/requests``: ``{"requests": [{"method", "path", "status", "fault", "handled",
  "name"}]}``, every API request so far; ``DELETE /_sim/requests`` forgets them
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reconciler.sim.faultkinds import DEFAULT_HANG_SECONDS, TRANSPORT_KINDS
from reconciler.sim.faults import Fault, FaultPolicy, Faults
from reconciler.sim.phases import fail_now
from reconciler.sim.store import Store
from reconciler.sim.wire import ApiError, read_object

DEFAULT_REASON = "the emulator was told to fail this cluster"


class AdminApi:
    """Failure rules (stored, so they outlive a restart), latency and canned faults."""

    def __init__(self, store: Store, faults: Faults, clock: Callable[[], float],
                 request_count: Callable[[], int]) -> None:
        self._store = store
        self._faults = faults
        self._clock = clock
        self._request_count = request_count

    def state(self) -> dict[str, Any]:
        with self._store.transaction(write=False) as tx:
            failures = tx.failure_rules()
        return {"latencySeconds": self._faults.latency_seconds,
                "pendingFaults": self._faults.pending(), "failures": failures,
                "requestCount": self._request_count()}

    def fail(self, name: str, reason: str, recover_seconds: float | None = None) -> None:
        now = self._clock()
        with self._store.transaction() as tx:
            tx.set_failure_rule(name, reason, recover_seconds)
            record = tx.get(name)
            if record is not None:
                timeline = fail_now(record.timeline, now, recover_seconds)
                if timeline != record.timeline:
                    tx.put(replace(record, timeline=timeline, reason=reason))

    def clear_failure(self, name: str) -> None:
        with self._store.transaction() as tx:
            tx.clear_failure_rule(name)

    def post_failure(self, body: bytes) -> dict[str, Any]:
        data = read_object(body, allowed=("name", "reason", "recoverSeconds"))
        name, reason = data.get("name"), data.get("reason", DEFAULT_REASON)
        if not isinstance(name, str) or not name or not isinstance(reason, str) or not reason:
            raise ApiError(400, "a failure needs a 'name' and a non-empty string 'reason'")
        recover = data.get("recoverSeconds")
        if recover is not None and not _is_seconds(recover):
            raise ApiError(400, "'recoverSeconds' must be a number of seconds >= 0")
        self.fail(name, reason, None if recover is None else float(recover))
        return {}

    def post_latency(self, body: bytes) -> dict[str, Any]:
        seconds = read_object(body, allowed=("seconds",)).get("seconds", 0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ApiError(400, "'seconds' must be a number >= 0")
        self._faults.set_latency(float(seconds))
        return {}

    def post_faults(self, body: bytes) -> dict[str, Any]:
        data = read_object(body, allowed=("status", "count", "retryAfter", "method", "kind",
                                          "afterCommit"))
        kind = data.get("kind", "status")
        status, count = data.get("status", 503 if kind != "status" else None), data.get("count", 1)
        retry_after = data.get("retryAfter")
        if kind not in ("status", *TRANSPORT_KINDS):
            raise ApiError(400, "'kind' must be status, reset, hang or malformed")
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ApiError(400, "'status' must be an HTTP error status (400-599)")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ApiError(400, "'count' must be an integer >= 0")
        if retry_after is not None and not _is_seconds(retry_after):
            raise ApiError(400, "'retryAfter' must be a number of seconds >= 0")
        method = data.get("method", "")
        if method not in ("", "GET", "POST", "PUT", "DELETE"):
            raise ApiError(400, "'method' must be GET, POST, PUT or DELETE")
        after_commit = data.get("afterCommit", False)
        if not isinstance(after_commit, bool):
            raise ApiError(400, "'afterCommit' must be true or false")
        after = None if retry_after is None else float(retry_after)
        self._faults.inject(Fault(status, after, method, kind, after_commit), count)
        return {}

    def post_fault_policy(self, body: bytes) -> dict[str, Any]:
        data = read_object(body, allowed=("rate", "seed", "kinds", "method", "target",
                                          "afterCommit", "hangSeconds", "retryAfter"))
        numbers = {k: data[k] for k in ("rate", "afterCommit", "hangSeconds", "retryAfter")
                   if k in data}
        if not all(_is_seconds(v) for v in numbers.values()):
            raise ApiError(400, "rate, afterCommit, hangSeconds and retryAfter are numbers >= 0")
        seed, kinds = data.get("seed"), data.get("kinds", list(FaultPolicy().kinds))
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ApiError(400, "'seed' must be an integer")
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise ApiError(400, "'kinds' must be a list of fault kinds")
        method, target = data.get("method", ""), data.get("target", "")
        if not isinstance(method, str) or not isinstance(target, str):
            raise ApiError(400, "'method' and 'target' must be strings")
        try:
            policy = FaultPolicy(
                rate=float(numbers.get("rate", 0.0)), seed=seed, kinds=tuple(kinds),
                method=method.upper(), target=target,
                after_commit=float(numbers.get("afterCommit", 0.0)),
                hang_seconds=float(numbers.get("hangSeconds", DEFAULT_HANG_SECONDS)),
                retry_after=float(numbers.get("retryAfter", 1.0)))
        except ValueError as e:
            raise ApiError(400, str(e)) from e
        self._faults.set_policy(policy)
        return {}


def _is_seconds(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value >= 0
