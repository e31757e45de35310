"""Injected trouble that lives only while the server runs: latency and canned error answers."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One canned error answer."""

    #: the HTTP status to answer (429 or a 5xx, usually)
    status: int
    #: the ``Retry-After`` header in seconds (None: no header)
    retry_after: float | None = None
    #: only requests with this HTTP method get the fault ("" for any)
    method: str = ""


class Faults:
    """Per-request latency and a queue of error answers for the next API requests."""

    def __init__(self, latency_seconds: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._latency = max(latency_seconds, 0.0)
        self._queue: deque[Fault] = deque()

    @property
    def latency_seconds(self) -> float:
        with self._lock:
            return self._latency

    def set_latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = max(seconds, 0.0)

    def inject(self, fault: Fault, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``fault``."""
        with self._lock:
            self._queue.extend([fault] * max(count, 0))

    def take(self, method: str = "") -> Fault | None:
        """The first queued fault for a request with ``method``, if any (taken off the
        queue); faults for other methods stay queued."""
        with self._lock:
            for fault in self._queue:
                if not fault.method or fault.method == method:
                    self._queue.remove(fault)
                    return fault
            return None

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._latency = 0.0
