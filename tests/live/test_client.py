from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import structlog

from reconciler.errors import GridAPIError, GridAuthError, GridConflict, GridNotFound
from reconciler.live.client import GridClient
from reconciler.live.credentials import Credentials
from reconciler.model import PHASE_DELETED, PHASE_QUEUED, TYPE_BYOC, TYPE_GLOBAL
from reconciler.sim.server import SimServer
from tests.sim_fixtures import SIM_API_KEY, SIM_USER_ID, byoc_spec, make_client


def _admin(server: SimServer, path: str, body: dict[str, Any]) -> None:
    """Drive the emulator through its /_sim/ endpoint, over HTTP like any caller."""
    with httpx.Client(auth=(SIM_USER_ID, SIM_API_KEY)) as http:
        answer = http.post(f"{server.url}/_sim/{path}", json=body)
    assert answer.status_code == 200, answer.text


def test_create_get_update_delete_round_trip(grid_client: GridClient) -> None:
    created = grid_client.create_cluster("research-use1", byoc_spec())
    assert (created.id, created.name, created.cluster_type, created.phase) == (
        "research-use1", "research-use1", TYPE_BYOC, PHASE_QUEUED)

    spec = dict(grid_client.get_cluster(created.id).spec)
    spec["driver"]["kubernetes"]["aws"]["instanceTypes"].append(
        {"name": "g4dn.xlarge", "overprovisionedOndemandCount": 2})
    updated = grid_client.update_cluster(created.id, created.name, spec)
    assert [i["name"] for i in updated.spec["driver"]["kubernetes"]["aws"]["instanceTypes"]] == [
        "t3.large", "g4dn.xlarge"]
    assert grid_client.get_cluster(created.id).spec == updated.spec

    grid_client.delete_cluster(created.id)
    assert grid_client.get_cluster(created.id).desired_state == PHASE_DELETED


def test_list_excludes_deleted_clusters_by_default(grid_client: GridClient) -> None:
    grid_client.create_cluster("gone", byoc_spec())
    grid_client.delete_cluster("gone", force=True)
    assert "gone" not in {c.name for c in grid_client.list_clusters()}
    assert "gone" in {c.name for c in grid_client.list_clusters(phase_not_in=())}


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"cluster_type_in": [TYPE_BYOC]}, {"byoc-a"}),
    ({"cluster_type_not_in": [TYPE_BYOC]}, {"grid-cloud-prod"}),
    ({"cluster_type_in": [TYPE_GLOBAL]}, {"grid-cloud-prod"}),
    ({"phase_in": [PHASE_QUEUED]}, {"byoc-a"}),
    ({"phase_in": [PHASE_DELETED], "phase_not_in": ()}, set()),
], ids=["byoc-only", "not-byoc", "global-only", "queued-only", "deleted-only"])
def test_list_filters_travel_as_repeated_query_parameters(
        grid_client: GridClient, kwargs: dict[str, Any], expected: set[str]) -> None:
    grid_client.create_cluster("byoc-a", byoc_spec())
    assert {c.name for c in grid_client.list_clusters(**kwargs)} == expected


def test_instance_types_come_back_as_wire_dicts(grid_client: GridClient) -> None:
    grid_client.create_cluster("gpu", byoc_spec(instance_types=("g4dn.xlarge",)))
    types = grid_client.instance_types("gpu")
    assert {"name", "cpu", "gpu", "memory", "hourlyCost"} <= set(types[0])
    assert any(t["name"] == "g4dn.xlarge" and t.get("spot") for t in types)


@pytest.mark.parametrize("credentials", [
    Credentials(SIM_USER_ID, "wrong-key-123456"), Credentials("someone-else", SIM_API_KEY),
], ids=["wrong-key", "wrong-user"])
def test_wrong_credentials_are_an_auth_error_with_a_hint(
        sim_server: SimServer, credentials: Credentials) -> None:
    with GridClient(sim_server.url, credentials) as client, \
            pytest.raises(GridAuthError) as caught:
        client.list_clusters()
    assert caught.value.status == 401
    assert caught.value.hint and "GRID_API_KEY" in caught.value.hint
    assert credentials.api_key not in str(caught.value)


@pytest.mark.parametrize(("call", "error", "expected"), [
    (lambda c: c.get_cluster("nope"), GridNotFound, "cluster 'nope' not found (HTTP 404)"),
    (lambda c: c.delete_cluster("nope"), GridNotFound, "(HTTP 404)"),
    (lambda c: c.create_cluster("dup", byoc_spec()), GridConflict, "already exists (HTTP 409)"),
    (lambda c: c.create_cluster("arm", byoc_spec(instance_types=("m6g.large",))), GridAPIError,
     "'m6g.large' is arm64"),
    (lambda c: c.create_cluster("Bad_Name", byoc_spec()), GridAPIError, "contains '_'"),
    (lambda c: c.create_cluster("zone", byoc_spec(region="us-east-1a")), GridAPIError,
     "availability zone"),
], ids=["get-missing", "delete-missing", "duplicate", "arm64", "bad-name", "zone"])
def test_refusals_map_to_error_classes_with_the_server_message(
        grid_client: GridClient, call: Any, error: type[GridAPIError], expected: str) -> None:
    grid_client.create_cluster("dup", byoc_spec())
    with pytest.raises(error) as caught:
        call(grid_client)
    assert expected in caught.value.message


# --- retries, over real HTTP -------------------------------------------------------------

def test_get_is_retried_after_500s_until_it_succeeds(sim_server: SimServer,
                                                     grid_client: GridClient) -> None:
    _admin(sim_server, "faults", {"status": 500, "count": 2})
    assert grid_client.list_clusters()
    assert grid_client.request_count == 3
    assert sim_server.request_count == 3


def test_get_gives_up_after_max_retries_with_the_last_status(sim_server: SimServer) -> None:
    _admin(sim_server, "faults", {"status": 503, "count": 10})
    with make_client(sim_server, max_retries=2) as client, \
            pytest.raises(GridAPIError) as caught:
        client.get_cluster("grid-cloud-prod")
    assert caught.value.status == 503
    assert client.request_count == 3


def test_post_is_not_retried_after_a_500(sim_server: SimServer, grid_client: GridClient) -> None:
    _admin(sim_server, "faults", {"status": 500, "count": 1})
    with pytest.raises(GridAPIError) as caught:
        grid_client.create_cluster("once", byoc_spec())
    assert caught.value.status == 500
    assert grid_client.request_count == 1
    assert "once" not in {c.name for c in grid_client.list_clusters()}


def test_429_is_retried_after_retry_after_even_for_post(sim_server: SimServer,
                                                         grid_client: GridClient) -> None:
    _admin(sim_server, "faults", {"status": 429, "count": 1, "retryAfter": 1})
    start = time.monotonic()
    created = grid_client.create_cluster("patient", byoc_spec())
    assert time.monotonic() - start >= 1.0  # the backoff alone would be 0.01 s
    assert created.name == "patient"
    assert grid_client.request_count == 2


def test_read_timeouts_are_retried_then_reported(sim_server: SimServer) -> None:
    _admin(sim_server, "latency", {"seconds": 0.3})
    with make_client(sim_server, timeout=0.05, max_retries=1) as client, \
            pytest.raises(GridAPIError) as caught:
        client.list_clusters()
    assert "could not reach Grid at" in caught.value.message
    assert client.request_count == 2


def test_an_unreachable_url_is_reported_after_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with GridClient(f"http://127.0.0.1:{port}", Credentials("u", "k"), backoff=0.001,
                        max_retries=2) as client, pytest.raises(GridAPIError) as caught:
            client.create_cluster("x", byoc_spec())
    assert f"could not reach Grid at http://127.0.0.1:{port}" in caught.value.message
    assert client.request_count == 3  # a refused connect never reached Grid: POST retries too


@pytest.fixture
def debug_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Every log event at debug level and up, whatever an earlier test configured."""
    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs() as logs:
            yield logs
    finally:
        structlog.configure(**previous)


def test_logs_carry_method_path_and_status_but_never_credentials_or_bodies(
        sim_server: SimServer, debug_logs: list[MutableMapping[str, Any]]) -> None:
    with make_client(sim_server) as client:
        client.create_cluster("logged", byoc_spec())
    logs = [e for e in debug_logs if e["event"] == "grid.request"]
    assert {"method": "POST", "path": "/v1/core/clusters", "status": 200}.items() <= \
        logs[-1].items()
    text = repr(debug_logs) + repr(client)
    assert SIM_API_KEY not in text
    assert "ext-id-for-tests" not in text


def test_each_retry_logs_one_line_with_what_failed_the_attempt_and_the_next_try(
        sim_server: SimServer, debug_logs: list[MutableMapping[str, Any]]) -> None:
    _admin(sim_server, "faults", {"status": 503, "count": 2})
    with make_client(sim_server, max_retries=3) as client:
        client.list_clusters()
    retries = [e for e in debug_logs if e["event"].startswith("could not")]
    assert [e["log_level"] for e in retries] == ["warning", "warning"]
    assert [e["event"].split(": attempt ")[0] for e in retries] == [
        "could not list clusters (HTTP 503)"] * 2
    assert "attempt 1 of 4, next try in" in retries[0]["event"]
    assert "attempt 2 of 4, next try in" in retries[1]["event"]


def test_an_unreachable_grid_is_visible_from_the_first_retry(
        debug_logs: list[MutableMapping[str, Any]]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with GridClient(f"http://127.0.0.1:{port}", Credentials("u", "k"), backoff=0.001,
                        max_retries=1) as client, pytest.raises(GridAPIError):
            client.list_clusters()
    lines = [e["event"] for e in debug_logs if e["event"].startswith("could not")]
    assert lines == ["could not list clusters (ConnectError): attempt 1 of 2, next try in 0.0s"]
