"""The workflows and the composite action, read as GitHub reads them: triggers, least
privilege per job, pinned actions, no untrusted text expanded in scripts, one apply at a time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = [WORKFLOWS / "plan.yml", WORKFLOWS / "apply.yml", WORKFLOWS / "reconcile.yml",
         ROOT / "action.yml"]
PATHS = ["clusters/**", "schemas/**", "gridops.yaml"]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return dict(data)


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    jobs = data.get("jobs", {}).values()
    return [s for job in jobs for s in job["steps"]] or data["runs"]["steps"]


def _all_steps(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    return _steps(data)


def test_plan_runs_on_pull_requests_touching_the_cluster_files() -> None:
    assert _load("plan.yml")["on"] == {"pull_request": {"paths": PATHS}}


def test_apply_runs_on_pushes_to_main_touching_the_cluster_files() -> None:
    on = _load("apply.yml")["on"]
    assert on == {"push": {"branches": ["main"], "paths": PATHS}}


def test_reconcile_runs_on_a_schedule_and_by_hand() -> None:
    on = _load("reconcile.yml")["on"]
    assert on["schedule"][0]["cron"] and "workflow_dispatch" in on


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_pull_request_target(path: Path) -> None:
    code = [line.split("#")[0] for line in path.read_text().splitlines()]
    assert not [line for line in code if "pull_request_target" in line]


@pytest.mark.parametrize(("workflow", "job", "expected"), [
    ("plan.yml", "plan", {"contents": "read", "pull-requests": "write", "id-token": "write"}),
    ("plan.yml", "plan-fork", {"contents": "read"}),
    ("apply.yml", "apply", {"contents": "read", "pull-requests": "write", "id-token": "write"}),
    ("reconcile.yml", "reconcile", {"contents": "read", "issues": "write", "id-token": "write"}),
], ids=["plan", "plan-fork", "apply", "reconcile"])
def test_each_job_has_least_privilege_permissions(workflow: str, job: str,
                                                  expected: dict[str, str]) -> None:
    data = _load(workflow)
    assert data["permissions"] == {}
    assert data["jobs"][job]["permissions"] == expected


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_version(path: Path) -> None:
    uses = [s["uses"] for s in _all_steps(path) if "uses" in s]
    assert uses and all(PINNED.match(u) for u in uses), uses
    for line in path.read_text().splitlines():
        if re.match(r"\s*(- )?uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_script(path: Path) -> None:
    scripts = [s["run"] for s in _all_steps(path) if "run" in s]
    assert scripts and not [s for s in scripts if "${{" in s]


def test_applies_never_run_at_the_same_time() -> None:
    apply_job = _load("apply.yml")["jobs"]["apply"]
    reconcile_job = _load("reconcile.yml")["jobs"]["reconcile"]
    for job in (apply_job, reconcile_job):
        assert job["concurrency"] == {"group": "gridops-apply", "cancel-in-progress": False}


def test_fork_pull_requests_get_a_read_only_job_without_secrets_or_comment() -> None:
    jobs = _load("plan.yml")["jobs"]
    same = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["plan"]["if"] == same
    assert jobs["plan-fork"]["if"] == same.replace("==", "!=")
    fork = yaml.safe_dump(jobs["plan-fork"])
    assert "secrets." not in fork and "GITHUB_TOKEN" not in fork and "--comment" not in fork
    assert "validate" in fork and "gridops plan" in fork


def test_checkout_never_keeps_the_token_in_git_config() -> None:
    for name in ("plan.yml", "apply.yml", "reconcile.yml"):
        checkouts = [s for s in _steps(_load(name)) if s.get("uses", "").startswith(
            "actions/checkout@")]
        assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


@pytest.mark.parametrize(("workflow", "job", "command"), [
    ("plan.yml", "plan", "gridops plan --comment --out plan.json"),
    ("apply.yml", "apply", "gridops apply --auto-approve --comment"),
    ("reconcile.yml", "reconcile", "gridops drift --issue"),
    ("reconcile.yml", "reconcile", "gridops apply --auto-approve --if-self-heal"),
], ids=["plan-comment", "apply-comment", "drift-issue", "self-heal"])
def test_jobs_run_the_gridops_commands(workflow: str, job: str, command: str) -> None:
    scripts = "\n".join(s.get("run", "") for s in _load(workflow)["jobs"][job]["steps"])
    assert command in scripts


def test_apply_jobs_refuse_other_branches() -> None:
    for name, job in (("apply.yml", "apply"), ("reconcile.yml", "reconcile")):
        assert _load(name)["jobs"][job]["if"] == (
            "github.ref_name == github.event.repository.default_branch")


def test_action_is_a_composite_that_installs_from_its_own_path() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"command", "args", "python-version", "working-directory"}
    install = action["runs"]["steps"][1]
    assert install["env"] == {"GRIDOPS_ACTION_PATH": "${{ github.action_path }}"}
    assert '"$GRIDOPS_ACTION_PATH"' in install["run"]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_secrets_are_given_only_to_the_steps_that_run_gridops(path: Path) -> None:
    for job in yaml.safe_load(path.read_text())["jobs"].values():
        assert "secrets." not in str(job.get("env", {})), f"{path.name}: job-level secrets"
        for step in job["steps"]:
            if "secrets." in str(step.get("env", {})):
                assert "gridops" in step.get("run", ""), step.get("name")
