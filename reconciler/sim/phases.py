"""A cluster's lifecycle in the emulator, computed from stored timestamps (pure).

Nothing ticks in the background: the phase is worked out from the timestamps each time it
is read, so it moves on while the server runs and across restarts on the same database.
Create: QUEUED for the first third of ``create_seconds``, then PENDING, then RUNNING (or
FAILED, when a failure was planned for the name; a failure may turn back to RUNNING after a
while, as Grid's status does while it retries). Delete: ``desiredState`` turns DELETED at
once and the phase turns DELETED after ``delete_seconds`` (at once with ``force``).

A cluster created with a ``Retry`` of K polls reports FAILED to the first K polls (lists and
gets) once it would be RUNNING, as Grid does while it retries a step, then RUNNING.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_PENDING,
    PHASE_QUEUED,
    PHASE_RUNNING,
)


@dataclass(frozen=True)
class Timeline:
    """When a cluster reaches each phase, as Unix times (seconds)."""

    #: when the create was answered
    created_at: float
    #: when QUEUED turns PENDING
    pending_at: float
    #: when PENDING turns RUNNING
    ready_at: float
    #: when the cluster turns FAILED (None: it does not fail)
    failed_at: float | None = None
    #: when a FAILED cluster turns back to RUNNING (None: it stays FAILED)
    recovered_at: float | None = None
    #: when a delete was asked for (None: never); from then desiredState is DELETED
    delete_requested_at: float | None = None
    #: when the phase turns DELETED (None: not being deleted)
    deleted_at: float | None = None


@dataclass(frozen=True)
class Retry:
    """A FAILED spell that Grid recovers from, counted in polls."""

    #: polls that answer FAILED once the cluster would be RUNNING (0: no such spell)
    polls: int = 0
    #: of those, answered so far
    seen: int = 0
    #: when the first poll after them answered RUNNING (None: not yet)
    recovered_at: float | None = None


#: ``status.reason`` while a Retry spell lasts
RETRY_REASON = "creating the EKS node groups failed; Grid is retrying"


def new_timeline(now: float, create_seconds: float, *, fails: bool = False,
                 recover_seconds: float | None = None) -> Timeline:
    """A fresh create; with ``fails`` it turns FAILED where it would have turned RUNNING,
    and back to RUNNING ``recover_seconds`` later when that is given."""
    ready_at = now + max(create_seconds, 0.0)
    timeline = Timeline(created_at=now, pending_at=now + max(create_seconds, 0.0) / 3,
                        ready_at=ready_at)
    if not fails:
        return timeline
    return replace(timeline, failed_at=ready_at, recovered_at=_later(ready_at, recover_seconds))


def _later(start: float, seconds: float | None) -> float | None:
    return None if seconds is None else start + max(seconds, 0.0)


def phase_at(timeline: Timeline, now: float) -> str:
    if timeline.deleted_at is not None and now >= timeline.deleted_at:
        return PHASE_DELETED
    if timeline.failed_at is not None and now >= timeline.failed_at and (
            timeline.recovered_at is None or now < timeline.recovered_at):
        return PHASE_FAILED
    if now >= timeline.ready_at:
        return PHASE_RUNNING
    return PHASE_PENDING if now >= timeline.pending_at else PHASE_QUEUED


def observe(timeline: Timeline, retry: Retry, now: float) -> tuple[str, Retry]:
    """The phase a poll at ``now`` answers, and the Retry after that poll."""
    phase = phase_at(timeline, now)
    if phase != PHASE_RUNNING or not retry.polls or retry.recovered_at is not None:
        return phase, retry
    if timeline.delete_requested_at is not None:
        return PHASE_FAILED, retry  # deleted while Grid retried: it never recovers
    if retry.seen < retry.polls:
        return PHASE_FAILED, replace(retry, seen=retry.seen + 1)
    return phase, replace(retry, recovered_at=now)


def desired_state(timeline: Timeline) -> str:
    return PHASE_DELETED if timeline.delete_requested_at is not None else PHASE_RUNNING


def request_delete(timeline: Timeline, now: float, delete_seconds: float, *,
                   force: bool) -> Timeline:
    """The timeline after a DELETE; asking again never makes a delete take longer."""
    gone_at = now if force else now + max(delete_seconds, 0.0)
    if timeline.deleted_at is not None:
        gone_at = min(gone_at, timeline.deleted_at)
    requested = timeline.delete_requested_at
    return replace(timeline, delete_requested_at=now if requested is None else requested,
                   deleted_at=gone_at)


def fail_now(timeline: Timeline, now: float, recover_seconds: float | None = None) -> Timeline:
    """The timeline of a cluster told to fail at ``now`` (no change once it is DELETED),
    back to RUNNING ``recover_seconds`` later when that is given."""
    phase = phase_at(timeline, now)
    if phase == PHASE_DELETED:
        return timeline
    failed_at = timeline.failed_at if phase == PHASE_FAILED and timeline.failed_at else now
    return replace(timeline, failed_at=failed_at, recovered_at=_later(now, recover_seconds))
