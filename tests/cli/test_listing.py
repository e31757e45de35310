"""plan, drift, status and apply (under the state lock) ask Grid for its list while the
cluster files load: the list is still asked once, bad files are still reported as bad files
(whatever Grid does meanwhile), and a Grid that cannot be reached is still reported as such."""

from __future__ import annotations

import socket

import pytest

from tests.cli.conftest import GitOpsRepo


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("command", [("plan",), ("drift",), ("status",)],
                         ids=["plan", "drift", "status"])
def test_each_read_asks_grid_for_its_list_once(gitops: GitOpsRepo,
                                               command: tuple[str, ...]) -> None:
    before = len(gitops.sim.requests())
    result = gitops.gridops(*command)
    assert result.exit_code in (0, 2), result.output
    asked = [(r.method, r.path.split("?")[0]) for r in gitops.sim.requests()[before:]]
    assert asked.count(("GET", "/v1/core/clusters")) == 1, asked


@pytest.mark.parametrize("command", [("plan",), ("drift",), ("status",)],
                         ids=["plan", "drift", "status"])
def test_a_bad_file_is_reported_as_such_while_grid_cannot_be_reached(
        gitops: GitOpsRepo, command: tuple[str, ...]) -> None:
    gitops.write("clusters/bad.yaml", "apiVersion: gridops/v1\nkind: NoSuchKind\n")
    result = gitops.gridops(*command, env={"GRID_URL": _closed_port_url()})

    assert result.exit_code == 1
    assert "clusters/bad.yaml" in result.stderr
    assert "could not reach Grid" not in result.output
    assert "Traceback" not in result.output


def test_a_grid_that_cannot_be_reached_is_still_reported(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("plan", env={"GRID_URL": _closed_port_url()})

    assert result.exit_code == 1
    assert "could not reach Grid" in result.stderr and "Traceback" not in result.output


def test_apply_asks_grid_for_its_list_once_under_the_lock_while_the_commit_loads(
        gitops: GitOpsRepo) -> None:
    before = len(gitops.sim.requests())
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    asked = [(r.method, r.path.split("?")[0]) for r in gitops.sim.requests()[before:]]
    assert asked[0] == ("GET", "/v1/core/clusters") and \
        asked.count(("GET", "/v1/core/clusters")) == 1, asked


def test_apply_reports_a_bad_committed_file_as_such_while_grid_cannot_be_reached(
        gitops: GitOpsRepo) -> None:
    gitops.write("clusters/bad.yaml", "apiVersion: gridops/v1\nkind: NoSuchKind\n")
    gitops.commit("a bad file")
    result = gitops.gridops("apply", "--auto-approve",
                            env={"GRID_URL": _closed_port_url(), "GRIDOPS_PIN_GRID_URL": ""})

    assert result.exit_code == 1
    assert "clusters/bad.yaml" in result.stderr
    assert "could not reach Grid" not in result.output
    assert "Traceback" not in result.output


def test_apply_reports_a_grid_that_cannot_be_reached(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("apply", "--auto-approve",
                            env={"GRID_URL": _closed_port_url(), "GRIDOPS_PIN_GRID_URL": ""})

    assert result.exit_code == 1
    assert "could not reach Grid" in result.stderr and "Traceback" not in result.output
