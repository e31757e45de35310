from __future__ import annotations

import pytest

from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_PENDING,
    PHASE_QUEUED,
    PHASE_RUNNING,
)
from reconciler.sim.phases import (
    desired_state,
    fail_now,
    new_timeline,
    phase_at,
    request_delete,
)

T0 = 1_000.0


@pytest.mark.parametrize(("elapsed", "phase"), [
    (0.0, PHASE_QUEUED), (2.9, PHASE_QUEUED), (3.0, PHASE_PENDING), (8.9, PHASE_PENDING),
    (9.0, PHASE_RUNNING), (1e6, PHASE_RUNNING),
], ids=["at-create", "first-third", "pending", "almost-ready", "ready", "much-later"])
def test_a_create_goes_queued_pending_running(elapsed: float, phase: str) -> None:
    assert phase_at(new_timeline(T0, 9.0), T0 + elapsed) == phase


def test_a_planned_failure_turns_failed_instead_of_running() -> None:
    timeline = new_timeline(T0, 9.0, fails=True)
    assert phase_at(timeline, T0 + 5) == PHASE_PENDING
    assert phase_at(timeline, T0 + 9) == PHASE_FAILED


def test_a_delete_keeps_the_phase_until_delete_seconds_have_passed() -> None:
    timeline = request_delete(new_timeline(T0, 0.0), T0 + 10, 5.0, force=False)
    assert desired_state(timeline) == PHASE_DELETED
    assert phase_at(timeline, T0 + 14.9) == PHASE_RUNNING
    assert phase_at(timeline, T0 + 15) == PHASE_DELETED


def test_a_forced_delete_is_deleted_at_once_even_while_a_delete_runs() -> None:
    slow = request_delete(new_timeline(T0, 0.0), T0 + 10, 60.0, force=False)
    forced = request_delete(slow, T0 + 11, 60.0, force=True)
    assert phase_at(forced, T0 + 11) == PHASE_DELETED
    assert forced.delete_requested_at == T0 + 10


def test_asking_to_delete_again_never_makes_it_take_longer() -> None:
    first = request_delete(new_timeline(T0, 0.0), T0 + 10, 5.0, force=False)
    again = request_delete(first, T0 + 14, 5.0, force=False)
    assert again.deleted_at == T0 + 15


def test_failing_a_running_cluster_is_immediate_but_a_deleted_one_stays_deleted() -> None:
    running = new_timeline(T0, 1.0)
    assert phase_at(fail_now(running, T0 + 5), T0 + 5) == PHASE_FAILED
    gone = request_delete(running, T0 + 5, 0.0, force=True)
    assert fail_now(gone, T0 + 6) == gone


@pytest.mark.parametrize(("elapsed", "phase"), [
    (8.9, PHASE_PENDING), (9.0, PHASE_FAILED), (10.9, PHASE_FAILED), (11.0, PHASE_RUNNING),
], ids=["before", "failed", "still-failed", "recovered"])
def test_a_failure_with_a_recovery_turns_back_to_running(elapsed: float, phase: str) -> None:
    timeline = new_timeline(T0, 9.0, fails=True, recover_seconds=2.0)
    assert phase_at(timeline, T0 + elapsed) == phase


def test_failing_a_running_cluster_for_a_while_brings_it_back() -> None:
    timeline = fail_now(new_timeline(T0, 1.0), T0 + 5, recover_seconds=1.0)
    assert [phase_at(timeline, T0 + t) for t in (4.9, 5.0, 5.9, 6.0)] == [
        PHASE_RUNNING, PHASE_FAILED, PHASE_FAILED, PHASE_RUNNING]
