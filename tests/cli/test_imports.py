"""What a command loads: `validate`, `--help` and `--version` start neither AWS, deepdiff,
pydantic nor GitPython (whose import runs `git version`), and start no process. Checked in a
fresh interpreter through `sys.modules` and a recording `subprocess.Popen`, never by time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import SECRET_A, SECRET_B, GitOpsRepo

HEAVY = ("boto3", "botocore", "deepdiff", "pydantic", "git")

_CHILD = """
import json, subprocess, sys
started = []
real_init = subprocess.Popen.__init__
def recording_init(self, args, *rest, **kwargs):
    started.append(args if isinstance(args, str) else " ".join(map(str, args)))
    real_init(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = recording_init
from reconciler.cli import main
try:
    main(sys.argv[1:], prog_name="gridops")
except SystemExit as e:
    code = e.code
else:
    code = 0
from reconciler.lazy import is_loaded
print(json.dumps({"code": code, "started": started,
                  "ran": [m for m in ("reconciler.run", "structlog", "yaml") if is_loaded(m)],
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)}))
""".replace("HEAVY", repr(HEAVY))


def _loaded(args: list[str], cwd: Path) -> dict[str, object]:
    env = {**os.environ, "GRID_EXTERNAL_ID_A": SECRET_A, "GRID_EXTERNAL_ID_B": SECRET_B}
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("args", [["validate"], ["--help"], ["--version"], ["plan", "--help"]],
                         ids=["validate", "help", "version", "plan-help"])
def test_command_loads_no_heavy_library_and_starts_no_process(gitops: GitOpsRepo,
                                                              args: list[str]) -> None:
    report = _loaded(args, gitops.root / "clusters")

    assert report["code"] == 0, report
    assert report["modules"] == [], f"{args} imported {report['modules']}"
    assert report["started"] == [], f"{args} started {report['started']}"


@pytest.mark.parametrize("args", [["--help"], ["--version"]], ids=["help", "version"])
def test_help_and_version_run_neither_the_commands_code_nor_yaml_nor_logging(
        gitops: GitOpsRepo, args: list[str]) -> None:
    report = _loaded(args, gitops.root)

    assert report["code"] == 0, report
    assert report["ran"] == [], f"{args} ran {report['ran']}"


def test_plan_loads_git_when_it_needs_the_commit(gitops: GitOpsRepo) -> None:
    # The control: a command that reads git shows up in both records, so the checks above can
    # fail.
    report = _loaded(["--repo", str(gitops.root), "plan"], gitops.root)

    assert report["code"] in (0, 2), report
    assert "git" in report["modules"]
    assert report["ran"] == ["reconciler.run", "structlog", "yaml"]
    assert any("git" in command for command in report["started"])  # type: ignore[attr-defined]
