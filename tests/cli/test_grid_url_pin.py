"""A pull request's own gridops.yaml cannot move the Grid credentials: with the Grid URL pinned
(a repository variable, else the base commit's gridUrl) a plan against another Grid runs
without credentials and says so, and an apply refuses before any request."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import SETTINGS, GitOpsRepo
from tests.recorder import Recorder, recording_server
from tests.sim_fixtures import SIM_API_KEY, SIM_USER_ID

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def attacker() -> Iterator[Recorder]:
    with recording_server() as recorder:
        yield recorder


def _pr_moving_the_grid(gitops: GitOpsRepo, monkeypatch: pytest.MonkeyPatch,
                        to: str) -> str:
    """The base commit points at the emulator; the PR's commit at ``to``. The base's sha."""
    monkeypatch.delenv("GRID_URL")
    gitops.write("gridops.yaml", SETTINGS.replace("sim://unused.db", gitops.sim.url)
                 % {"max_deletes": 1})
    base = gitops.commit("base: the real Grid")
    gitops.write("gridops.yaml", SETTINGS.replace("sim://unused.db", to) % {"max_deletes": 1})
    gitops.commit("PR: point gridUrl elsewhere")
    return base


def _leaks(recorder: Recorder) -> list[str]:
    basic = base64.b64encode(f"{SIM_USER_ID}:{SIM_API_KEY}".encode()).decode()
    return [h for _, _, headers in recorder.requests for h in headers.values()
            if basic in h or SIM_API_KEY in h]


def test_the_unpinned_warning_in_actions_leaves_plan_json_parseable(
        gitops: GitOpsRepo, monkeypatch: pytest.MonkeyPatch, attacker: Recorder) -> None:
    base = _pr_moving_the_grid(gitops, monkeypatch, attacker.url)
    env = {"GRIDOPS_PIN_GRID_URL_FROM": base, "GITHUB_ACTIONS": "true"}

    result = gitops.gridops("plan", "--no-preflight", "--json", env=env)

    assert result.exit_code == 0, result.output
    assert "changes" in json.loads(result.stdout)
    assert "::warning title=gridops::" in result.stderr


@pytest.mark.parametrize("pin", ["from-base", "variable"])
def test_a_pr_moving_grid_url_is_planned_without_credentials(
        gitops: GitOpsRepo, monkeypatch: pytest.MonkeyPatch, attacker: Recorder,
        pin: str) -> None:
    base = _pr_moving_the_grid(gitops, monkeypatch, attacker.url)
    env = {"GRIDOPS_PIN_GRID_URL_FROM": base} if pin == "from-base" else \
        {"GRIDOPS_PIN_GRID_URL": gitops.sim.url}

    result = gitops.gridops("plan", "--no-preflight", env=env)

    assert attacker.requests, "the plan asked the PR's Grid (without credentials)"
    assert attacker.authorizations() == [] and _leaks(attacker) == []
    assert "is not the pinned Grid URL" in result.stderr
    assert "WITHOUT Grid credentials" in result.output
    assert "Traceback" not in result.output


def test_without_a_pin_the_pr_grid_would_get_the_credentials(
        gitops: GitOpsRepo, monkeypatch: pytest.MonkeyPatch, attacker: Recorder) -> None:
    """What the pin prevents (so the test above can fail)."""
    _pr_moving_the_grid(gitops, monkeypatch, attacker.url)
    gitops.gridops("plan", "--no-preflight")
    assert _leaks(attacker)


def test_apply_against_an_unpinned_grid_refuses_before_any_request(
        gitops: GitOpsRepo, monkeypatch: pytest.MonkeyPatch, attacker: Recorder) -> None:
    _pr_moving_the_grid(gitops, monkeypatch, attacker.url)

    result = gitops.gridops("apply", "--auto-approve",
                            env={"GRIDOPS_PIN_GRID_URL": gitops.sim.url})

    assert result.exit_code == 1
    assert "refuses to send credentials or secrets there" in result.stderr
    assert "pull request" not in result.stderr, "apply runs after the merge: it cannot know"
    assert attacker.requests == [] and attacker.connections == 0


def test_the_pinned_grid_itself_gets_the_credentials(gitops: GitOpsRepo,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRID_URL")
    gitops.write("gridops.yaml", SETTINGS.replace("sim://unused.db", gitops.sim.url + "/")
                 % {"max_deletes": 1})
    base = gitops.commit("the real Grid")

    result = gitops.gridops("plan", "--no-preflight",
                            env={"GRIDOPS_PIN_GRID_URL_FROM": base})

    assert result.exit_code == 0, result.output
    assert "pinned" not in result.output and "+ alpha" in result.output


# --- the workflows ------------------------------------------------------------------------------

def _gridops_steps_with_credentials() -> list[tuple[str, dict[str, Any]]]:
    steps = []
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        for job in data["jobs"].values():
            steps += [(path.name, s) for s in job["steps"]
                      if "GRID_API_KEY" in s.get("env", {})]
    return steps


@pytest.mark.parametrize(("workflow", "step"), _gridops_steps_with_credentials(),
                         ids=lambda v: v if isinstance(v, str) else v.get("name", "step"))
def test_every_step_with_grid_credentials_pins_the_grid_url(workflow: str,
                                                            step: dict[str, Any]) -> None:
    env = step["env"]
    assert env["GRIDOPS_PIN_GRID_URL"] == "${{ vars.GRID_URL }}"
    assert "GRID_URL" not in env  # never a URL a pull request could choose
    if workflow == "plan.yml":
        assert env["GRIDOPS_PIN_GRID_URL_FROM"] == "${{ github.event.pull_request.base.sha }}"


def test_there_are_steps_with_credentials_to_check() -> None:
    assert {w for w, _ in _gridops_steps_with_credentials()} == {"plan.yml", "apply.yml",
                                                                 "reconcile.yml"}


def test_the_action_pins_the_grid_url_too() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    run_step = action["runs"]["steps"][-1]
    assert run_step["env"]["GRIDOPS_PIN_GRID_URL"] == "${{ inputs.grid-url }}"
    assert run_step["env"]["GRIDOPS_PIN_GRID_URL_FROM"] == \
        "${{ github.event.pull_request.base.sha }}"
