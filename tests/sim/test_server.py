"""The emulator's wire behaviour, checked with plain httpx (not our client) over loopback."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sim.catalog import CATALOG
from reconciler.sim.server import SimServer
from reconciler.sim.wire import ApiError
from reconciler.sources.rules import is_arm64
from tests.sim_fixtures import (
    SIM_API_KEY,
    SIM_USER_ID,
    byoc_spec,
    running_sim,
    sim_server_fixture,
)

AUTH = (SIM_USER_ID, SIM_API_KEY)
paced_sim = sim_server_fixture("paced_sim", create_seconds=0.9)
CLUSTERS = "/v1/core/clusters"


@functools.cache
def _http() -> httpx.Client:
    return httpx.Client()  # one client for the module: a new one per call costs ~20 ms


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    _http().close()


def _call(server: SimServer, method: str, path: str, *, body: Any = None,
          params: Any = None, auth: Any = AUTH) -> httpx.Response:
    return _http().request(method, server.url + path, json=body, params=params, auth=auth)


def _create(server: SimServer, name: str, **spec: Any) -> dict[str, Any]:
    answer = _call(server, "POST", CLUSTERS, body={"name": name, "spec": byoc_spec(**spec)})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _phase(server: SimServer, name: str) -> str:
    return str(_call(server, "GET", f"{CLUSTERS}/{name}").json()["status"]["phase"])


def _zero_values(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _zero_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _zero_values(item, f"{path}[{i}]")
    if value in (None, False, 0, "", []):
        yield path


# --- auth and errors -----------------------------------------------------------------------

@pytest.mark.parametrize("auth", [None, (SIM_USER_ID, "not-the-key"), ("intruder", SIM_API_KEY)],
                         ids=["no-auth", "wrong-key", "wrong-user"])
@pytest.mark.parametrize("path", [CLUSTERS, "/_sim/state"], ids=["api", "admin"])
def test_unauthenticated_requests_get_401_in_grpc_gateway_shape(
        sim_server: SimServer, auth: Any, path: str) -> None:
    answer = _call(sim_server, "GET", path, auth=auth)
    assert answer.status_code == 401
    body = answer.json()
    assert body["code"] == 16 and body["details"][0]["message"] == body["message"]
    assert SIM_API_KEY not in answer.text


@pytest.mark.parametrize(("method", "path", "body", "status", "code", "message"), [
    ("GET", f"{CLUSTERS}/missing", None, 404, 5, "cluster 'missing' not found"),
    ("GET", "/v1/core/nothing", None, 404, 5, "Not Found"),
    ("PATCH", f"{CLUSTERS}/taken", None, 405, 12, "Method Not Allowed"),
    ("POST", CLUSTERS, {"name": "taken", "spec": byoc_spec()}, 409, 6, "already exists"),
    ("POST", CLUSTERS, {"name": "x", "spec": byoc_spec(instance_types=("c6g.large",))}, 400, 3,
     "arm64"),
    ("POST", CLUSTERS, {"spec": byoc_spec()}, 400, 3, "needs a 'name'"),
    ("POST", CLUSTERS, {"name": "x", "spec": byoc_spec(), "colour": 1}, 400, 3,
     "unknown field 'colour'"),
    ("PUT", f"{CLUSTERS}/taken", {"name": "renamed", "spec": byoc_spec()}, 400, 3,
     "cannot be renamed"),
    ("PUT", f"{CLUSTERS}/grid-cloud-prod", {"name": "grid-cloud-prod", "spec": byoc_spec()},
     400, 3, "only BYOC clusters can be edited"),
    ("DELETE", f"{CLUSTERS}/grid-cloud-prod", None, 400, 3, "global cluster"),
    ("DELETE", f"{CLUSTERS}/taken?force=maybe", None, 400, 3, "strconv.ParseBool: parsing 'maybe'"),
    ("GET", f"{CLUSTERS}?phaseIn=RUNNING", None, 400, 3, "phaseIn: unknown value 'RUNNING'"),
    ("GET", f"{CLUSTERS}/missing/instance-types", None, 404, 5, "not found"),
], ids=["get-missing", "unknown-path", "bad-method", "duplicate", "arm64", "no-name",
        "unknown-body-field", "rename", "edit-global", "delete-global", "bad-force",
        "bad-filter", "types-of-missing"])
def test_refusals_carry_status_grpc_code_and_message(
        sim_server: SimServer, method: str, path: str, body: Any, status: int, code: int,
        message: str) -> None:
    _create(sim_server, "taken")
    answer = _call(sim_server, method, path, body=body)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert message in answer.json()["message"]


def test_a_body_that_is_not_json_is_a_400(sim_server: SimServer) -> None:
    answer = _http().post(sim_server.url + CLUSTERS, content=b"{name:", auth=AUTH)
    assert answer.status_code == 400 and "not valid JSON" in answer.json()["message"]


# --- answers ----------------------------------------------------------------------------------

def test_answers_omit_zero_values_and_carry_server_set_fields(sim_server: SimServer) -> None:
    spec = byoc_spec(bucketName="", fsxEnabled=False, xMultiAzCount=0)
    spec["pauseAutomation"] = False
    created = _call(sim_server, "POST", CLUSTERS, body={"name": "lean", "spec": spec}).json()
    listed = _call(sim_server, "GET", CLUSTERS).json()
    assert list(_zero_values(created)) == [] and list(_zero_values(listed)) == []
    assert created["spec"]["userId"] == SIM_USER_ID
    assert {"gridletVersion", "costFactor", "paddingFactor"} <= set(created["spec"])
    assert created["createdAt"].endswith("Z")


def test_put_keeps_server_fields_the_body_omits_and_answers_without_created_at(
        sim_server: SimServer) -> None:
    created = _create(sim_server, "edited")
    spec = byoc_spec(instance_types=("t3.large", "g4dn.xlarge"))
    answer = _call(sim_server, "PUT", f"{CLUSTERS}/edited", body={"name": "edited", "spec": spec})
    assert set(answer.json()) == {"id", "name", "spec", "status"}
    for key in ("userId", "gridletVersion", "costFactor", "paddingFactor"):
        assert answer.json()["spec"][key] == created["spec"][key]
    stored = _call(sim_server, "GET", f"{CLUSTERS}/edited").json()
    assert len(stored["spec"]["driver"]["kubernetes"]["aws"]["instanceTypes"]) == 2


def test_the_global_cluster_is_seeded_running_and_is_the_default(sim_server: SimServer) -> None:
    listed = _call(sim_server, "GET", CLUSTERS).json()
    assert listed["defaultCluster"] == "grid-cloud-prod"
    (prod,) = listed["clusters"]
    assert (prod["name"], prod["spec"]["clusterType"], prod["status"]["phase"]) == (
        "grid-cloud-prod", "CLUSTER_TYPE_GLOBAL", "CLUSTER_STATE_RUNNING")


def test_without_seeding_there_is_no_global_cluster(tmp_path: Path) -> None:
    with running_sim(tmp_path / "sim.db", seed_global=False) as server:
        assert _call(server, "GET", CLUSTERS).json() == {"clusters": []}


@pytest.mark.parametrize(("params", "expected"), [
    ([], ["grid-cloud-prod", "queued", "gone"]),
    ([("phaseNotIn", "CLUSTER_STATE_DELETED")], ["grid-cloud-prod", "queued"]),
    ([("phaseIn", "CLUSTER_STATE_DELETED"), ("phaseIn", "CLUSTER_STATE_QUEUED")],
     ["queued", "gone"]),
    ([("clusterTypeIn", "CLUSTER_TYPE_BYOC"), ("phaseNotIn", "CLUSTER_STATE_DELETED")],
     ["queued"]),
    ([("clusterTypeNotIn", "CLUSTER_TYPE_BYOC")], ["grid-cloud-prod"]),
], ids=["none", "not-deleted", "deleted-or-queued", "byoc-not-deleted", "not-byoc"])
def test_list_filters(sim_server: SimServer, params: list[tuple[str, str]],
                      expected: list[str]) -> None:
    _create(sim_server, "gone")
    _call(sim_server, "DELETE", f"{CLUSTERS}/gone", params={"force": "true"})
    _create(sim_server, "queued")
    listed = _call(sim_server, "GET", CLUSTERS, params=params).json()["clusters"]
    assert sorted(c["name"] for c in listed) == sorted(expected)


def test_instance_types_are_amd64_with_prices_and_the_clusters_warm_counts(
        sim_server: SimServer) -> None:
    spec = byoc_spec(instance_types=())
    spec["driver"]["kubernetes"]["aws"]["instanceTypes"] = [
        {"name": "g4dn.xlarge", "overprovisionedOndemandCount": 2}]
    _call(sim_server, "POST", CLUSTERS, body={"name": "gpu", "spec": spec})
    types = _call(sim_server, "GET", f"{CLUSTERS}/gpu/instance-types").json()["instanceTypes"]
    warm = [t for t in types if t["name"] == "g4dn.xlarge" and not t.get("spot")]
    assert warm[0]["overprovisionedOndemandCount"] == 2 and warm[0]["gpu"] == "1"
    assert all(isinstance(t["hourlyCost"], float) for t in types)
    assert not any(is_arm64(entry.name) for entry in CATALOG)


# --- lifecycle --------------------------------------------------------------------------------

def test_a_create_moves_queued_then_pending_then_running(paced_sim: SimServer) -> None:
    # QUEUED for 0.3 s, PENDING until 0.9 s, then RUNNING
    assert _create(paced_sim, "grows")["status"]["phase"] == "CLUSTER_STATE_QUEUED"
    time.sleep(0.45)
    assert _phase(paced_sim, "grows") == "CLUSTER_STATE_PENDING"
    time.sleep(0.5)
    assert _phase(paced_sim, "grows") == "CLUSTER_STATE_RUNNING"


def test_a_delete_terminates_then_is_deleted_and_still_listed(sim_server: SimServer) -> None:
    _create(sim_server, "leaving")
    assert _call(sim_server, "DELETE", f"{CLUSTERS}/leaving").json() == {}
    terminating = _call(sim_server, "GET", f"{CLUSTERS}/leaving").json()
    assert terminating["spec"]["desiredState"] == "CLUSTER_STATE_DELETED"
    assert terminating["status"]["phase"] != "CLUSTER_STATE_DELETED"
    time.sleep(0.25)
    assert _phase(sim_server, "leaving") == "CLUSTER_STATE_DELETED"
    assert "leaving" in [c["name"] for c in _call(sim_server, "GET", CLUSTERS).json()["clusters"]]


def test_a_forced_delete_is_deleted_at_once(sim_server: SimServer) -> None:
    _create(sim_server, "dropped")
    _call(sim_server, "DELETE", f"{CLUSTERS}/dropped", params={"force": "true"})
    assert _phase(sim_server, "dropped") == "CLUSTER_STATE_DELETED"


def test_a_terminating_cluster_refuses_edits_and_a_same_name_create(sim_server: SimServer) -> None:
    _create(sim_server, "closing")
    _call(sim_server, "DELETE", f"{CLUSTERS}/closing")
    edit = _call(sim_server, "PUT", f"{CLUSTERS}/closing",
                 body={"name": "closing", "spec": byoc_spec()})
    again = _call(sim_server, "POST", CLUSTERS, body={"name": "closing", "spec": byoc_spec()})
    assert (edit.status_code, again.status_code) == (400, 409)
    assert "being deleted" in again.json()["message"]


def test_creating_a_deleted_name_replaces_it(sim_server: SimServer) -> None:
    _create(sim_server, "reborn", region="us-east-1")
    _call(sim_server, "DELETE", f"{CLUSTERS}/reborn", params={"force": "true"})
    again = _create(sim_server, "reborn", region="eu-west-1")
    assert again["status"]["phase"] == "CLUSTER_STATE_QUEUED"
    assert again["spec"]["desiredState"] == "CLUSTER_STATE_RUNNING"
    names = [c["name"] for c in _call(sim_server, "GET", CLUSTERS).json()["clusters"]]
    assert names.count("reborn") == 1


def test_phases_move_on_across_a_restart_on_the_same_database(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    with running_sim(db, create_seconds=0.3, delete_seconds=0.2) as first:
        _create(first, "durable")
        _create(first, "doomed")
        _call(first, "DELETE", f"{CLUSTERS}/doomed")
    time.sleep(0.35)
    with running_sim(db, create_seconds=60, delete_seconds=60) as second:
        assert _phase(second, "durable") == "CLUSTER_STATE_RUNNING"
        assert _phase(second, "doomed") == "CLUSTER_STATE_DELETED"
        prods = [c for c in _call(second, "GET", CLUSTERS).json()["clusters"]
                 if c["name"] == "grid-cloud-prod"]
        assert len(prods) == 1


def test_concurrent_creates_of_one_name_let_exactly_one_win(sim_server: SimServer) -> None:
    body = {"name": "race", "spec": byoc_spec()}
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(
            lambda _: _call(sim_server, "POST", CLUSTERS, body=body).status_code, range(16)))
    assert sorted(statuses) == [200] + [409] * 15


# --- failure and latency injection --------------------------------------------------------

def test_a_failure_set_before_create_turns_the_cluster_failed_with_its_reason(
        sim_server: SimServer) -> None:
    answer = _call(sim_server, "POST", "/_sim/failures",
                   body={"name": "unlucky", "reason": "quota for vCPUs exceeded"})
    assert answer.status_code == 200
    _create(sim_server, "unlucky")
    assert "reason" not in _call(sim_server, "GET", f"{CLUSTERS}/unlucky").json()["status"]
    time.sleep(0.35)
    status = _call(sim_server, "GET", f"{CLUSTERS}/unlucky").json()["status"]
    assert status == {"phase": "CLUSTER_STATE_FAILED", "reason": "quota for vCPUs exceeded"}


def test_a_running_cluster_can_be_failed_and_the_rule_cleared(sim_server: SimServer) -> None:
    _create(sim_server, "healthy")
    _call(sim_server, "POST", "/_sim/failures", body={"name": "healthy", "reason": "node lost"})
    assert _phase(sim_server, "healthy") == "CLUSTER_STATE_FAILED"
    assert _call(sim_server, "GET", "/_sim/state").json()["failures"] == {"healthy": "node lost"}
    _call(sim_server, "DELETE", "/_sim/failures/healthy")
    assert _call(sim_server, "GET", "/_sim/state").json()["failures"] == {}


def test_failures_can_be_given_as_server_options(tmp_path: Path) -> None:
    with running_sim(tmp_path / "sim.db", create_seconds=0,
                     failures={"broken": "STS regional endpoint inactive"}) as server:
        _create(server, "broken")
        status = _call(server, "GET", f"{CLUSTERS}/broken").json()["status"]
    assert status["reason"] == "STS regional endpoint inactive"


@pytest.mark.parametrize("how", ["admin", "option"])
def test_latency_slows_every_api_answer(tmp_path: Path, how: str) -> None:
    latency = 0.2 if how == "option" else 0.0
    with running_sim(tmp_path / "sim.db", latency_seconds=latency) as server:
        if how == "admin":
            _call(server, "POST", "/_sim/latency", body={"seconds": 0.2})
        start = time.monotonic()
        _call(server, "GET", CLUSTERS)
        assert time.monotonic() - start >= 0.2


def test_faults_answer_the_next_requests_then_stop(sim_server: SimServer) -> None:
    _call(sim_server, "POST", "/_sim/faults", body={"status": 429, "count": 2, "retryAfter": 3})
    first, second, third = (_call(sim_server, "GET", CLUSTERS) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3" and first.json()["code"] == 8
    assert _call(sim_server, "GET", "/_sim/state").json()["requestCount"] == 3


@pytest.mark.parametrize("body", [{"status": 200}, {"status": 500, "count": -1},
                                  {"status": 429, "retryAfter": "soon"}],
                         ids=["not-an-error", "negative-count", "retry-after-not-number"])
def test_bad_fault_requests_are_refused(sim_server: SimServer, body: dict[str, Any]) -> None:
    assert _call(sim_server, "POST", "/_sim/faults", body=body).status_code == 400


def test_seeded_clusters_are_running_and_listed_in_one_answer(sim_server: SimServer) -> None:
    sim_server.seed_clusters({f"bulk-{i:03d}": byoc_spec() for i in range(300)})
    listed = _call(sim_server, "GET", CLUSTERS).json()["clusters"]
    phases = {c["status"]["phase"] for c in listed if c["name"].startswith("bulk-")}
    assert len(listed) == 301 and phases == {"CLUSTER_STATE_RUNNING"}
    assert sim_server.request_count == 1


def test_seeding_refuses_invalid_clusters(sim_server: SimServer) -> None:
    with pytest.raises(ApiError, match="arm64"):
        sim_server.seed_clusters({"arm": byoc_spec(instance_types=("a1.large",))})


def test_python_controls_match_the_admin_endpoints(sim_server: SimServer) -> None:
    sim_server.inject_faults(503, 2, retry_after=1)
    sim_server.set_latency(0.05)
    state = _call(sim_server, "GET", "/_sim/state").json()
    assert (state["pendingFaults"], state["latencySeconds"]) == (2, 0.05)
    answer = _call(sim_server, "GET", CLUSTERS)
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "1")


def test_a_fault_for_one_method_leaves_other_requests_alone(sim_server: Any,
                                                            grid_client: Any) -> None:
    from reconciler.errors import GridAPIError
    from tests.sim_fixtures import byoc_spec

    sim_server.inject_faults(500, method="POST")
    assert grid_client.list_clusters()  # a GET passes
    with pytest.raises(GridAPIError):
        grid_client.create_cluster("c1", byoc_spec())
    assert grid_client.create_cluster("c1", byoc_spec()).name == "c1"
