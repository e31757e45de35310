"""The emulator spoken to as the grid CLI (lightning-grid 0.8.81) speaks: its query spellings
(``force=False``), its bodies (values it did not model in snake_case), its login flow and its
logs websocket (credential in a ``token`` query parameter), over real loopback HTTP."""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import websocket

from reconciler.model import PHASE_DELETED, PHASE_FAILED, PHASE_RUNNING
from reconciler.sim.catalog import CATALOG
from reconciler.sim.phases import RETRY_REASON
from reconciler.sim.server import SimServer
from tests.sim_fixtures import (
    SIM_API_KEY,
    SIM_USER_ID,
    byoc_spec,
    running_sim,
    sim_server_fixture,
)

AUTH = (SIM_USER_ID, SIM_API_KEY)
paced_sim = sim_server_fixture("paced_sim", create_seconds=0.6)
CLUSTERS = "/v1/core/clusters"
ROLE_ARN = "arn:aws:iam::123456789012:role/grid-access"
#: the Authorization value the CLI puts in the logs websocket's ``token`` parameter
BASIC = "Basic " + base64.b64encode(f"{SIM_USER_ID}:{SIM_API_KEY}".encode()).decode()


@functools.cache
def _http() -> httpx.Client:
    return httpx.Client()


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    _http().close()


def _call(server: SimServer, method: str, path: str, *, body: Any = None, auth: Any = AUTH,
          headers: dict[str, str] | None = None) -> httpx.Response:
    return _http().request(method, server.url + path, json=body, auth=auth, headers=headers)


def _create(server: SimServer, name: str, spec: dict[str, Any] | None = None) -> None:
    spec = spec or byoc_spec(roleArn=ROLE_ARN)
    answer = _call(server, "POST", CLUSTERS, body={"name": name, "spec": spec})
    assert answer.status_code == 200, answer.text


def _wait_for(server: SimServer, name: str, phase: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cluster = _call(server, "GET", f"{CLUSTERS}/{name}").json()
        if cluster["status"]["phase"] == phase:
            return dict(cluster)
        time.sleep(0.05)
    raise AssertionError(f"{name} never reached {phase}")


def _cli_create_body(name: str) -> dict[str, Any]:
    """What ``grid clusters aws NAME --edit-before-creation`` posts after a user added
    ``gridlet_resources``, ``kubeconfig`` and ``azure`` in the editor: the CLI had no model
    object for them, so they go out as typed, in snake_case."""
    return {"name": name, "spec": {
        "clusterType": "CLUSTER_TYPE_BYOC",
        "performanceProfile": "CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
        "driver": {"kubernetes": {
            "aws": {"region": "us-east-1", "roleArn": ROLE_ARN, "externalId": "ext-1",
                    "instanceTypes": [{"name": "t3.large"}, {"name": "g4dn.xlarge"}]},
            "gridletResources": {"cpu_request": "1", "memory_limits": "2Gi"},
            "kubeconfig": {"kubeconfig": "apiVersion: v1\nkind: Config\n"},
            "azure": {"subscription_id": "sub-1", "internal_test_cluster": True,
                      "instance_types": [{"name": "Standard_NC6",
                                          "overprovisioned_ondemand_count": "1"}]},
        }, "external": {"type_url": "type.googleapis.com/grid.v1.Extra", "value": "AAEC"}},
    }}


# --- ParseBool and the delete the CLI sends -------------------------------------------------

@pytest.mark.parametrize("word", ["1", "t", "T", "TRUE", "true", "True"])
def test_every_parsebool_true_spelling_forces_the_delete(sim_server: SimServer,
                                                         word: str) -> None:
    _create(sim_server, "gone")
    assert _call(sim_server, "DELETE", f"{CLUSTERS}/gone?force={word}").status_code == 200
    assert _call(sim_server, "GET", f"{CLUSTERS}/gone").json()["status"]["phase"] == \
        PHASE_DELETED


@pytest.mark.parametrize("word", ["0", "f", "F", "FALSE", "false", "False"])
def test_every_parsebool_false_spelling_is_a_normal_delete(sim_server: SimServer,
                                                           word: str) -> None:
    _create(sim_server, "going")
    assert _call(sim_server, "DELETE", f"{CLUSTERS}/going?force={word}").status_code == 200
    cluster = _call(sim_server, "GET", f"{CLUSTERS}/going").json()
    assert cluster["spec"]["desiredState"] == PHASE_DELETED
    assert cluster["status"]["phase"] != PHASE_DELETED  # still terminating


@pytest.mark.parametrize("word", ["yes", "", "tRUE", "2", "False "],
                         ids=["yes", "empty", "mixed-case", "two", "trailing-space"])
def test_anything_else_is_a_400_that_names_the_parameter(sim_server: SimServer,
                                                         word: str) -> None:
    _create(sim_server, "kept")
    answer = _http().delete(sim_server.url + f"{CLUSTERS}/kept", params={"force": word},
                            auth=AUTH)
    assert answer.status_code == 400
    assert "parameter: force" in answer.json()["message"]
    assert _call(sim_server, "GET", f"{CLUSTERS}/kept").json()["spec"]["desiredState"] == \
        PHASE_RUNNING


def test_deleting_the_global_cluster_as_the_cli_does_is_refused_for_the_right_reason(
        sim_server: SimServer) -> None:
    answer = _call(sim_server, "DELETE", f"{CLUSTERS}/grid-cloud-prod?force=False")
    assert answer.status_code == 400
    body = answer.json()
    assert body["details"][0]["message"] == body["message"]
    assert "global cluster and cannot be deleted" in body["message"]


# --- routing before credentials -------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/core/nothing", 404),
    ("GET", "/graphql", 404),
    ("POST", "/v1/auth/logout", 404),
    ("PATCH", f"{CLUSTERS}/x", 405),
    ("GET", CLUSTERS, 401),
    ("GET", f"{CLUSTERS}/x/cloud-provider-id", 401),
    ("GET", "/v1/auth/user", 401),
], ids=["unknown-api-path", "graphql", "unknown-auth-path", "wrong-method", "list",
        "cloud-provider-id", "user"])
def test_paths_are_routed_before_credentials_are_checked(sim_server: SimServer, method: str,
                                                         path: str, status: int) -> None:
    answer = _call(sim_server, method, path, auth=None)
    assert answer.status_code == status
    assert answer.json()["details"][0]["message"] == answer.json()["message"]


# --- bodies the CLI sends and answers in camelCase ------------------------------------------

def test_a_create_with_values_the_cli_did_not_model_is_accepted_and_answered_in_camel_case(
        sim_server: SimServer) -> None:
    created = _call(sim_server, "POST", CLUSTERS, body=_cli_create_body("edited"))
    assert created.status_code == 200, created.text
    kubernetes = _call(sim_server, "GET", f"{CLUSTERS}/edited").json()["spec"]["driver"][
        "kubernetes"]
    assert kubernetes["gridletResources"] == {"cpuRequest": "1", "memoryLimits": "2Gi"}
    assert kubernetes["azure"] == {"subscriptionId": "sub-1", "internalTestCluster": True,
                                   "instanceTypes": [{"name": "Standard_NC6",
                                                      "overprovisionedOndemandCount": 1}]}
    assert kubernetes["kubeconfig"] == {"kubeconfig": "apiVersion: v1\nkind: Config\n"}
    assert created.json()["spec"]["driver"]["external"] == {
        "typeUrl": "type.googleapis.com/grid.v1.Extra", "value": "AAEC"}


def test_an_edit_round_trips_the_fields_it_did_not_touch(sim_server: SimServer) -> None:
    _call(sim_server, "POST", CLUSTERS, body=_cli_create_body("kept-fields"))
    spec = _call(sim_server, "GET", f"{CLUSTERS}/kept-fields").json()["spec"]
    spec["performanceProfile"] = "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    answer = _call(sim_server, "PUT", f"{CLUSTERS}/kept-fields",
                   body={"name": "kept-fields", "spec": spec})
    assert answer.status_code == 200, answer.text
    assert _call(sim_server, "GET", f"{CLUSTERS}/kept-fields").json()["spec"] == spec


@pytest.mark.parametrize(("external", "message"), [
    ({"typeUrl": "t", "value": "not base64!"}, "value must be a base64 string"),
    ({"@type": "t"}, "unknown field '@type'"),
], ids=["bad-bytes", "inline-any"])
def test_driver_external_is_a_typeurl_and_base64_value(sim_server: SimServer,
                                                        external: dict[str, Any],
                                                        message: str) -> None:
    spec = byoc_spec()
    spec["driver"]["external"] = external
    answer = _call(sim_server, "POST", CLUSTERS, body={"name": "ext", "spec": spec})
    assert answer.status_code == 400 and message in answer.json()["message"]


# --- grid login ----------------------------------------------------------------------------

@pytest.fixture
def named_sim(tmp_path: Path) -> Iterator[SimServer]:
    with running_sim(tmp_path / "sim.db", username="octocat") as server:
        yield server


@pytest.mark.parametrize("username", [SIM_USER_ID, "octocat"], ids=["user-id", "username"])
def test_grid_login_gets_a_token_then_the_user_id_then_lists_with_basic_auth(
        named_sim: SimServer, username: str) -> None:
    login = _call(named_sim, "POST", "/v1/auth/login", auth=None,
                  body={"username": username, "apiKey": SIM_API_KEY})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    user = _call(named_sim, "GET", "/v1/auth/user", auth=None,
                 headers={"Authorization": f"Bearer {token}"})
    assert user.status_code == 200
    assert user.json()["id"] == SIM_USER_ID and user.json()["username"] == "octocat"
    assert SIM_API_KEY not in user.text
    listed = _http().get(named_sim.url + CLUSTERS, auth=(user.json()["id"], SIM_API_KEY),
                         params=[("phaseNotIn", "CLUSTER_STATE_DELETED"),
                                 ("clusterTypeIn", "CLUSTER_TYPE_GLOBAL"),
                                 ("clusterTypeIn", "CLUSTER_TYPE_BYOC")])
    assert listed.json()["defaultCluster"] == "grid-cloud-prod"


@pytest.mark.parametrize("body", [
    {"username": SIM_USER_ID, "apiKey": "wrong"},
    {"username": "someone-else", "apiKey": SIM_API_KEY},
], ids=["wrong-key", "unknown-user"])
def test_a_wrong_login_is_a_401_the_sdk_can_show(named_sim: SimServer,
                                                 body: dict[str, str]) -> None:
    answer = _call(named_sim, "POST", "/v1/auth/login", auth=None, body=body)
    assert answer.status_code == 401
    assert answer.json()["details"][0]["message"] == "invalid username or API key"
    assert "token" not in answer.json()


def test_a_made_up_or_expired_token_is_refused(tmp_path: Path) -> None:
    now = [1_000_000.0]
    with running_sim(tmp_path / "sim.db", clock=lambda: now[0]) as server:
        token = _call(server, "POST", "/v1/auth/login", auth=None,
                      body={"username": SIM_USER_ID, "apiKey": SIM_API_KEY,
                            "duration": "60s"}).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert _call(server, "GET", CLUSTERS, auth=None, headers=bearer).status_code == 200
        made_up = {"Authorization": "Bearer " + "x" * len(token)}
        assert _call(server, "GET", CLUSTERS, auth=None, headers=made_up).status_code == 401
        now[0] += 61
        assert _call(server, "GET", CLUSTERS, auth=None, headers=bearer).status_code == 401


def test_a_login_with_a_malformed_duration_is_a_400(sim_server: SimServer) -> None:
    answer = _call(sim_server, "POST", "/v1/auth/login", auth=None,
                   body={"username": SIM_USER_ID, "apiKey": SIM_API_KEY, "duration": "1h"})
    assert answer.status_code == 400 and "'3600s'" in answer.json()["message"]


# --- grid clusters logs ------------------------------------------------------------------

def _logs_url(server: SimServer, name: str, **params: Any) -> str:
    """The URL the CLI opens: its ClusterLogsRequest fields, then ``token``."""
    query = {"follow": "false", "start": int(time.time()) - 86400, "end": int(time.time()) + 5,
             "limit": 1000, **params}
    query.setdefault("token", BASIC)
    return server.url.replace("http", "ws", 1) + f"{CLUSTERS}/{name}/logs?{urlencode(query)}"


def _read_lines(url: str) -> list[dict[str, Any]]:
    """The messages, read and checked as the CLI's ClusterService.cluster_logs does."""
    ws = websocket.create_connection(url, timeout=10)
    lines = []
    try:
        for message in ws:
            if message:
                line = json.loads(message)
                datetime.fromisoformat(line["timestamp"])
                assert isinstance(line["labels"]["level"], str)
                lines.append(line)
    except websocket.WebSocketConnectionClosedException:
        pass
    finally:
        ws.close()
    return lines


def test_logs_stream_the_lifecycle_so_far_and_close(sim_server: SimServer) -> None:
    _create(sim_server, "logged")
    _wait_for(sim_server, "logged", PHASE_RUNNING)
    lines = _read_lines(_logs_url(sim_server, "logged"))
    assert [line["labels"]["phase"] for line in lines] == [
        "CLUSTER_STATE_QUEUED", "CLUSTER_STATE_PENDING", PHASE_RUNNING]
    assert "provisioning" in lines[1]["message"] and "us-east-1" in lines[1]["message"]


def test_following_logs_streams_until_the_cluster_is_deleted(sim_server: SimServer) -> None:
    _create(sim_server, "followed")
    ws = websocket.create_connection(_logs_url(sim_server, "followed", follow="true"),
                                     timeout=10)
    try:
        first = json.loads(ws.recv())
        _wait_for(sim_server, "followed", PHASE_RUNNING)
        _call(sim_server, "DELETE", f"{CLUSTERS}/followed?force=False")
        rest = []
        for message in ws:
            if message:
                rest.append(json.loads(message))
    except websocket.WebSocketConnectionClosedException:
        pass
    finally:
        ws.close()
    assert first["labels"]["phase"] == "CLUSTER_STATE_QUEUED"
    assert [line["labels"]["phase"] for line in rest][-2:] == [PHASE_RUNNING, PHASE_DELETED]
    assert "delete of cluster followed requested" in rest[-2]["message"]


def test_a_failed_cluster_logs_its_reason_as_an_error(sim_server: SimServer) -> None:
    sim_server.fail_cluster("broken", "quota exceeded: 15 IAM roles")
    _create(sim_server, "broken")
    _wait_for(sim_server, "broken", PHASE_FAILED)
    last = _read_lines(_logs_url(sim_server, "broken"))[-1]
    assert last["labels"]["level"] == "error"
    assert "quota exceeded: 15 IAM roles" in last["message"]


def test_logs_keep_the_last_limit_lines_within_start_and_end(sim_server: SimServer) -> None:
    _create(sim_server, "limited")
    _wait_for(sim_server, "limited", PHASE_RUNNING)
    assert [line["labels"]["phase"] for line in
            _read_lines(_logs_url(sim_server, "limited", limit=1))] == [PHASE_RUNNING]
    assert _read_lines(_logs_url(sim_server, "limited", end=int(time.time()) - 3600)) == []


@pytest.mark.parametrize(("name", "params", "status"), [
    ("there", {"token": "Basic " + base64.b64encode(b"sim-tester:wrong").decode()}, 401),
    ("there", {"token": ""}, 401),
    ("missing", {}, 404),
    ("there", {"follow": "perhaps"}, 400),
    ("there", {"limit": "-1"}, 400),
], ids=["wrong-token", "no-token", "unknown-cluster", "bad-follow", "negative-limit"])
def test_a_refused_logs_websocket_answers_before_the_upgrade(
        sim_server: SimServer, name: str, params: dict[str, str], status: int) -> None:
    _create(sim_server, "there")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(_logs_url(sim_server, name, **params), timeout=10)
    assert refused.value.status_code == status


def test_logs_without_a_websocket_upgrade_are_a_400(sim_server: SimServer) -> None:
    _create(sim_server, "plain")
    answer = _call(sim_server, "GET", f"{CLUSTERS}/plain/logs")
    assert answer.status_code == 400 and "websocket" in answer.json()["message"]


def test_a_login_token_opens_the_logs_too(sim_server: SimServer) -> None:
    _create(sim_server, "by-token")
    token = _call(sim_server, "POST", "/v1/auth/login", auth=None,
                  body={"username": SIM_USER_ID, "apiKey": SIM_API_KEY}).json()["token"]
    assert _read_lines(_logs_url(sim_server, "by-token", token=token))


# --- cloud-provider-id, status, instance types ----------------------------------------------

@pytest.mark.parametrize(("name", "status", "expected"), [
    ("mine", 200, {"accountId": "123456789012"}),
    ("grid-cloud-prod", 400, "Grid's own cloud account"),
    ("missing", 404, "not found"),
], ids=["byoc", "global", "missing"])
def test_cloud_provider_id_is_the_account_of_the_role_arn(sim_server: SimServer, name: str,
                                                          status: int, expected: Any) -> None:
    _create(sim_server, "mine")
    answer = _call(sim_server, "GET", f"{CLUSTERS}/{name}/cloud-provider-id")
    assert answer.status_code == status
    if status == 200:
        assert answer.json() == expected
    else:
        assert expected in answer.json()["details"][0]["message"]


def test_status_fields_are_filled_once_running(paced_sim: SimServer) -> None:
    _create(paced_sim, "healthy", byoc_spec(roleArn="arn:aws-cn:iam::210987654321:role/g",
                                            region="cn-north-1"))
    before = _call(paced_sim, "GET", f"{CLUSTERS}/healthy").json()["status"]
    assert set(before) == {"phase"}
    status = _wait_for(paced_sim, "healthy", PHASE_RUNNING)["status"]
    assert status["gridletVersion"] == "0.8.81"
    datetime.fromisoformat(status["lastHealthcheckTimestamp"])
    eks = status["driverStatus"]["kubernetes"]["eks"]
    assert eks["vpcId"].startswith("vpc-") and eks["vpcPrivateSubnetIds"][0].startswith("subnet-")
    assert eks["gridletRoleArn"] == "arn:aws-cn:iam::210987654321:role/grid-healthy-gridlet"
    assert eks["ecrRepositoryUri"].endswith(".dkr.ecr.cn-north-1.amazonaws.com.cn/grid-healthy")
    again = _call(paced_sim, "GET", f"{CLUSTERS}/healthy").json()["status"]["driverStatus"]
    assert again == status["driverStatus"]  # made-up ids are stable


def test_instance_types_are_the_clusters_own_with_catalog_prices(sim_server: SimServer) -> None:
    spec = byoc_spec(instance_types=("g4dn.xlarge", "t3.large", "x9.imaginary"))
    spec["driver"]["kubernetes"]["aws"]["instanceTypes"][0]["overprovisionedOndemandCount"] = 2
    _create(sim_server, "typed", spec)
    types = _call(sim_server, "GET", f"{CLUSTERS}/typed/instance-types").json()["instanceTypes"]
    assert [(t["name"], t.get("spot", False)) for t in types] == [
        ("g4dn.xlarge", False), ("g4dn.xlarge", True), ("t3.large", False), ("t3.large", True),
        ("x9.imaginary", False), ("x9.imaginary", True)]
    g4dn = next(e for e in CATALOG if e.name == "g4dn.xlarge")
    assert types[0]["hourlyCost"] == g4dn.hourly_cost and types[1]["hourlyCost"] == \
        g4dn.spot_hourly_cost
    assert types[0]["overprovisionedOndemandCount"] == 2
    assert "overprovisionedOndemandCount" not in types[2]
    assert types[4] == {"name": "x9.imaginary"}  # unknown to the catalog: no made-up price


def test_the_global_clusters_instance_types_are_its_own(sim_server: SimServer) -> None:
    types = _call(sim_server, "GET", f"{CLUSTERS}/grid-cloud-prod/instance-types").json()
    assert {t["name"] for t in types["instanceTypes"]} == {"t3.large", "g4dn.xlarge",
                                                           "p3.2xlarge"}


# --- the FAILED -> RUNNING retry knob ----------------------------------------------------

def test_a_cluster_reports_failed_for_k_polls_while_retrying_then_running(
        tmp_path: Path) -> None:
    with running_sim(tmp_path / "sim.db", create_seconds=0.2, failed_polls=3) as server:
        _create(server, "flaky")
        time.sleep(0.3)
        polls = [_call(server, "GET", f"{CLUSTERS}/flaky").json()["status"] for _ in range(2)]
        polls.append(_call(server, "GET", CLUSTERS).json()["clusters"][1]["status"])
        polls += [_call(server, "GET", f"{CLUSTERS}/flaky").json()["status"] for _ in range(2)]
        lines = _read_lines(_logs_url(server, "flaky"))
    assert [p["phase"] for p in polls] == [PHASE_FAILED] * 3 + [PHASE_RUNNING] * 2
    assert polls[0]["reason"] == RETRY_REASON and "reason" not in polls[3]
    assert [line["labels"]["level"] for line in lines][-2:] == ["warning", "info"]
    assert "the retry succeeded" in lines[-1]["message"]


def test_the_retry_spell_survives_a_restart_on_the_same_database(tmp_path: Path) -> None:
    with running_sim(tmp_path / "sim.db", create_seconds=0.0, failed_polls=2) as server:
        _create(server, "flaky")
        assert _call(server, "GET", f"{CLUSTERS}/flaky").json()["status"]["phase"] == \
            PHASE_FAILED
    with running_sim(tmp_path / "sim.db", create_seconds=0.0) as server:
        phases = [_call(server, "GET", f"{CLUSTERS}/flaky").json()["status"]["phase"]
                  for _ in range(2)]
    assert phases == [PHASE_FAILED, PHASE_RUNNING]


def test_a_cluster_deleted_while_grid_retries_stays_failed_until_deleted(
        tmp_path: Path) -> None:
    with running_sim(tmp_path / "sim.db", create_seconds=0.0, delete_seconds=0.3,
                     failed_polls=1) as server:
        _create(server, "doomed")
        _call(server, "DELETE", f"{CLUSTERS}/doomed?force=False")
        phases = [_call(server, "GET", f"{CLUSTERS}/doomed").json()["status"]["phase"]
                  for _ in range(3)]
        _wait_for(server, "doomed", PHASE_DELETED)
        lines = _read_lines(_logs_url(server, "doomed"))
    assert phases == [PHASE_FAILED] * 3
    assert "the retry succeeded" not in " ".join(line["message"] for line in lines)
    assert lines[-1]["labels"]["phase"] == PHASE_DELETED
