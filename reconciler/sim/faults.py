"""Injected trouble that lives only while the server runs, and the log of what was answered.

Three sources of trouble, in this order for each API request:

- a queue of canned faults (``inject``; ``POST /_sim/faults``), each for the next request of
  a method;
- a random fault policy (``FaultPolicy``: a rate, a seed, the kinds, a method and a path or
  cluster name to target, and the share of faults that strike after the change was made);
- latency before every answer.

A fault's ``kind`` says what the caller gets: an HTTP error (``5xx``, ``429`` with
``Retry-After``), a connection reset, a hang past the client's timeout (then the connection is
closed without an answer), or a ``malformed`` (truncated) body. A fault ``after_commit`` lets
the request do its work first and then replaces the answer: the change is made, the caller
never hears of it. Every API request lands in the ``RequestLog`` with the fault it met.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.sim.faultkinds import (
    DEFAULT_HANG_SECONDS,
    DEFAULT_KINDS,
    KIND_5XX,
    KIND_429,
    KINDS,
    TRANSPORT_KINDS,
)

#: The methods that change something (the only ones an after-commit fault can follow).
MUTATING = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass(frozen=True)
class Fault:
    """One fault for one request."""

    #: the HTTP status of an error answer (429 or a 5xx, usually); unused by transport kinds
    status: int = 503
    #: the ``Retry-After`` header in seconds (None: no header)
    retry_after: float | None = None
    #: only requests with this HTTP method get the fault ("" for any)
    method: str = ""
    #: ``status`` (an error answer with ``status``) or one of ``faultkinds.KINDS``
    kind: str = "status"
    #: the request does its work first; then the answer is replaced by the fault
    after_commit: bool = False

    @property
    def is_transport(self) -> bool:
        return self.kind in TRANSPORT_KINDS

    def describe(self) -> str:
        """``503``, ``reset``, ``429 after commit``: how the request log names it."""
        what = self.kind if self.is_transport else str(self.status)
        return what + (" after commit" if self.after_commit else "")


@dataclass(frozen=True)
class FaultPolicy:
    """Random faults: each matching API request meets one with probability ``rate``."""

    #: the share of matching requests that meet a fault, 0..1
    rate: float = 0.0
    #: the seed of the random choices (None: unseeded)
    seed: int | None = None
    #: the kinds to choose from, evenly
    kinds: tuple[str, ...] = DEFAULT_KINDS
    #: only requests with this method ("" for any)
    method: str = ""
    #: only requests whose path, or the cluster name in whose body, contains this ("" any)
    target: str = ""
    #: of the faults that strike a mutating request, the share that strike after its commit
    after_commit: float = 0.0
    #: how long a ``hang`` holds the connection before closing it unanswered
    hang_seconds: float = DEFAULT_HANG_SECONDS
    #: the ``Retry-After`` seconds of a ``429``
    retry_after: float = 1.0

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kind(s) {', '.join(unknown) or '(none given)'}: "
                             f"choose from {', '.join(KINDS)}")
        if not 0.0 <= self.rate <= 1.0 or not 0.0 <= self.after_commit <= 1.0:
            raise ValueError("a fault rate and the after-commit share are between 0 and 1")
        if self.hang_seconds < 0 or self.retry_after < 0:
            raise ValueError("fault seconds must be >= 0")

    def matches(self, method: str, path: str, name: str) -> bool:
        if self.method and self.method != method:
            return False
        return not self.target or self.target in path or (bool(name) and self.target == name)


def parse_kinds(text: str) -> tuple[str, ...]:
    """``5xx,reset`` -> ``("5xx", "reset")``; ``ValueError`` naming an unknown kind."""
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    FaultPolicy(kinds=kinds)  # checks them
    return kinds


@dataclass(frozen=True)
class LoggedRequest:
    """One API request as answered."""

    method: str
    path: str
    #: the status the caller was sent (0: no answer, for a reset or a hang)
    status: int
    #: the fault injected (``Fault.describe()``), "" for none
    fault: str = ""
    #: the status the request's own work ended with (differs from ``status`` after commit;
    #: 0 when a fault came first and the request did nothing)
    handled: int = 0
    #: the cluster name a create or update carried in its body ("" otherwise)
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "status": self.status,
                "fault": self.fault, "handled": self.handled, "name": self.name}


@dataclass
class RequestLog:
    """The last ``limit`` API requests, in arrival order; ``echo`` hears a line for each."""

    limit: int = 100_000
    echo: Callable[[str], None] | None = None
    _items: deque[LoggedRequest] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: LoggedRequest) -> None:
        with self._lock:
            self._items.append(item)
            while len(self._items) > self.limit:
                self._items.popleft()
        if self.echo is not None:
            fault = f" fault={item.fault}" if item.fault else ""
            self.echo(f"sim: {item.method} {item.path} -> {item.status or 'no answer'}{fault}")

    def items(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Faults:
    """Per-request latency, a queue of faults for the next API requests, a random policy."""

    def __init__(self, latency_seconds: float = 0.0, policy: FaultPolicy | None = None) -> None:
        self._lock = threading.Lock()
        self._latency = max(latency_seconds, 0.0)
        self._queue: deque[Fault] = deque()
        self._policy = policy or FaultPolicy()
        self._random = random.Random(self._policy.seed)
        self.log = RequestLog()

    @property
    def latency_seconds(self) -> float:
        with self._lock:
            return self._latency

    @property
    def policy(self) -> FaultPolicy:
        with self._lock:
            return self._policy

    @property
    def hang_seconds(self) -> float:
        return self.policy.hang_seconds

    def set_latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = max(seconds, 0.0)

    def set_policy(self, policy: FaultPolicy) -> None:
        with self._lock:
            self._policy = policy
            self._random = random.Random(policy.seed)

    def inject(self, fault: Fault, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``fault``."""
        with self._lock:
            self._queue.extend([fault] * max(count, 0))

    def take(self, method: str = "", path: str = "", name: str = "") -> Fault | None:
        """The fault for this request, if any: the first queued one for ``method`` (taken off
        the queue; faults for other methods stay queued), else one the policy draws."""
        with self._lock:
            for fault in self._queue:
                if not fault.method or fault.method == method:
                    self._queue.remove(fault)
                    return fault
            return self._draw(method, path, name)

    def _draw(self, method: str, path: str, name: str) -> Fault | None:
        policy = self._policy
        if policy.rate <= 0 or not policy.matches(method, path, name):
            return None
        if self._random.random() >= policy.rate:
            return None
        kind = self._random.choice(policy.kinds)
        after = method in MUTATING and self._random.random() < policy.after_commit
        if kind == KIND_5XX:
            return Fault(status=self._random.choice((500, 502, 503, 504)), kind="status",
                         after_commit=after)
        if kind == KIND_429:
            # a 429 says the request was not acted on: never after a commit
            return Fault(status=429, retry_after=policy.retry_after, kind="status")
        return Fault(kind=kind, after_commit=after)

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._latency = 0.0
            self._policy = FaultPolicy()


def count_committed(log: Iterable[LoggedRequest], method: str) -> dict[str, int]:
    """How many requests of ``method`` each cluster name had that did their work (a 2xx from
    the request's own handling, whatever the caller was sent)."""
    counts: dict[str, int] = {}
    for item in log:
        if item.method == method and 200 <= item.handled < 300 and item.name:
            counts[item.name] = counts.get(item.name, 0) + 1
    return counts
