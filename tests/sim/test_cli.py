from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from reconciler.sim.cli import sim

ROOT = Path(__file__).resolve().parents[2]
KEY = "cli-key-from-env-42"


def _wait_for_url(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return found.group(1)
        if not line and process.poll() is not None:
            break
    raise AssertionError("the emulator did not say where it listens")


def test_sim_serve_answers_a_list_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRID_API_KEY": KEY}
    command = [sys.executable, "-c", "from reconciler.sim.cli import sim; sim()", "serve",
               "--port", "0", "--db", str(tmp_path / "state" / "sim.db"), "--user-id", "cli-user",
               "--create-seconds", "0", "--fail", "broken=quota exceeded"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = _wait_for_url(process, time.monotonic() + 15)
        listed = httpx.get(f"{url}/v1/core/clusters", auth=("cli-user", KEY)).json()
        state = httpx.get(f"{url}/_sim/state", auth=("cli-user", KEY)).json()
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=10)
    assert [c["name"] for c in listed["clusters"]] == ["grid-cloud-prod"]
    assert state["failures"] == {"broken": "quota exceeded"}
    assert process.returncode == 0
    assert KEY not in rest
    assert (tmp_path / "state" / "sim.db").is_file()


def test_sim_serve_refuses_a_malformed_fail_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(sim, ["serve", "--db", str(tmp_path / "s.db"), "--user-id", "u",
                                      "--api-key", "k", "--fail", "no-reason"])
    assert result.exit_code == 2
    assert "'no-reason' is not NAME=REASON" in result.output


def test_sim_serve_needs_an_api_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(sim, ["serve", "--db", str(tmp_path / "s.db"), "--user-id", "u"])
    assert result.exit_code == 2
    assert "--api-key" in result.output


def test_sim_serve_logs_each_request_with_its_fault_when_verbose(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRID_API_KEY": KEY}
    command = [sys.executable, "-c", "from reconciler.sim.cli import sim; sim()", "serve",
               "--port", "0", "--db", str(tmp_path / "sim.db"), "--user-id", "cli-user",
               "--fault-rate", "1", "--fault-kinds", "5xx", "--fault-method", "DELETE", "-v"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = _wait_for_url(process, time.monotonic() + 15)
        httpx.get(f"{url}/v1/core/clusters", auth=("cli-user", KEY))
        httpx.delete(f"{url}/v1/core/clusters/x", auth=("cli-user", KEY))
        log = httpx.get(f"{url}/_sim/requests", auth=("cli-user", KEY)).json()["requests"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=10)
    assert [r["fault"] != "" for r in log] == [False, True]
    assert "sim: GET /v1/core/clusters -> 200" in rest
    assert re.search(r"sim: DELETE /v1/core/clusters/x -> 5\d\d fault=5\d\d", rest)


def test_sim_serve_refuses_an_unknown_fault_kind(tmp_path: Path) -> None:
    result = CliRunner().invoke(sim, ["serve", "--db", str(tmp_path / "s.db"), "--user-id", "u",
                                      "--api-key", "k", "--fault-kinds", "5xx,teapot"])
    assert result.exit_code == 2
    assert "unknown fault kind(s) teapot" in result.output


def test_sim_serve_takes_the_retry_knob_and_a_username(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRID_API_KEY": KEY}
    command = [sys.executable, "-c", "from reconciler.sim.cli import sim; sim()", "serve",
               "--port", "0", "--db", str(tmp_path / "sim.db"), "--user-id", "cli-user",
               "--create-seconds", "0", "--failed-polls", "1", "--username", "octocat"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = _wait_for_url(process, time.monotonic() + 15)
        login = httpx.post(f"{url}/v1/auth/login", json={"username": "octocat", "apiKey": KEY})
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        spec = {"driver": {"kubernetes": {"aws": {
            "region": "us-east-1", "roleArn": "arn:aws:iam::123456789012:role/g",
            "externalId": "e", "instanceTypes": [{"name": "t3.large"}]}}}}
        httpx.post(f"{url}/v1/core/clusters", json={"name": "flaky", "spec": spec},
                   headers=bearer)
        phases = [httpx.get(f"{url}/v1/core/clusters/flaky", headers=bearer).json()["status"][
            "phase"] for _ in range(2)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert phases == ["CLUSTER_STATE_FAILED", "CLUSTER_STATE_RUNNING"]


def test_sim_serve_refuses_negative_failed_polls(tmp_path: Path) -> None:
    result = CliRunner().invoke(sim, ["serve", "--db", str(tmp_path / "s.db"), "--user-id", "u",
                                      "--api-key", "k", "--failed-polls", "-1"])
    assert result.exit_code == 2 and "--failed-polls" in result.output
