"""A cluster's lifecycle as log lines, the way ``grid clusters logs NAME`` reads them.

The events come from the stored timeline (pure): created, PENDING, RUNNING (or a FAILED
spell Grid retried, then RUNNING), FAILED with its reason (and RUNNING again, for a failure
that recovers), the delete asked for, DELETED.
Each line is the JSON the grid CLI parses: ``{"message", "timestamp", "labels": {"level",
...}}``. ``LogFeed`` hands out the lines of one websocket: the backlog in ``[start, end]``
(the last ``limit`` of it), then, when following, each new event until the cluster is
DELETED.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_PENDING,
    PHASE_QUEUED,
    PHASE_RUNNING,
)
from reconciler.sim.phases import RETRY_REASON, phase_at
from reconciler.sim.query import read_bool, read_int
from reconciler.sim.store import ClusterRecord
from reconciler.sim.wire import ApiError


@dataclass(frozen=True)
class LogEvent:
    """One step of a cluster's lifecycle."""

    #: which step (unique per cluster life): created, pending, running, ...
    key: str
    #: when it happens (Unix time)
    at: float
    #: ``info``, ``warning`` or ``error``
    level: str
    #: the line a person reads
    message: str
    #: the phase from then on
    phase: str


def lifecycle_events(record: ClusterRecord) -> list[LogEvent]:
    """Every event of the cluster's timeline, past and planned, in time order."""
    t, name = record.timeline, record.name
    region = record.spec.get("driver", {}).get("kubernetes", {}).get("aws", {}).get("region", "")
    stop = t.deleted_at if t.deleted_at is not None else math.inf
    failed = t.failed_at if t.failed_at is not None else math.inf
    events = [LogEvent("created", t.created_at, "info",
                       f"cluster {name} created; waiting in the queue", PHASE_QUEUED)]
    if t.pending_at < min(failed, stop):
        where = f" in {region}" if region else ""
        events.append(LogEvent("pending", t.pending_at, "info",
                               f"provisioning the VPC, EKS cluster and node groups{where}",
                               PHASE_PENDING))
    if t.ready_at < min(failed, stop):
        asked = t.delete_requested_at if t.delete_requested_at is not None else math.inf
        events += _ready_events(record, min(failed, stop, asked))
    if failed < stop:
        events.append(LogEvent("failed", failed, "error",
                               f"cluster {name} failed: {record.reason or 'no reason given'}",
                               PHASE_FAILED))
        if t.recovered_at is not None and t.recovered_at < stop:
            events.append(LogEvent("recovered", t.recovered_at, "info",
                                   f"cluster {name} is running again (Grid's retry "
                                   "succeeded)", PHASE_RUNNING))
    if t.delete_requested_at is not None:
        forced = t.deleted_at == t.delete_requested_at
        how = " (forced: its cloud resources are left behind)" if forced else ""
        events.append(LogEvent("delete", t.delete_requested_at, "warning",
                               f"delete of cluster {name} requested{how}", PHASE_RUNNING))
    if t.deleted_at is not None:
        events.append(LogEvent("deleted", t.deleted_at, "info", f"cluster {name} deleted",
                               PHASE_DELETED))
    return sorted(events, key=lambda e: e.at)


def _ready_events(record: ClusterRecord, until: float) -> list[LogEvent]:
    at, retry = record.timeline.ready_at, record.retry
    running = LogEvent("running", at, "info", f"cluster {record.name} is running",
                       PHASE_RUNNING)
    if not retry.polls:
        return [running]
    events = [LogEvent("retrying", at, "warning", f"cluster {record.name}: {RETRY_REASON}",
                       PHASE_FAILED)]
    if retry.recovered_at is not None and retry.recovered_at < until:
        events.append(LogEvent("running", retry.recovered_at, "info",
                               f"cluster {record.name} is running (the retry succeeded)",
                               PHASE_RUNNING))
    return events


def render_line(record: ClusterRecord, event: LogEvent) -> str:
    """The JSON text of one websocket message."""
    moment = datetime.fromtimestamp(event.at, tz=UTC)
    timestamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return json.dumps({"message": event.message, "timestamp": timestamp,
                       "labels": {"level": event.level, "cluster": record.name,
                                  "phase": event.phase}})


class LogFeed:
    """The lines of one ``/logs`` websocket (a ``LineFeed``)."""

    def __init__(self, read: Callable[[], ClusterRecord | None],
                 query: Mapping[str, list[str]]) -> None:
        self._read = read
        self.follow = read_bool(query, "follow")
        self.start = read_int(query, "start", default=-(2 ** 63))
        self.end = read_int(query, "end", default=2 ** 63 - 1)
        self.limit = read_int(query, "limit")
        if self.limit < 0:
            raise ApiError(400, f"limit must not be negative, not {self.limit}")
        self._sent: set[str] = set()
        self._life: float | None = None  # created_at of the cluster being followed

    def take(self, now: float) -> tuple[list[str], bool]:
        record = self._read()
        if record is None or self._life not in (None, record.timeline.created_at):
            return [], True  # gone, or deleted and created anew: this life has ended
        first = self._life is None
        self._life = record.timeline.created_at
        due = [e for e in lifecycle_events(record) if e.at <= now and e.key not in self._sent]
        self._sent.update(e.key for e in due)
        wanted = [e for e in due if self.start <= math.floor(e.at)
                  and (self.follow or math.floor(e.at) <= self.end)]
        if first and self.limit:
            wanted = wanted[-self.limit:]
        ended = not self.follow or phase_at(record.timeline, now) == PHASE_DELETED
        return [render_line(record, e) for e in wanted], ended
