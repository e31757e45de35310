"""Deletes through the CLI with an emulator whose teardown takes long enough to observe."""

from __future__ import annotations

import time

from moto import mock_aws

from tests.cli.conftest import GitOpsRepo
from tests.cli.test_plan_apply import _applied
from tests.sim_fixtures import sim_server_fixture

# Overrides the shared emulator for this module: teardown takes a second, so a test can tell
# a normal delete (terminating for a while) from a forced one (DELETED at once).
sim_server = sim_server_fixture("sim_server", delete_seconds=1.0)


def test_removing_an_unprotected_cluster_deletes_it_without_force(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.commit("remove alpha")
    plan = gitops.gridops("plan")
    assert "- alpha" in plan.stdout and "Plan: 0 to create, 0 to change, 1 to delete." \
        in plan.stdout
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    live = gitops.grid.get_cluster("alpha")
    assert live.desired_state == "CLUSTER_STATE_DELETED"
    assert live.phase != "CLUSTER_STATE_DELETED"  # a normal delete: teardown takes a while
    assert gitops.inventory()["alpha"]["pendingDelete"] is True
    time.sleep(1.1)
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    assert "alpha" not in gitops.inventory()


def test_force_delete_makes_grid_forget_the_cluster_at_once(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.commit("remove alpha")
    with mock_aws():  # a forced delete is always swept: an empty account here
        result = gitops.gridops("apply", "--auto-approve", "--force-delete")
    assert result.exit_code == 0, result.output
    assert "alpha" not in gitops.live()
    assert "not checked" not in result.stderr


def test_wait_follows_a_delete_through_terminating_to_deleted(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.commit("remove alpha")
    result = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.1",
                            "--timeout", "10")
    assert result.exit_code == 0, result.output
    assert "alpha: terminating" in result.stderr
    assert "alpha: DELETED" in result.stdout
