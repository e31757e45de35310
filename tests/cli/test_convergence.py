"""Lost answers, pending intents and truthful exit codes, through the CLI against the emulator
over loopback HTTP."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.model import State
from reconciler.sim.faults import FaultPolicy, count_committed
from reconciler.state import LocalStateBackend
from tests.cli.conftest import GitOpsRepo, cluster_doc

READ_BACK = "created (the answer was lost; confirmed by reading it back)"




@pytest.mark.parametrize("kind", ["reset", "status", "malformed"])
def test_a_create_whose_answer_is_lost_after_grid_made_it_is_read_back_and_owned(
        gitops: GitOpsRepo, kind: str) -> None:
    gitops.sim.inject_faults(502, kind=kind, method="POST", after_commit=True)
    result = gitops.gridops("apply", "--auto-approve", "--parallelism", "1")
    assert result.exit_code == 0, result.output
    assert sum(READ_BACK in line for line in result.stdout.splitlines()) == 1
    assert "could not reach Grid" not in result.output
    inventory = gitops.inventory()
    assert set(inventory) == {"alpha", "beta"}
    assert all("intent" not in e for e in inventory.values())
    gitops.wait_running("alpha", "beta")
    again = gitops.gridops("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "blocked" not in again.stdout
    assert count_committed(gitops.sim.requests(), "POST") == {"alpha": 1, "beta": 1}


def test_a_create_lost_before_grid_acted_fails_truthfully_and_the_next_run_creates_it(
        gitops: GitOpsRepo) -> None:
    gitops.sim.inject_faults(kind="reset", method="POST")
    first = gitops.gridops("apply", "--auto-approve", "--parallelism", "1")
    assert first.exit_code == 1
    failed = [line for line in first.stdout.splitlines() if line.startswith("! ")]
    # the answer was lost: Grid not listing it yet does not prove it never will
    assert len(failed) == 1 and "gridops cannot tell whether Grid will still do it" \
        in failed[0], first.stdout
    assert "the next plan creates it, or adopts it" in failed[0]
    assert len([e for e in gitops.inventory().values() if "intent" in e]) == 1, "kept"
    plan = gitops.gridops("plan", "--detailed-exitcode")
    assert plan.exit_code == 2 and "Plan: 1 to create" in plan.stdout
    second = gitops.gridops("apply", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "Apply complete: 1 created" in second.stdout
    assert set(gitops.inventory()) == {"alpha", "beta"}


def _lose_alpha_and_its_read_back(gitops: GitOpsRepo) -> None:
    """alpha is made, its answer lost, and reading it back fails every time."""
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.commit("only alpha")
    gitops.sim.inject_faults(kind="reset", method="POST", after_commit=True)
    gitops.sim.set_fault_policy(FaultPolicy(rate=1.0, kinds=("5xx",), method="GET",
                                            target="/clusters/alpha"))
    first = gitops.gridops("apply", "--auto-approve")
    gitops.sim.set_fault_policy(FaultPolicy())
    assert first.exit_code == 1, first.output
    assert "reading it back failed too" in first.stdout


def test_a_pending_create_whose_read_back_failed_is_adopted_by_the_next_plan(
        gitops: GitOpsRepo) -> None:
    _lose_alpha_and_its_read_back(gitops)
    assert gitops.inventory()["alpha"]["intent"]["action"] == "create"
    gitops.wait_running("alpha")
    plan = gitops.gridops("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "  alpha: no-op (adopted: made by the create gridops started at" in plan.stdout
    assert "gridops import" not in plan.stdout
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    assert "intent" not in gitops.inventory()["alpha"]
    assert count_committed(gitops.sim.requests(), "POST") == {"alpha": 1}


def test_a_same_named_cluster_older_than_the_intent_stays_blocked_for_import(
        gitops: GitOpsRepo) -> None:
    _lose_alpha_and_its_read_back(gitops)
    gitops.gridops("status")  # a reader folds the journal into what it shows, not the file
    path = gitops.root / ".gridops" / "state.json"
    backend = LocalStateBackend(path)
    snapshot = backend.read()
    entry = snapshot.state.inventory["alpha"]
    assert entry.intent is not None
    later = replace(entry, intent=replace(entry.intent, at="2099-01-01T00:00:00Z"))
    backend.write(State(inventory={"alpha": later}, serial=snapshot.state.serial),
                  expected_version=snapshot.version)
    plan = gitops.gridops("plan", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "x alpha: blocked (exists in Grid but is not managed by gridops" in plan.stdout
    assert "before the create gridops started at 2099-01-01T00:00:00Z" in plan.stdout
    apply = gitops.gridops("apply", "--auto-approve")
    assert apply.exit_code == 1
    assert apply.stdout.rstrip().splitlines()[-1].startswith("  x alpha (clusters/team-a/")
    imported = gitops.gridops("import", "alpha")
    assert imported.exit_code == 0, imported.output


def test_apply_with_parallelism_creates_many_each_with_its_own_result(
        gitops: GitOpsRepo) -> None:
    for i in range(12):
        gitops.write(f"clusters/many/c{i:02d}.yaml", cluster_doc(f"c{i:02d}"))
    gitops.commit("a dozen more")
    gitops.sim.inject_faults(400, method="POST")  # exactly one refused
    result = gitops.gridops("apply", "--auto-approve", "--parallelism", "4")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines()
             if line.startswith(("+ ", "! ")) and (": created" in line or "failed" in line)]
    assert len(lines) == 14
    names = [line.split(":")[0][2:] for line in lines]
    assert names == sorted(names)  # in plan order, whatever order they finished in
    assert "0 changed, 0 deleted, 1 failed" in result.stdout
    assert len(gitops.inventory()) == 13


def test_a_lost_secret_only_update_is_not_confirmed_by_a_read_back_that_cannot_show_it(
        gitops: GitOpsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    gitops.wait_running("alpha", "beta")
    monkeypatch.setenv("GRID_EXTERNAL_ID_A", "ext-id-team-a-rotated-77a1")  # the secret only
    plan = gitops.gridops("plan")
    assert "alpha" in plan.stdout and "(sensitive value changed)" in plan.stdout, plan.stdout
    gitops.sim.inject_faults(502, 10, method="PUT", after_commit=True)  # every retry too

    result = gitops.gridops("apply", "--auto-approve")

    assert "confirmed by reading it back" not in result.stdout, result.stdout
    assert "Grid does not show the change; the next run tries again" in result.stdout
    assert result.exit_code == 1
