"""What a command loads: `validate`, `--help` and `--version` start neither AWS, deepdiff,
pydantic nor GitPython (whose import runs `git version`), and start no process; the executable
answers `--version`, and `--help` at a stored width, without click; the group's `--version`
loads click and the group alone, its `--help` (the executable's at any other width) the command
definitions and nothing they only use when they run; a plan or an apply at the default level
writes no log line and loads no structlog (-vv does, and masks every line). Checked in a fresh
interpreter through `sys.modules` and a recording `subprocess.Popen`, never by time."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import SECRET_A, SECRET_B, GitOpsRepo, cluster_doc

HEAVY = ("boto3", "botocore", "deepdiff", "pydantic", "git")
#: What `--version` may load beyond click: the ``gridops`` group and its package.
GROUP = {"reconciler", "reconciler.cli", "reconciler.cli.group"}
#: All the executable's `--help` may load at a stored width: its entry and the stored text.
STORED_HELP = {"reconciler", "reconciler.cli", "reconciler.cli.entry",
               "reconciler.cli.helptext_stored"}
#: What `--help` may run of gridops beyond the group: the command definitions, what they are
#: made with (the shared options, completion, the examples and exit codes of their help, the
#: fault kinds `sim serve`'s options list) and the deferral of what they use when they run
#: (``reconciler.lazy``, and ``reconciler.views``, the package of the deferred render).
DEFINITIONS = GROUP | {
    "reconciler.cli.app", "reconciler.cli.aws", "reconciler.cli.commands",
    "reconciler.cli.completion", "reconciler.cli.github", "reconciler.cli.help",
    "reconciler.cli.schemas", "reconciler.errors", "reconciler.sim", "reconciler.sim.cli",
    "reconciler.sim.faultkinds", "reconciler.lazy", "reconciler.views",
}
#: Standard modules that only running a command needs (pathlib's import alone is a quarter of
#: Python's start-up).
RUN_STDLIB = {"logging", "pathlib", "random", "signal", "traceback"}
#: What a plan whose documents name no AWS secret and no self-managed output never runs: the
#: apply machinery, the AWS and terraform secret providers, the self-managed output's reader,
#: the state's file lock (a plan only reads the state), the emulator's faults (a Grid URL).
UNUSED_BY_PLAN = ("reconciler.apply.engine", "reconciler.apply.steps", "reconciler.aws.secrets",
                  "reconciler.aws.terraform", "reconciler.sources.selfmanaged", "filelock",
                  "reconciler.sim.faults")
#: What validate never runs: the orchestration and every stage after the desired state.
UNUSED_BY_VALIDATE = ("reconciler.run", "reconciler.plan.types", "reconciler.live",
                      "reconciler.ports")

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
                  "ran": [m for m in WATCHED if is_loaded(m)],
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)}))
""".replace("HEAVY", repr(HEAVY)).replace(
    "WATCHED", repr(tuple({"structlog", "yaml", *UNUSED_BY_PLAN, *UNUSED_BY_VALIDATE})))


#: A click group of one option and one command: what click itself loads to run the same
#: arguments (its help formatting, gettext's look-up of the locale).
_PLAIN_GROUP = """
import click
@click.group()
@click.version_option("0")
@click.option("--repo")
def main(repo):
    pass
@main.command()
def plan():
    "Show a plan."
"""

#: Runs MAIN's ``main`` on the arguments and prints the modules whose code ran.
_RAN_CHILD = """
import sys
MAIN
try:
    main(sys.argv[1:], prog_name="gridops")
except SystemExit:
    pass
modules = list(sys.modules)
from reconciler.lazy import is_loaded
print(sorted(m for m in modules if is_loaded(m)))
"""


def _loaded(args: list[str], cwd: Path, env: dict[str, str] | None = None
            ) -> dict[str, object]:
    env = {**os.environ, "GRID_EXTERNAL_ID_A": SECRET_A, "GRID_EXTERNAL_ID_B": SECRET_B,
           **(env or {})}
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    report["stderr"] = done.stderr
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


def test_plan_starts_git_and_a_walk_through_a_symlink_loads_gitpython(
        gitops: GitOpsRepo) -> None:
    # The control: a command that reads git shows up in both records, so the checks above can
    # fail. A plan runs git itself; the walk that follows a committed symlink uses GitPython.
    report = _loaded(["--repo", str(gitops.root), "plan"], gitops.root)
    gitops.write("shared/gamma.yaml", cluster_doc("gamma"))
    (gitops.root / "clusters" / "shared").symlink_to("../shared")
    gitops.commit("a symlinked folder")
    walked = _loaded(["--repo", str(gitops.root), "apply", "--auto-approve"], gitops.root)

    assert report["code"] in (0, 2), report
    assert set(report["ran"]) == {"yaml", *UNUSED_BY_VALIDATE}  # type: ignore[call-overload]
    assert any("git" in command for command in report["started"])  # type: ignore[attr-defined]
    assert walked["code"] == 0, walked
    assert "git" in walked["modules"], walked  # type: ignore[operator]


def test_validate_runs_nothing_after_the_desired_state(gitops: GitOpsRepo) -> None:
    report = _loaded(["validate"], gitops.root)

    assert report["code"] == 0, report
    assert report["ran"] == ["yaml"], f"validate ran {report['ran']}"


@pytest.mark.parametrize("args", [["plan"], ["apply", "--auto-approve"]], ids=["plan", "apply"])
def test_a_run_at_the_default_level_writes_no_log_line_and_loads_no_structlog(
        gitops: GitOpsRepo, args: list[str]) -> None:
    report = _loaded(["--repo", str(gitops.root), *args], gitops.root)

    assert report["code"] in (0, 2), report
    assert "structlog" not in report["ran"], report["ran"]  # type: ignore[operator]


def test_a_plan_runs_no_apply_aws_or_self_managed_code(gitops: GitOpsRepo) -> None:
    report = _loaded(["--repo", str(gitops.root), "plan"], gitops.root)

    assert report["code"] in (0, 2), report
    ran = set(report["ran"])  # type: ignore[call-overload]
    assert ran & set(UNUSED_BY_PLAN) == set(), f"plan ran {sorted(ran & set(UNUSED_BY_PLAN))}"
    assert report["modules"] == [], f"plan imported {report['modules']}"


def test_apply_and_a_terraform_output_reference_run_what_they_use(gitops: GitOpsRepo) -> None:
    # The control of the check above: each module it watches does load when it is needed.
    gitops.write(".gitignore", ".gridops/\nterraform/\n")
    gitops.write("terraform/outputs.json", json.dumps({"external_id": {"value": SECRET_A}}))
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha").replace(
        "{fromEnv: GRID_EXTERNAL_ID_A}",
        "{fromTerraformOutput: {file: terraform/outputs.json, output: external_id}}"))
    gitops.commit("alpha: the external id from terraform")
    gitops.write("terraform/gamma.json", json.dumps({"gridv1_cluster": {"value": "{}"}}))
    self_managed = ("apiVersion: gridops/v1\nkind: GridCluster\nmetadata: {name: gamma}\nspec:\n"
                    "  selfManaged: {fromTerraformOutput: {file: terraform/gamma.json, "
                    "output: gridv1_cluster}}\n")

    planned = _loaded(["--repo", str(gitops.root), "plan"], gitops.root)
    applied = _loaded(["--repo", str(gitops.root), "apply", "--auto-approve"], gitops.root)
    emulated = _loaded(["--repo", str(gitops.root), "--grid-url",
                        f"sim://{gitops.root.parent / 'sim.db'}?createSeconds=0", "plan"],
                       gitops.root)
    gitops.write("clusters/gamma.yaml", self_managed)
    found = _loaded(["--repo", str(gitops.root), "validate"], gitops.root)

    assert planned["code"] == 0 and applied["code"] == 0, (planned, applied)
    assert {"reconciler.aws.secrets", "reconciler.aws.terraform"} <= set(
        planned["ran"])  # type: ignore[call-overload]
    assert {"reconciler.apply.engine", "reconciler.apply.steps", "filelock"} <= set(
        applied["ran"])  # type: ignore[call-overload]
    assert applied["modules"] == [], applied  # git itself reads the commit, not GitPython
    assert "reconciler.sim.faults" in emulated["ran"], emulated  # type: ignore[operator]
    assert "reconciler.sources.selfmanaged" in found["ran"], found  # type: ignore[operator]


def test_with_vv_the_first_line_loads_structlog_and_every_line_is_masked(
        gitops: GitOpsRepo) -> None:
    # The control of the check above: debug lines are written, as JSON in CI, and the Masker
    # still blanks a secret in each of them (here the event's own name).
    report = _loaded(["--repo", str(gitops.root), "-vv", "plan"], gitops.root,
                     env={"CI": "true", "GRIDOPS_MASK_EVENT": "grid.request"})

    assert report["code"] in (0, 2), report
    assert "structlog" in report["ran"]  # type: ignore[operator]
    lines = [json.loads(line) for line in str(report["stderr"]).splitlines() if line.strip()]
    requests = [line for line in lines if line.get("method") == "GET"]
    assert requests and all(line["event"] == "***" for line in requests), lines
    assert all(line["level"] == "debug" and line["timestamp"] for line in requests), lines


def _beyond_click(args: list[str], cwd: Path) -> set[str]:
    """The modules whose code ran for ``gridops ARGS`` and not for a plain click group."""
    def ran(main: str) -> set[str]:
        done = subprocess.run([sys.executable, "-c", _RAN_CHILD.replace("MAIN", main), *args],
                              cwd=cwd, capture_output=True, text=True, timeout=60, check=True)
        return set(ast.literal_eval(done.stdout.strip().splitlines()[-1]))

    return ran("from reconciler.cli import main") - ran(_PLAIN_GROUP)


def test_version_loads_the_group_alone(tmp_path: Path) -> None:
    beyond = _beyond_click(["--version"], tmp_path)

    assert beyond <= GROUP, f"--version ran {sorted(beyond - GROUP)}"


@pytest.mark.parametrize("args", [["--help"], ["-h"]], ids=["help", "h"])
def test_the_groups_help_loads_the_command_definitions_and_nothing_they_use_to_run(
        tmp_path: Path, args: list[str]) -> None:
    # what the executable runs for a width it has no stored help for
    beyond = _beyond_click(args, tmp_path)

    gridops = {m for m in beyond if m.split(".")[0] == "reconciler"}
    assert gridops <= DEFINITIONS, f"{args} ran {sorted(gridops - DEFINITIONS)}"
    assert "reconciler.cli.commands" in gridops  # the listing shows each command's help
    others = {m.split(".")[0] for m in beyond} - {"reconciler", "click"}
    assert others <= sys.stdlib_module_names, f"{args} imported {sorted(others)}"
    assert beyond & RUN_STDLIB == set(), f"{args} imported {sorted(beyond & RUN_STDLIB)}"


def test_the_executable_answers_version_as_the_group_does_without_loading_click(
        tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    child = ("import sys\nsys.argv = ['gridops', '--version']\n"
             "from reconciler.cli.entry import run\nrun()\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'click'))")
    done = subprocess.run([sys.executable, "-c", child], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=True)
    shown, loaded = done.stdout.splitlines()
    assert shown + "\n" == CliRunner().invoke(main, ["--version"], prog_name="gridops").output
    assert loaded == "[]"


#: Runs the executable's entry point on the arguments, after PREPARE, and prints the modules of
#: click and gridops loaded.
# the modules are listed by an exit hook: the executable ends through them (entry.leave)
_ENTRY_CHILD = """
import atexit, sys
atexit.register(lambda: print(sorted(
    m for m in sys.modules if m.split(".")[0] in ("click", "reconciler"))))
sys.argv[0] = "gridops"
PREPARE
from reconciler.cli.entry import run
run()
"""


def _entry_loaded(args: list[str], cwd: Path, columns: str | None, prepare: str = "") -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run([sys.executable, "-c", _ENTRY_CHILD.replace("PREPARE", prepare), *args],
                          cwd=cwd, env={**env, "COLUMNS": columns} if columns else env,
                          capture_output=True, text=True, timeout=60, check=True)
    return set(ast.literal_eval(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["-h"]], ids=["help", "h"])
@pytest.mark.parametrize("columns", [None, "80", "120"], ids=["pipe", "80", "120"])
def test_the_executable_answers_help_at_a_stored_width_without_loading_click(
        tmp_path: Path, args: list[str], columns: str | None) -> None:
    loaded = _entry_loaded(args, tmp_path, columns)

    assert loaded <= STORED_HELP, f"{args} loaded {sorted(loaded - STORED_HELP)}"
    assert "reconciler.cli.helptext_stored" in loaded


@pytest.mark.parametrize(("columns", "prepare"), [
    ("60", ""),
    (None, "import reconciler.cli.helptext_stored as s; s.CLICK_VERSION = '0.0'"),
], ids=["other-width", "other-click"])
def test_the_executable_leaves_help_to_click_where_it_has_none_stored(
        tmp_path: Path, columns: str | None, prepare: str) -> None:
    # the control of the check above: the group answers, with what its help needs
    loaded = _entry_loaded(["--help"], tmp_path, columns, prepare)

    assert {"click", "reconciler.cli.group", "reconciler.cli.commands"} <= loaded


@pytest.mark.parametrize("args", [["--version", "--help"], ["--repo", ".", "--version"]],
                         ids=["version-and-help", "option-then-version"])
def test_the_executable_leaves_any_other_arguments_to_click(tmp_path: Path,
                                                            args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gridops, version ")
