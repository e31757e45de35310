"""The emulator's fault knobs and request log, over real loopback HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.errors import ConfigError, GridAnswerLost, GridAPIError
from reconciler.live import parse_sim_url
from reconciler.sim.faults import FaultPolicy, count_committed
from reconciler.sim.server import SimServer
from tests.sim_fixtures import SIM_API_KEY, SIM_USER_ID, byoc_spec, make_client, running_sim

AUTH = (SIM_USER_ID, SIM_API_KEY)


@pytest.mark.parametrize("kind", ["reset", "hang", "malformed", "status"])
@pytest.mark.parametrize("after_commit", [True, False], ids=["after-commit", "before-commit"])
def test_a_lost_create_answer_is_reported_as_lost_and_commits_only_after_commit(
        sim_server: SimServer, kind: str, after_commit: bool) -> None:
    sim_server.set_fault_policy(FaultPolicy(hang_seconds=2.0))
    sim_server.inject_faults(503, kind=kind, method="POST", after_commit=after_commit)
    with make_client(sim_server, timeout=0.3) as client:
        with pytest.raises(GridAnswerLost):
            client.create_cluster("alpha", byoc_spec())
        names = {c.name for c in client.list_clusters()}
    assert ("alpha" in names) is after_commit
    post = [r for r in sim_server.requests() if r.method == "POST"]
    assert [r.name for r in post] == ["alpha"]
    assert post[0].fault.endswith("after commit") is after_commit
    assert count_committed(sim_server.requests(), "POST") == ({"alpha": 1} if after_commit else {})


def test_a_429_names_its_retry_after_and_is_tried_again(sim_server: SimServer) -> None:
    sim_server.inject_faults(429, retry_after=0.01, method="GET")
    with make_client(sim_server) as client:
        client.list_clusters()
    statuses = [r.status for r in sim_server.requests()]
    assert statuses == [429, 200]


def test_a_seeded_fault_rate_strikes_the_same_requests_every_time(tmp_path: Path) -> None:
    def faults_seen(db: Path) -> list[str]:
        policy = FaultPolicy(rate=0.5, seed=7, kinds=("5xx",), method="GET")
        with running_sim(db, fault_policy=policy) as sim:
            for _ in range(20):
                httpx.get(f"{sim.url}/v1/core/clusters", auth=AUTH)
            return [r.fault for r in sim.requests()]

    first, second = faults_seen(tmp_path / "a.db"), faults_seen(tmp_path / "b.db")
    assert first == second
    assert 3 <= sum(1 for f in first if f) <= 17


def test_faults_target_a_cluster_by_name(sim_server: SimServer) -> None:
    sim_server.set_fault_policy(FaultPolicy(rate=1.0, kinds=("5xx",), target="beta"))
    with make_client(sim_server, max_retries=0) as client:
        client.create_cluster("alpha", byoc_spec())
        with pytest.raises(GridAPIError):
            client.create_cluster("beta", byoc_spec())
        with pytest.raises(GridAPIError):
            client.get_cluster("beta")
        assert client.get_cluster("alpha").name == "alpha"


def test_the_request_log_and_the_policy_are_served_under_sim(sim_server: SimServer) -> None:
    base = sim_server.url
    answer = httpx.post(f"{base}/_sim/fault-policy", auth=AUTH,
                        json={"rate": 1, "kinds": ["5xx"], "method": "DELETE"})
    assert answer.status_code == 200
    httpx.get(f"{base}/v1/core/clusters", auth=AUTH)
    httpx.delete(f"{base}/v1/core/clusters/nope", auth=AUTH)
    log = httpx.get(f"{base}/_sim/requests", auth=AUTH).json()["requests"]
    assert [(r["method"], r["fault"] != "") for r in log] == [("GET", False), ("DELETE", True)]
    assert log[1]["status"] >= 500 and log[1]["handled"] == 0
    assert httpx.post(f"{base}/_sim/fault-policy", auth=AUTH,
                      json={"kinds": ["teapot"]}).status_code == 400
    httpx.delete(f"{base}/_sim/requests", auth=AUTH)
    assert httpx.get(f"{base}/_sim/requests", auth=AUTH).json() == {"requests": []}


def test_sim_url_carries_the_fault_knobs(tmp_path: Path) -> None:
    sim = parse_sim_url("sim://s.db?faultRate=0.3&faultSeed=7&faultKinds=5xx,reset"
                        "&faultMethod=post&faultPath=alpha&faultAfterCommit=0.5"
                        "&faultHangSeconds=2&clientTimeout=1", env={}, repo_root=tmp_path)
    assert sim.faults == FaultPolicy(rate=0.3, seed=7, kinds=("5xx", "reset"), method="POST",
                                     target="alpha", after_commit=0.5, hang_seconds=2.0)
    assert sim.client_timeout == 1.0


@pytest.mark.parametrize("query", ["faultRate=2", "faultKinds=teapot", "faultSeed=x"],
                         ids=["rate-above-one", "unknown-kind", "seed-not-a-number"])
def test_sim_url_refuses_bad_fault_knobs(tmp_path: Path, query: str) -> None:
    with pytest.raises(ConfigError, match="Grid URL"):
        parse_sim_url(f"sim://s.db?{query}", env={}, repo_root=tmp_path)
