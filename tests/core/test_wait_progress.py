"""What apply --wait says while it waits: phase changes, a line every period per cluster
still waiting, and a summary with each cluster's time."""

from __future__ import annotations

import pytest

from reconciler.views.progress import WaitProgress, format_duration

PENDING, RUNNING = "CLUSTER_STATE_PENDING", "CLUSTER_STATE_RUNNING"


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (45.9, "45s"), (750, "12m30s"),
                                              (3720, "1h02m")],
                         ids=["zero", "seconds", "minutes", "hours"])
def test_durations_read_as_a_person_says_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_waiting_cluster_gets_a_line_every_period_and_one_per_phase_change() -> None:
    report = WaitProgress(deleting=frozenset(), every=30)
    said = []
    for elapsed in range(0, 100, 5):  # a poll every 5 s, PENDING until 90 s
        phase = PENDING if elapsed < 90 else RUNNING
        said += report.poll("research-use1", phase, elapsed, settled=phase == RUNNING)
    assert said == ["  research-use1: PENDING (0s)",
                    "  research-use1: still PENDING after 30s",
                    "  research-use1: still PENDING after 1m00s",
                    "  research-use1: RUNNING (1m30s)"]


def test_each_cluster_keeps_its_own_period() -> None:
    report = WaitProgress(deleting=frozenset({"old"}), every=10)
    assert report.poll("new", PENDING, 0, settled=False) == ["  new: PENDING (0s)"]
    assert report.poll("old", RUNNING, 4, settled=False) == ["  old: terminating (4s)"]
    assert report.poll("new", PENDING, 10, settled=False) == ["  new: still PENDING after 10s"]
    assert report.poll("old", RUNNING, 10, settled=False) == []
    assert report.poll("old", RUNNING, 14, settled=False) == [
        "  old: still terminating after 14s"]


def test_the_summary_gives_each_cluster_its_time_or_says_it_did_not_settle() -> None:
    report = WaitProgress(deleting=frozenset({"old"}), every=30)
    report.poll("new", PENDING, 0, settled=False)
    report.poll("new", RUNNING, 65, settled=True)
    report.poll("old", RUNNING, 0, settled=False)
    final = {"new": RUNNING, "old": RUNNING}
    assert report.summary(final, {"new": True, "old": False}, timeout=120) == [
        "new: RUNNING after 1m05s", "old: terminating (still not settled after 2m00s)"]
