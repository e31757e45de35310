"""Through the CLI against the emulator whose SQLite store holds what a real Grid may answer:
int64 fields as strings, enum values gridops does not know, fields it does not model."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from tests.cli.conftest import GitOpsRepo, cluster_doc


def _applied(g: GitOpsRepo) -> None:
    result = g.gridops("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if all(c.phase == "CLUSTER_STATE_RUNNING" for n, c in g.live().items()
               if n in ("alpha", "beta")):
            return
        time.sleep(0.05)
    raise AssertionError("clusters not RUNNING")


def _stored_spec(g: GitOpsRepo, name: str) -> dict[str, Any]:
    with sqlite3.connect(g.sim.db_path) as db:
        (text,) = db.execute("SELECT spec FROM clusters WHERE name = ?", (name,)).fetchone()
    spec: dict[str, Any] = json.loads(text)
    return spec


def _edit_stored_spec(g: GitOpsRepo, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change a stored cluster behind the API's back, as a newer Grid could answer it."""
    spec = _stored_spec(g, name)
    edit(spec)
    with sqlite3.connect(g.sim.db_path) as db:
        db.execute("UPDATE clusters SET spec = ? WHERE name = ?", (json.dumps(spec), name))


def _aws(spec: dict[str, Any]) -> dict[str, Any]:
    aws: dict[str, Any] = spec["driver"]["kubernetes"]["aws"]
    return aws


def _turbo(spec: dict[str, Any]) -> None:
    spec["performanceProfile"] = "CLUSTER_PERFORMANCE_PROFILE_TURBO"


def test_a_cluster_with_an_unknown_profile_is_shown_and_untouched_while_others_apply(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    _edit_stored_spec(gitops, "alpha", _turbo)
    before = _stored_spec(gitops, "alpha")
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", region="eu-west-1"))
    gitops.write("clusters/team-b/beta.yaml", cluster_doc(
        "beta", region="us-west-2", env_var="GRID_EXTERNAL_ID_B", protection=True,
        instance_types=["m5.xlarge", {"name": "g4dn.xlarge", "overprovisionedOnDemand": 2}]))
    gitops.commit("edit both")

    plan = gitops.gridops("plan")
    assert plan.exit_code == 0, plan.output
    assert ("? alpha: unknown (Grid reports spec.performanceProfile "
            "'CLUSTER_PERFORMANCE_PROFILE_TURBO', which this gridops does not know") in plan.stdout
    assert "~ beta: update" in plan.stdout
    assert "Plan: 0 to create, 1 to change, 0 to delete; 1 unknown." in plan.stdout

    applied = gitops.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 0 created, 1 changed, 0 deleted, 0 failed; 1 unknown." \
        in applied.stdout
    assert _stored_spec(gitops, "alpha") == before  # never touched
    assert _aws(_stored_spec(gitops, "beta"))["instanceTypes"][1][
        "overprovisionedOndemandCount"] == 2

    status = gitops.gridops("status")
    assert status.exit_code == 0, status.output
    (row,) = [line for line in status.stdout.splitlines() if line.startswith("alpha ")]
    assert "which this gridops does not know" in row
    assert gitops.gridops("drift").exit_code == 2  # someone has to look at it


def test_an_owned_cluster_of_an_unknown_type_is_not_deleted_when_it_leaves_git(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    _edit_stored_spec(gitops, "alpha", lambda s: s.update(clusterType="CLUSTER_TYPE_HYBRID"))
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.commit("drop alpha")
    applied = gitops.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "? alpha: unknown (Grid reports spec.clusterType 'CLUSTER_TYPE_HYBRID'" \
        in applied.stdout
    assert "Plan: 0 to create, 0 to change, 0 to delete; 1 unknown." in applied.stdout
    assert gitops.live()["alpha"].desired_state == "CLUSTER_STATE_RUNNING"
    assert "alpha" in gitops.inventory()


def test_numbers_grid_writes_as_strings_compare_equal_to_the_document(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)

    def as_strings(spec: dict[str, Any]) -> None:
        for item in _aws(spec)["instanceTypes"]:
            item["overprovisionedOndemandCount"] = str(item.get("overprovisionedOndemandCount", 0))
            item["rootVolumeSize"] = "100"
        _aws(spec)["xMultiAzCount"] = "2"

    _edit_stored_spec(gitops, "beta", as_strings)
    plan = gitops.gridops("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes. Live clusters match git." in plan.stdout


def test_a_number_that_is_not_one_fails_the_plan_naming_cluster_and_field(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    _edit_stored_spec(gitops, "beta", lambda s: _aws(s)["instanceTypes"][1].update(
        overprovisionedOndemandCount="lots"))
    plan = gitops.gridops("plan")
    assert plan.exit_code == 1
    assert ("error: Grid answered 'spec.driver.kubernetes.aws.instanceTypes[1]."
            "overprovisionedOndemandCount' as a string ('lots'), not a whole number") in plan.stderr
    assert "cluster 'beta')" in plan.stderr
    assert "Traceback" not in plan.output


def test_fields_gridops_does_not_model_survive_the_put_of_an_update(gitops: GitOpsRepo) -> None:
    _applied(gitops)

    def unmodelled(spec: dict[str, Any]) -> None:
        spec["pauseAutomation"] = True
        spec["driver"]["kubernetes"].update(namespace="grid", extraGridletEnvVar={"A": "1"})
        _aws(spec).update(xMultiAzCount="2", bucketName="team-bucket")

    _edit_stored_spec(gitops, "alpha", unmodelled)
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", profile="cost-saving"))
    gitops.commit("alpha: cost-saving")
    applied = gitops.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    spec = _stored_spec(gitops, "alpha")
    assert spec["performanceProfile"] == "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    assert spec["pauseAutomation"] is True
    assert (spec["driver"]["kubernetes"]["namespace"],
            spec["driver"]["kubernetes"]["extraGridletEnvVar"]) == ("grid", {"A": "1"})
    assert (_aws(spec)["xMultiAzCount"], _aws(spec)["bucketName"]) == (2, "team-bucket")


# --- --wait and a status that flips from FAILED back to RUNNING ----------------------------

def _wait(g: GitOpsRepo, *options: str) -> Any:
    return g.gridops("apply", "--auto-approve", "--wait", "--interval", "0.1", "--timeout", "10",
                     *options)


#: An in-process emulator whose new clusters answer FAILED to their first two polls once they
#: would be RUNNING, then RUNNING (Grid retrying a step): counted in polls, not seconds.
RETRYING_GRID = "sim://.gridops/retrying.db?createSeconds=0.2&failedPolls=2"


def test_wait_reports_failed_at_once_and_keeps_watching_until_it_is_running(
        gitops: GitOpsRepo) -> None:
    result = gitops.gridops("--grid-url", RETRYING_GRID, "apply", "--auto-approve", "--wait",
                            "--interval", "0.1", "--timeout", "30")  # the default grace: 3
    assert result.exit_code == 0, result.output
    assert "alpha: FAILED" in result.stderr
    assert "watching 3 more poll(s) in case Grid retries it" in result.stderr
    assert "alpha: RUNNING" in result.stdout and "beta: RUNNING" in result.stdout
    assert result.stderr.index("alpha: FAILED") < result.stderr.index("alpha: RUNNING")


def test_wait_with_a_shorter_grace_gives_up_while_grid_still_retries(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("--grid-url", RETRYING_GRID, "apply", "--auto-approve", "--wait",
                            "--interval", "0.1", "--timeout", "30", "--failed-grace", "1")
    assert result.exit_code == 1
    assert "alpha: FAILED" in result.stdout
    assert "not settled or failed:" in result.stderr and "alpha" in result.stderr


def test_wait_gives_up_on_a_cluster_still_failed_after_the_grace(gitops: GitOpsRepo) -> None:
    gitops.sim.fail_cluster("alpha", "quota exceeded")
    result = _wait(gitops)  # the default grace: 3 polls
    assert result.exit_code == 1
    assert "watching 3 more poll(s)" in result.stderr
    assert "alpha: FAILED" in result.stdout and "beta: RUNNING" in result.stdout
    listed = [r for r in gitops.sim.requests()
              if r.method == "GET" and r.path == "/v1/core/clusters"]
    assert len(listed) >= 4  # the first FAILED and three more polls
