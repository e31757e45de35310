"""A cluster still being created: in sync when it will match git, a wait with its diff (and
drift) when it will not. Creates take long enough here to commit an edit meanwhile."""

from __future__ import annotations

import re

from tests.cli.conftest import GitOpsRepo, cluster_doc
from tests.sim_fixtures import sim_server_fixture

sim_server = sim_server_fixture("sim_server", create_seconds=1.5)




def test_an_edit_to_a_cluster_still_being_created_waits_with_its_diff_and_is_drift(
        gitops: GitOpsRepo) -> None:
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", profile="cost-saving"))
    gitops.commit("alpha saves cost")
    plan = gitops.gridops("plan", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "= alpha: wait (being created; will then change: performanceProfile)" in plan.stdout
    assert "match git" not in plan.stdout
    assert plan.stdout.rstrip().endswith("waiting.")
    gitops.wait_running("alpha", "beta")
    applied = gitops.gridops("apply", "--auto-approve")
    assert "~ alpha: updated" in applied.stdout


def test_a_create_in_progress_with_nothing_else_to_change_is_in_sync(gitops: GitOpsRepo) -> None:
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    plan = gitops.gridops("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.rstrip().endswith("Plan: 0 to create, 0 to change, 0 to delete; "
                                         "2 waiting.")


def test_a_cluster_still_being_created_is_waited_on_not_created_again(
        gitops: GitOpsRepo) -> None:
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    result = gitops.gridops("plan")  # immediately: still QUEUED/PENDING
    assert "being created" in result.stdout
    assert "Plan: 0 to create" in result.stdout


def test_wait_follows_created_clusters_to_running(gitops: GitOpsRepo) -> None:
    # here creates take 1.5 s, so the first poll sees them on their way even on a busy machine
    result = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                            "--timeout", "10")
    assert result.exit_code == 0, result.output
    assert re.search(r"^alpha: RUNNING after \d+s$", result.stdout, re.M), result.stdout
    assert re.search(r"^beta: RUNNING after \d+s$", result.stdout, re.M), result.stdout
    assert "QUEUED" in result.stderr or "PENDING" in result.stderr


def test_progress_every_repeats_a_phase_that_lasts_and_is_quiet_by_default(
        gitops: GitOpsRepo) -> None:
    often = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                           "--timeout", "10", "--progress-every", "0.2")
    assert often.exit_code == 0, often.output
    assert re.search(r"^  (alpha|beta): still (QUEUED|PENDING) after \d+s$", often.stderr,
                     re.M), often.stderr

    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.write("clusters/gamma.yaml", cluster_doc("gamma"))
    gitops.commit("gamma instead")
    quiet = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                           "--timeout", "10")
    assert quiet.exit_code == 0, quiet.output
    assert "still" not in quiet.stderr, quiet.stderr
