"""Colour only at a terminal (never with NO_COLOR or --no-color, forced with FORCE_COLOR), for
the plan and the logs alike; ``status`` as an aligned table and as JSON."""

from __future__ import annotations

import copy
import io
import json
import re

import pytest

from reconciler.views.color import use_color
from tests.cli.conftest import GitOpsRepo
from tests.cli.test_terminal import run_at_terminal

ESC = "\x1b["


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("tty", "env", "disabled", "expected"), [
    (True, {}, False, True),
    (False, {}, False, False),
    (True, {"NO_COLOR": "1"}, False, False),
    (True, {}, True, False),
    (False, {"FORCE_COLOR": "1"}, False, True),
    (False, {"FORCE_COLOR": "0"}, False, False),
    (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False),
    (False, {"FORCE_COLOR": "1"}, True, False),
    (True, {"NO_COLOR": ""}, False, True),
], ids=["terminal", "pipe", "no-color-env", "no-color-flag", "force-color", "force-color-0",
        "no-color-beats-force", "flag-beats-force", "empty-no-color-ignored"])
def test_colour_follows_the_terminal_and_the_environment(
        tty: bool, env: dict[str, str], disabled: bool, expected: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert use_color(stream, env, disabled=disabled) is expected


def test_force_color_colours_the_plan_even_through_a_pipe(gitops: GitOpsRepo) -> None:
    out = gitops.gridops("plan", env={"FORCE_COLOR": "1"}).stdout
    assert f"{ESC}32m+ alpha: create" in out
    assert ESC not in gitops.gridops("plan").stdout
    assert ESC not in gitops.gridops("--no-color", "plan", env={"FORCE_COLOR": "1"}).stdout


def test_at_a_terminal_the_plan_and_the_logs_are_coloured(gitops: GitOpsRepo) -> None:
    _, screen = run_at_terminal(gitops, None, "-vv", "plan")
    assert f"{ESC}32m+ alpha: create" in screen
    log_lines = [x for x in screen.splitlines() if "grid.request" in x]
    assert log_lines and any(ESC in x for x in log_lines), screen


@pytest.mark.parametrize("how", ["env", "flag"], ids=["NO_COLOR", "--no-color"])
def test_at_a_terminal_no_color_turns_off_every_colour(gitops: GitOpsRepo, how: str) -> None:
    env = {"NO_COLOR": "1"} if how == "env" else {}
    args = ["--no-color"] if how == "flag" else []
    code, screen = run_at_terminal(gitops, None, *args, "-vv", "plan", env=env)
    assert code == 0 and "+ alpha: create" in screen
    assert "grid.request" in screen  # the logs are there, only plain
    assert ESC not in screen, screen


def _running(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                            "--timeout", "20")
    assert result.exit_code == 0, result.output


def test_status_is_an_aligned_table_with_phase_managed_drift_and_age(
        gitops: GitOpsRepo) -> None:
    _running(gitops)
    live = gitops.live()["alpha"]
    spec = copy.deepcopy(dict(live.spec))
    spec["performanceProfile"] = "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    gitops.grid.update_cluster(live.id, "alpha", spec)
    out = gitops.gridops("status").stdout
    lines = [x for x in out.splitlines() if x]
    assert lines[0].split() == ["NAME", "TYPE", "PHASE", "MANAGED", "DRIFT", "AGE", "REASON"]
    starts = [lines[0].index(f" {h} ") + 1 for h in ("TYPE", "PHASE", "MANAGED", "DRIFT", "AGE")]
    for line in lines[1:]:  # every column starts where its heading does
        assert all(line[s - 2:s] == "  " and line[s] != " " for s in starts), line
    rows = {x.split()[0]: x.split() for x in lines[1:]}
    assert rows["alpha"][1:5] == ["BYOC", "RUNNING", "managed", "yes"]
    assert re.fullmatch(r"\d+s", rows["alpha"][5])
    assert "drift:" in " ".join(rows["alpha"][6:])
    assert rows["beta"][1:5] == ["BYOC", "RUNNING", "managed", "no"]
    assert rows["grid-cloud-prod"][1:5] == ["GLOBAL", "RUNNING", "unmanaged", "-"]


def test_status_json_lists_every_live_cluster(gitops: GitOpsRepo) -> None:
    _running(gitops)
    result = gitops.gridops("status", "--json")
    assert result.exit_code == 0, result.output
    clusters = {c["name"]: c for c in json.loads(result.stdout)["clusters"]}
    assert set(clusters) == {"alpha", "beta", "grid-cloud-prod"}
    alpha = clusters["alpha"]
    assert (alpha["phase"], alpha["managed"], alpha["drift"]) == ("RUNNING", True, False)
    assert alpha["createdAt"] and isinstance(alpha["ageSeconds"], int)
    assert clusters["grid-cloud-prod"]["drift"] is None
