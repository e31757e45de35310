"""The workflows and the composite action, read as GitHub reads them: triggers, least
privilege per job, pinned actions, no untrusted text expanded in scripts, one apply at a time."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
    ("plan.yml", "plan", {"contents": "read", "pull-requests": "write", "id-token": "write",
                          "security-events": "write", "actions": "read"}),
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


def test_apply_and_reconcile_have_their_own_concurrency_groups() -> None:
    # GitHub keeps one pending run per group and cancels the older pending one: a shared group
    # would let a pending reconcile run silently drop a merge's pending apply.
    apply_job = _load("apply.yml")["jobs"]["apply"]
    reconcile_job = _load("reconcile.yml")["jobs"]["reconcile"]
    assert apply_job["concurrency"] == {"group": "gridops-apply", "cancel-in-progress": False}
    assert reconcile_job["concurrency"] == {"group": "gridops-reconcile",
                                            "cancel-in-progress": False}


def _apply_commands() -> list[str]:
    scripts = [s.get("run", "") for name in ("apply.yml", "reconcile.yml")
               for s in _steps(_load(name))]
    return [line.strip() for script in scripts for line in script.splitlines()
            if line.strip().startswith("gridops apply")]


def test_applies_never_run_at_the_same_time() -> None:
    # The two workflows are in different concurrency groups, so an apply.yml run and a
    # reconcile.yml run can be in progress together. What keeps their applies apart is
    # gridops' state lock: every apply takes it, and waits up to --lock-wait seconds for the
    # other to let go instead of failing at once.
    commands = _apply_commands()
    assert len(commands) == 2
    assert all("--lock-wait 1800" in c for c in commands), commands


def test_apply_on_merge_never_applies_a_commit_that_is_no_longer_the_tip() -> None:
    assert [c for c in _apply_commands() if "--comment" in c] == [
        "gridops apply --auto-approve --comment --lock-wait 1800 --only-if-latest"]


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
    ("reconcile.yml", "reconcile", "gridops drift --issue --out plan.json"),
    ("reconcile.yml", "reconcile",
     "gridops apply --auto-approve --if-self-heal --lock-wait 1800 --only-if-latest"),
], ids=["plan-comment", "apply-comment", "drift-issue", "self-heal"])
def test_jobs_run_the_gridops_commands(workflow: str, job: str, command: str) -> None:
    scripts = "\n".join(s.get("run", "") for s in _load(workflow)["jobs"][job]["steps"])
    assert command in scripts


class _Null:
    """A missing property in a GitHub expression: null, which format() writes as ''."""

    def __getattr__(self, name: str) -> _Null:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Null)

    def __hash__(self) -> int:
        return 0

    def __format__(self, spec: str) -> str:
        return ""


class _Context:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        value = self._data.get(name, _Null())
        return _Context(value) if isinstance(value, dict) else value


def _evaluate(expression: str, github: dict[str, Any]) -> bool:
    """A job's ``if:`` for the subset these workflows use: property access (a missing one is
    null), string literals, ``==``, ``||``, ``&&`` and ``format()``."""
    assert not re.search(r"!(?!=)", expression), "negation is not supported here"
    python = expression.replace("||", " or ").replace("&&", " and ")
    namespace = {"github": _Context(github), "format": lambda f, *a: f.format(*a)}
    return bool(eval(python, {"__builtins__": {}}, namespace))  # the workflows' own text


_REPO = {"default_branch": "main"}
_EVENTS = {
    # A schedule event's payload has no `repository`; scheduled runs use the default branch.
    "schedule": {"event_name": "schedule", "ref": "refs/heads/main", "event": {}},
    "dispatch-on-main": {"event_name": "workflow_dispatch", "ref": "refs/heads/main",
                         "event": {"repository": _REPO}},
    "dispatch-on-other-branch": {"event_name": "workflow_dispatch", "ref": "refs/heads/wip",
                                 "event": {"repository": _REPO}},
    "push-to-main": {"event_name": "push", "ref": "refs/heads/main",
                     "event": {"repository": _REPO}},
    "push-of-a-tag-named-main": {"event_name": "push", "ref": "refs/tags/main",
                                 "event": {"repository": _REPO}},
}


@pytest.mark.parametrize(("workflow", "job", "event", "runs"), [
    ("reconcile.yml", "reconcile", "schedule", True),
    ("reconcile.yml", "reconcile", "dispatch-on-main", True),
    ("reconcile.yml", "reconcile", "dispatch-on-other-branch", False),
    ("apply.yml", "apply", "push-to-main", True),
    ("apply.yml", "apply", "push-of-a-tag-named-main", False),
], ids=["reconcile-schedule", "reconcile-dispatch-main", "reconcile-dispatch-other",
        "apply-push-main", "apply-tag-main"])
def test_apply_jobs_run_on_the_default_branch_only(workflow: str, job: str, event: str,
                                                   runs: bool) -> None:
    assert _evaluate(_load(workflow)["jobs"][job]["if"], _EVENTS[event]) is runs


def test_the_expression_reader_sees_why_the_old_reconcile_condition_never_ran() -> None:
    old = "github.ref_name == github.event.repository.default_branch"
    schedule = {**_EVENTS["schedule"], "ref_name": "main"}
    assert _evaluate(old, schedule) is False


def test_action_is_a_composite_that_installs_from_its_own_path() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"command", "args", "on-drift", "python-version",
                                     "working-directory", "grid-url"}
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install gridops")
    assert install["env"] == {"GRIDOPS_ACTION_PATH": "${{ github.action_path }}"}
    assert '"$GRIDOPS_ACTION_PATH"' in install["run"]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_secrets_are_given_only_to_the_steps_that_run_gridops(path: Path) -> None:
    for job in yaml.safe_load(path.read_text())["jobs"].values():
        assert "secrets." not in str(job.get("env", {})), f"{path.name}: job-level secrets"
        for step in job["steps"]:
            if "secrets." in str(step.get("env", {})):
                assert "gridops" in step.get("run", ""), step.get("name")


@pytest.mark.parametrize("job", ["plan", "plan-fork"])
def test_plan_jobs_install_gridops_from_the_base_checkout_not_the_pull_request(
        job: str) -> None:
    steps = _load("plan.yml")["jobs"][job]["steps"]
    checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 2 and checkouts[0]["uses"] == checkouts[1]["uses"]
    assert checkouts[1]["with"] == {"ref": "${{ github.event.pull_request.base.sha }}",
                                    "path": ".gridops-tool", "persist-credentials": False}
    installs = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert installs == ["python -m pip install ./.gridops-tool"]
    runs = [i for i, s in enumerate(steps) if "gridops " in s.get("run", "")]
    assert steps.index(checkouts[1]) < min(runs)


def test_reconcile_keeps_the_drift_plan_as_the_artifact_the_issue_points_at() -> None:
    steps = _load("reconcile.yml")["jobs"]["reconcile"]["steps"]
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    plan_upload = next(s for s in _load("plan.yml")["jobs"]["plan"]["steps"]
                       if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert len(upload) == 1 and upload[0]["uses"] == plan_upload["uses"]
    assert upload[0]["if"] == "${{ !cancelled() }}"
    assert upload[0]["with"]["name"] == "gridops-plan"
    assert upload[0]["with"]["path"] == "plan.json"
    assert upload[0]["with"]["if-no-files-found"] == "ignore"


def test_plans_assume_only_the_read_only_plan_role() -> None:
    steps = _load("plan.yml")["jobs"]["plan"]["steps"]
    roles = [s for s in steps if s.get("uses", "").startswith("aws-actions/")]
    assert len(roles) == 1
    assert roles[0]["if"] == "vars.GRIDOPS_AWS_PLAN_ROLE_ARN != ''"
    assert roles[0]["with"]["role-to-assume"] == "${{ vars.GRIDOPS_AWS_PLAN_ROLE_ARN }}"
    assert "GRIDOPS_AWS_ROLE_ARN" not in (WORKFLOWS / "plan.yml").read_text()


@pytest.mark.parametrize(("workflow", "job", "environment"), [
    ("plan.yml", "plan", "grid-plan"),
    ("apply.yml", "apply", "grid-production"),
    ("reconcile.yml", "reconcile", "grid-production"),
], ids=["plan", "apply", "reconcile"])
def test_jobs_with_grid_secrets_take_them_from_an_environment(workflow: str, job: str,
                                                              environment: str) -> None:
    data = _load(workflow)["jobs"][job]
    assert "secrets." in yaml.safe_dump(data)
    assert data["environment"] == environment


def test_every_job_that_reads_a_secret_has_an_environment() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            if "secrets." in yaml.safe_dump(job):
                assert job.get("environment"), f"{path.name}: {name}"


def test_the_fork_job_has_no_environment_and_uploads_nothing_to_code_scanning() -> None:
    fork = _load("plan.yml")["jobs"]["plan-fork"]
    assert "environment" not in fork
    assert not [s for s in fork["steps"] if "upload-sarif" in s.get("uses", "")]


def test_plan_uploads_the_validation_findings_as_sarif() -> None:
    steps = _load("plan.yml")["jobs"]["plan"]["steps"]
    sarif = next(s for s in steps if "--format sarif" in s.get("run", ""))
    upload = next(s for s in steps if s.get("uses", "").startswith(
        "github/codeql-action/upload-sarif@"))
    assert sarif["run"].startswith("gridops validate --format sarif > gridops.sarif")
    assert upload["with"]["sarif_file"] == "gridops.sarif"
    assert steps.index(sarif) < steps.index(upload)
    assert "!cancelled()" in upload["if"] and "!cancelled()" in sarif["if"]


def test_zizmor_auditor_finds_nothing(tmp_path: Path) -> None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    zizmor = shutil.which("zizmor", path=search)
    if zizmor is None:
        pytest.skip("zizmor is not installed (it is in the test extra)")
    done = subprocess.run([zizmor, "--offline", "--persona", "auditor", "--no-progress",
                           ".github/workflows", "action.yml"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout + done.stderr

