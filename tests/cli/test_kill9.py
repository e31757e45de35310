"""kill -9 during apply: whatever instant the process dies at, the next apply completes from
the state it left, without a person: no orphan, no duplicate create, a readable state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.sim.faults import count_committed
from reconciler.state import LocalStateBackend
from tests.cli.conftest import GitOpsRepo, cluster_doc
from tests.sim_fixtures import sim_server_fixture

#: Slow enough answers that a kill lands between two creates.
sim_server = sim_server_fixture("sim_server", latency_seconds=0.04)
CLUSTERS = [f"k{i:02d}" for i in range(8)]
GRIDOPS = Path(sys.executable).with_name("gridops")


def _posts(g: GitOpsRepo) -> int:
    return sum(1 for r in g.sim.requests() if r.method == "POST")


@pytest.mark.parametrize("kill_after", [0, 3, len(CLUSTERS)],
                         ids=["before-any-create", "after-3-creates", "after-all-creates"])
def test_an_apply_killed_at_any_point_is_completed_by_the_next_one(
        gitops: GitOpsRepo, kill_after: int) -> None:
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.remove("clusters/team-a/alpha.yaml")
    for name in CLUSTERS:
        gitops.write(f"clusters/k/{name}.yaml", cluster_doc(name))
    gitops.commit("eight clusters")
    process = subprocess.Popen(
        [str(GRIDOPS), "--repo", str(gitops.root), "apply", "--auto-approve",
         "--parallelism", "2"], env=dict(os.environ), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while _posts(gitops) < kill_after and process.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.005)
    if kill_after == 0:  # as soon as it has asked Grid anything
        while not gitops.sim.requests() and time.monotonic() < deadline:
            time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    LocalStateBackend(gitops.root / ".gridops" / "state.json").read()  # readable
    second = gitops.gridops("apply", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "blocked" not in second.stdout and "import" not in second.stdout
    assert set(gitops.inventory()) == set(CLUSTERS)
    assert all("intent" not in e for e in gitops.inventory().values())
    assert count_committed(gitops.sim.requests(), "POST") == dict.fromkeys(CLUSTERS, 1)
    third = gitops.gridops("plan", "--detailed-exitcode")
    assert third.exit_code == 0, third.output
