"""plan and apply through the CLI on a real git repository and the emulator."""

from __future__ import annotations

import json
import time

import pytest

from tests.cli.conftest import SECRET_A, SECRET_B, GitOpsRepo, cluster_doc
from tests.sim_fixtures import byoc_spec


def _applied(g: GitOpsRepo) -> None:
    result = g.gridops("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    g.wait_running(*[n for n in ("alpha", "beta") if n in g.inventory()])


def test_plan_lists_creates_and_ends_with_the_summary_line(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("plan")
    assert result.exit_code == 0, result.output
    assert "+ alpha" in result.stdout and "+ beta" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == \
        "Plan: 2 to create, 0 to change, 0 to delete."
    assert "alpha" not in gitops.live()  # plan changes nothing


def test_detailed_exitcode_is_2_with_changes_and_0_without(gitops: GitOpsRepo) -> None:
    assert gitops.gridops("plan", "--detailed-exitcode").exit_code == 2
    _applied(gitops)
    assert gitops.gridops("plan", "--detailed-exitcode").exit_code == 0


def test_apply_creates_clusters_and_records_them_in_the_inventory(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Apply complete: 2 created, 0 changed, 0 deleted, 0 failed." in result.stdout
    live = gitops.live()
    assert live["alpha"].spec["driver"]["kubernetes"]["aws"]["externalId"] == SECRET_A
    assert live["beta"].spec["driver"]["kubernetes"]["aws"]["region"] == "us-west-2"
    inventory = gitops.inventory()
    assert set(inventory) == {"alpha", "beta"}
    assert inventory["beta"]["deletionProtection"] is True


def test_applying_twice_changes_nothing_the_second_time(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    before = {n: dict(c.spec) for n, c in gitops.live().items()}
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Plan: 0 to create, 0 to change, 0 to delete." in result.stdout
    assert {n: dict(c.spec) for n, c in gitops.live().items()} == before


def test_edit_shows_field_level_changes_and_apply_keeps_server_fields(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    user_id = gitops.live()["alpha"].spec.get("userId")
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc(
        "alpha", profile="cost-saving",
        instance_types=["t3.large", {"name": "g4dn.xlarge", "overprovisionedOnDemand": 2}]))
    gitops.commit("alpha: cost saving, add g4dn")
    plan = gitops.gridops("plan")
    assert plan.exit_code == 0, plan.output
    assert "~ alpha" in plan.stdout
    assert "spec.performanceProfile: default -> cost-saving" in plan.stdout
    assert "g4dn.xlarge" in plan.stdout
    assert "Plan: 0 to create, 1 to change, 0 to delete." in plan.stdout
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    spec = gitops.live()["alpha"].spec
    assert spec["performanceProfile"] == "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    assert [i["name"] for i in spec["driver"]["kubernetes"]["aws"]["instanceTypes"]] == [
        "t3.large", "g4dn.xlarge"]
    assert spec.get("userId") == user_id
    assert "Plan: 0 to create, 0 to change" in gitops.gridops("plan").stdout


def test_drift_made_in_grid_is_planned_back_to_git(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    live = gitops.grid.get_cluster("alpha")
    spec = json.loads(json.dumps(live.spec))
    spec["driver"]["kubernetes"]["aws"]["instanceTypes"] = [{"name": "m5.large"}]
    gitops.grid.update_cluster(live.id, "alpha", spec)
    result = gitops.gridops("drift")
    assert result.exit_code == 2
    assert "~ alpha" in result.stdout and "m5.large" in result.stdout


def test_removing_a_protected_cluster_is_blocked_until_protection_is_merged_off(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.commit("remove beta")
    plan = gitops.gridops("plan")
    assert "deletionProtection: false" in plan.stdout
    assert "0 to delete" in plan.stdout
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    assert gitops.live()["beta"].desired_state != "CLUSTER_STATE_DELETED"
    # the documented way: merge protection off first, apply, then remove
    gitops.repo.git.revert("HEAD", no_edit=True)
    gitops.write("clusters/team-b/beta.yaml", cluster_doc(
        "beta", region="us-west-2", env_var="GRID_EXTERNAL_ID_B", protection=False,
        instance_types=["m5.xlarge", {"name": "g4dn.xlarge", "overprovisionedOnDemand": 1}]))
    gitops.commit("beta: protection off")
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.commit("remove beta")
    assert "1 to delete" in gitops.gridops("plan").stdout


def test_more_deletes_than_max_deletes_fail_the_plan(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-b/beta.yaml", cluster_doc(
        "beta", region="us-west-2", env_var="GRID_EXTERNAL_ID_B"))
    gitops.commit("beta unprotected")
    _applied(gitops)
    gitops.write("clusters/team-c/gamma.yaml", cluster_doc("gamma"))
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.commit("remove two")
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "maxDeletes" in result.stderr
    assert "gamma" not in gitops.live()  # nothing at all was changed


def test_an_empty_desired_set_never_prunes_without_allow_empty(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.write("clusters/.keep", "")
    gitops.commit("empty")
    result = gitops.gridops("plan")
    assert result.exit_code == 1
    assert "--allow-empty" in result.stderr


def test_apply_refuses_uncommitted_cluster_files(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", profile="cost-saving"))
    plan = gitops.gridops("plan")
    assert plan.exit_code == 0 and "uncommitted" in plan.stdout
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "uncommitted" in result.stderr and "clusters/team-a/alpha.yaml" in result.stderr
    assert gitops.live().get("alpha") is None


def test_apply_without_a_terminal_and_without_auto_approve_refuses(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert "alpha" not in gitops.live()


def test_a_saved_plan_is_applied_exactly_and_refused_when_stale(
        gitops: GitOpsRepo, tmp_path: pytest.TempPathFactory) -> None:
    plan_file = gitops.root / ".gridops" / "plan.json"
    plan_file.parent.mkdir(exist_ok=True)
    assert gitops.gridops("plan", "--out", str(plan_file)).exit_code == 0
    saved = json.loads(plan_file.read_text())
    assert saved["gitSha"] == gitops.repo.head.commit.hexsha and saved["liveFingerprint"]
    assert SECRET_A not in plan_file.read_text()
    # live state changes behind the plan's back: refused
    gitops.grid.create_cluster("outsider", byoc_spec())
    stale = gitops.gridops("apply", str(plan_file))
    assert stale.exit_code == 1 and "changed since the plan was made" in stale.stderr
    # a fresh plan applies exactly
    assert gitops.gridops("plan", "--out", str(plan_file)).exit_code == 0
    result = gitops.gridops("apply", str(plan_file))
    assert result.exit_code == 0, result.output
    assert {"alpha", "beta"} <= set(gitops.live())
    # a new commit makes it stale again
    gitops.write("clusters/team-c/gamma.yaml", cluster_doc("gamma"))
    gitops.commit("gamma")
    again = gitops.gridops("apply", str(plan_file))
    assert again.exit_code == 1 and "commit" in again.stderr


def test_an_unmanaged_live_cluster_is_not_created_but_can_be_imported(
        gitops: GitOpsRepo) -> None:
    gitops.grid.create_cluster("alpha", byoc_spec())
    plan = gitops.gridops("plan")
    assert "gridops import alpha" in plan.stdout
    assert "Plan: 1 to create" in plan.stdout  # beta only
    result = gitops.gridops("import", "alpha")
    assert result.exit_code == 0, result.output
    assert gitops.inventory()["alpha"]["ownership"] == "imported"
    gitops.wait_running("alpha")
    assert "~ alpha" in gitops.gridops("plan").stdout


def test_unmanaged_and_global_clusters_are_listed_but_never_touched(gitops: GitOpsRepo) -> None:
    gitops.grid.create_cluster("someone-elses", byoc_spec())
    _applied(gitops)
    status = gitops.gridops("status")
    assert status.exit_code == 0, status.output
    lines = {line.split()[0]: line for line in status.stdout.splitlines()[1:] if line}
    assert "unmanaged" in lines["someone-elses"] and "GLOBAL" in lines["grid-cloud-prod"]
    assert "managed" in lines["alpha"]
    assert gitops.live()["grid-cloud-prod"].desired_state != "CLUSTER_STATE_DELETED"
    assert gitops.live()["someone-elses"].desired_state != "CLUSTER_STATE_DELETED"


def test_a_failed_cluster_is_reported_with_its_reason(gitops: GitOpsRepo) -> None:
    gitops.sim.fail_cluster("alpha", "quota exceeded: VPCs per region")
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    time.sleep(0.4)
    result = gitops.gridops("plan")
    assert "alpha" in result.stdout and "quota exceeded: VPCs per region" in result.stdout


def test_a_missing_secret_names_cluster_and_variable_and_changes_nothing(
        gitops: GitOpsRepo) -> None:
    result = gitops.gridops("apply", "--auto-approve", env={"GRID_EXTERNAL_ID_B": ""})
    assert result.exit_code == 1
    assert "beta" in result.stderr and "GRID_EXTERNAL_ID_B" in result.stderr
    assert "Traceback" not in result.output
    assert not {"alpha", "beta"} & set(gitops.live())


def test_clusters_stopped_by_the_same_secret_share_one_line_that_counts_them(
        gitops: GitOpsRepo) -> None:
    for name in ("gamma", "delta", "epsilon", "zeta"):
        gitops.write(f"clusters/{name}.yaml", cluster_doc(name, env_var="GRID_EXTERNAL_ID_C"))
    gitops.commit("four clusters on one secret")
    result = gitops.gridops("plan", env={"GRID_EXTERNAL_ID_B": "", "GRID_EXTERNAL_ID_C": ""})

    assert result.exit_code == 1
    problems = result.stderr.splitlines()[0].removeprefix("error: ").split("; ")
    assert problems == [
        "cluster beta: cannot resolve fromEnv(name=GRID_EXTERNAL_ID_B): environment variable "
        "GRID_EXTERNAL_ID_B is not set (export GRID_EXTERNAL_ID_B=... (or set it as a CI "
        "secret))",
        "4 clusters (delta, epsilon, gamma and 1 more): cannot resolve "
        "fromEnv(name=GRID_EXTERNAL_ID_C): environment variable GRID_EXTERNAL_ID_C is not set "
        "(export GRID_EXTERNAL_ID_C=... (or set it as a CI secret))",
    ]


def test_secret_values_never_appear_in_any_output(gitops: GitOpsRepo) -> None:
    outputs = [gitops.gridops("-vv", "apply", "--auto-approve")]
    gitops.wait_running("alpha", "beta")
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", env_var="GRID_EXTERNAL_ID_B"))
    gitops.commit("alpha: rotate external id")
    outputs += [gitops.gridops("-vv", "plan"), gitops.gridops("plan", "--json"),
                gitops.gridops("-vv", "--log-format", "json", "apply", "--auto-approve")]
    text = "".join(r.output for r in outputs)
    assert "(sensitive value changed)" in outputs[1].stdout
    assert SECRET_A not in text and SECRET_B not in text


def test_wait_gives_up_after_the_timeout_with_a_non_zero_exit(gitops: GitOpsRepo) -> None:
    gitops.sim.fail_cluster("alpha", "boom")
    result = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                            "--timeout", "5")
    assert result.exit_code == 1
    assert "alpha" in result.stderr


def test_a_create_shows_every_field_it_sets_and_hides_the_secret(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("plan")
    assert "spec.region: us-west-2" in result.stdout
    assert "spec.instanceTypes[g4dn.xlarge]: {overprovisionedOnDemand: 1}" in result.stdout
    assert "spec.externalId: (sensitive value)" in result.stdout
    assert SECRET_A not in result.stdout and SECRET_B not in result.stdout


def test_what_apply_loaded_is_frozen_while_its_grid_calls_run_and_thawed_after(
        gitops: GitOpsRepo) -> None:
    # the collector's first pass over the loaded documents and the plan otherwise fell in the
    # middle of the creates, stalling every call in flight
    import gc

    frozen_at: dict[str, int] = {}

    def heard(line: str) -> None:  # the emulator runs in this process, as gridops does here
        method, path = line.split()[1:3]
        frozen_at.setdefault(f"{method} {path.partition('?')[0]}", gc.get_freeze_count())

    before = gc.get_freeze_count()
    gitops.sim.app.faults.log.echo = heard
    try:
        result = gitops.gridops("apply", "--auto-approve")
    finally:
        gitops.sim.app.faults.log.echo = None
    assert result.exit_code == 0, result.output
    listed, created = frozen_at["GET /v1/core/clusters"], frozen_at["POST /v1/core/clusters"]
    assert created > listed  # frozen again after the list, once everything was planned
    assert gc.get_freeze_count() == before
