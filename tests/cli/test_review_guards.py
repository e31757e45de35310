"""What is applied is what is in git, a plan file can never do more than gridops plans, and
read-only reports never fail on guards meant for apply."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.cli.conftest import GitOpsRepo, cluster_doc
from tests.cli.test_plan_apply import _applied


def test_a_plan_made_from_uncommitted_files_is_refused_after_a_stash(gitops: GitOpsRepo,
                                                                     tmp_path: Path) -> None:
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", profile="cost-saving"))
    plan_file = tmp_path / "p.json"
    assert gitops.gridops("plan", "--out", str(plan_file)).exit_code == 0
    gitops.repo.git.stash()
    result = gitops.gridops("apply", str(plan_file))
    assert result.exit_code == 1
    assert "not what is committed" in result.stderr
    assert "alpha" not in gitops.live()


def test_an_ignored_cluster_file_is_never_applied(gitops: GitOpsRepo) -> None:
    (gitops.root / ".git" / "info" / "exclude").write_text("clusters/sneaky.yaml\n")
    gitops.write("clusters/sneaky.yaml", cluster_doc("sneaky"))
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "clusters/sneaky.yaml" in result.stderr
    assert "sneaky" not in gitops.live()


def test_an_uncommitted_settings_change_is_never_applied(gitops: GitOpsRepo) -> None:
    gitops.write("gridops.yaml", (gitops.root / "gridops.yaml").read_text()
                 .replace("prune: true", "prune: false"))
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 1 and "gridops.yaml" in result.stderr


def test_apply_outside_git_is_refused(gitops: GitOpsRepo, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(gitops.root, plain, ignore=shutil.ignore_patterns(".git"))
    result = gitops.gridops("--repo", str(plain), "apply", "--auto-approve")
    assert result.exit_code == 1 and "not a git repository" in result.stderr
    assert "alpha" not in gitops.live()


@pytest.mark.parametrize("edit", ["add-delete-of-global", "drop-a-change", "retarget"],
                         ids=str)
def test_an_edited_plan_file_is_refused_and_changes_nothing(gitops: GitOpsRepo,
                                                            tmp_path: Path, edit: str) -> None:
    plan_file = tmp_path / "p.json"
    assert gitops.gridops("plan", "--out", str(plan_file)).exit_code == 0
    data = json.loads(plan_file.read_text())
    if edit == "add-delete-of-global":
        data["changes"].append({"name": "grid-cloud-prod", "action": "delete"})
    elif edit == "drop-a-change":
        data["changes"] = data["changes"][:1]
    else:
        data["changes"][0]["spec"]["driver"]["kubernetes"]["aws"]["region"] = "eu-west-1"
    plan_file.write_text(json.dumps(data))
    result = gitops.gridops("apply", str(plan_file))
    assert result.exit_code == 1, result.output
    assert "does not match what gridops plans now" in result.stderr
    assert not {"alpha", "beta"} & set(gitops.live())
    assert gitops.live()["grid-cloud-prod"].desired_state != "CLUSTER_STATE_DELETED"


@pytest.mark.parametrize("content", ["[1, 2]", "not json", '{"formatVersion": 99}'],
                         ids=["list", "text", "future"])
def test_a_plan_file_that_is_not_a_plan_is_a_clear_error(gitops: GitOpsRepo, tmp_path: Path,
                                                         content: str) -> None:
    plan_file = tmp_path / "p.json"
    plan_file.write_text(content)
    result = gitops.gridops("apply", str(plan_file))
    assert result.exit_code == 1
    assert "plan" in result.stderr and "internal error" not in result.stderr


def test_plan_out_into_a_missing_folder_fails_before_anything_else(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("plan", "--out", "/nonexistent-folder/p.json")
    assert result.exit_code == 1 and "folder does not exist" in result.stderr


def test_status_and_drift_report_a_plan_the_delete_guard_would_refuse(gitops: GitOpsRepo
                                                                     ) -> None:
    gitops.write("clusters/team-b/beta.yaml", cluster_doc("beta", env_var="GRID_EXTERNAL_ID_B"))
    gitops.commit("beta unprotected")
    _applied(gitops)
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.remove("clusters/team-b/beta.yaml")
    gitops.write("clusters/team-c/gamma.yaml", cluster_doc("gamma"))
    gitops.commit("two deletes")
    assert gitops.gridops("plan").exit_code == 1  # refused where it matters
    assert gitops.gridops("status").exit_code == 0
    drift = gitops.gridops("drift")
    assert drift.exit_code == 2 and "- alpha" in drift.stdout


def test_a_failed_cluster_differs_from_git_in_plan_drift_and_apply(gitops: GitOpsRepo) -> None:
    gitops.sim.fail_cluster("alpha", "quota exceeded")
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    time.sleep(0.4)
    plan = gitops.gridops("plan", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "differ from git" in plan.stdout and "match git" not in plan.stdout
    assert plan.stdout.rstrip().endswith("; 1 failed.")
    assert gitops.gridops("drift").exit_code == 2
    apply = gitops.gridops("apply", "--auto-approve")
    assert apply.exit_code == 1
    last = apply.stdout.rstrip().splitlines()[-2:]
    assert last[0] == "Not in sync with git: 1 cluster(s) blocked or failed:"
    assert last[1].startswith("  ! alpha (clusters/team-a/alpha.yaml:")
    assert "FAILED in Grid: quota exceeded; fix the cause" in last[1]


def test_a_document_named_like_the_global_cluster_is_a_finding(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-c/prod.yaml", cluster_doc("grid-cloud-prod"))
    gitops.commit("oops")
    for command in ("validate", "plan"):
        result = gitops.gridops(command)
        assert result.exit_code == 1
        assert "clusters/team-c/prod.yaml:4:9: 'grid-cloud-prod' is Grid's shared GLOBAL " \
               "cluster" in result.output
    assert gitops.sim.requests() == [] or all(r.method == "GET" for r in gitops.sim.requests())


@pytest.mark.parametrize(("args", "message"), [
    (("validate", "clusters/nope"), "does not exist"),
    (("--settings", "typo.yaml", "plan"), "typo.yaml"),
    (("--grid-url", "sim://clusters", "plan"), "is a folder"),
    (("--grid-url", "sim:///nonexistent-top/dir/sim.db", "plan"), "does not exist"),
], ids=["validate-path", "settings-file", "sim-folder", "sim-missing-folder"])
def test_a_mistyped_path_is_a_clear_error(gitops: GitOpsRepo, args: tuple[str, ...],
                                          message: str) -> None:
    result = gitops.gridops(*args, env={"GRID_URL": ""})
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "internal error" not in result.stderr
    assert not Path("/nonexistent-top").exists()
