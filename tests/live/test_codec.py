from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from reconciler.errors import GridAPIError
from reconciler.live.client import GridClient
from reconciler.live.codec import parse_cluster, parse_cluster_list
from reconciler.live.credentials import Credentials
from reconciler.model import PHASE_UNSPECIFIED, TYPE_UNSPECIFIED

RUNNING = {"id": "a", "name": "a", "createdAt": "2024-05-01T10:00:00Z",
           "spec": {"clusterType": "CLUSTER_TYPE_BYOC", "desiredState": "CLUSTER_STATE_RUNNING"},
           "status": {"phase": "CLUSTER_STATE_FAILED", "reason": "quota"}}


def test_a_full_cluster_is_read_field_by_field() -> None:
    cluster = parse_cluster(RUNNING)
    assert (cluster.id, cluster.name, cluster.cluster_type, cluster.phase, cluster.desired_state,
            cluster.reason, cluster.created_at) == (
        "a", "a", "CLUSTER_TYPE_BYOC", "CLUSTER_STATE_FAILED", "CLUSTER_STATE_RUNNING", "quota",
        "2024-05-01T10:00:00Z")
    assert cluster.spec == RUNNING["spec"]


def test_omitted_fields_read_as_their_zero_values() -> None:
    cluster = parse_cluster({"id": "b", "name": "b"})
    assert (cluster.cluster_type, cluster.phase, cluster.desired_state, cluster.reason,
            cluster.created_at, dict(cluster.spec)) == (
        TYPE_UNSPECIFIED, PHASE_UNSPECIFIED, PHASE_UNSPECIFIED, "", "", {})


def _with(path: str, value: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(RUNNING))
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[key]
    target[last] = value
    return data


@pytest.mark.parametrize(("body", "expected"), [
    ({"clusters": [RUNNING, RUNNING, {"id": "x"}]}, "a cluster without 'name' (list item 3 of 3)"),
    ({"clusters": [{"name": "x"}]}, "a cluster without 'id' (list item 1 of 1, cluster 'x')"),
    ({"clusters": [_with("name", 7)]}, "'name' is a number"),
    ({"clusters": [_with("status.phase", "CLUSTER_STATE_EXPLODED")]},
     "unknown 'status.phase' value 'CLUSTER_STATE_EXPLODED'"),
    ({"clusters": [_with("spec.clusterType", "CLUSTER_TYPE_MARS")]},
     "unknown 'spec.clusterType' value"),
    ({"clusters": [_with("spec.performanceProfile", "FAST")]},
     "unknown 'spec.performanceProfile' value 'FAST'"),
    ({"clusters": [_with("spec", [])]}, "'spec' as a list, not an object (list item 1 of 1"),
    ({"clusters": [_with("status.reason", False)]}, "'status.reason' as a boolean"),
    ({"clusters": {"a": RUNNING}}, "'clusters' is an object, not a list"),
    ([RUNNING], "the cluster list with a list instead of an object"),
], ids=["no-name", "no-id", "name-not-string", "unknown-phase", "unknown-type",
        "unknown-profile", "spec-not-object", "reason-not-string", "clusters-not-list",
        "answer-not-object"])
def test_malformed_list_answers_name_the_object_and_field(body: Any, expected: str) -> None:
    with pytest.raises(GridAPIError) as caught:
        parse_cluster_list(body)
    assert expected in caught.value.message


# --- over real HTTP: a throwaway loopback server that answers junk -------------------------

@contextmanager
def junk_grid(body: bytes, status: int = 200) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(("body", "expected"), [
    (b"<html>gateway</html>", "list clusters' with something that is not JSON: '<html>"),
    (json.dumps({"clusters": [RUNNING, {"id": "z", "spec": {}}]}).encode(),
     "Grid answered a cluster without 'name' (list item 2 of 2)"),
    (json.dumps({"clusters": [_with("status.phase", 3)]}).encode(),
     "'status.phase' as a number, not a string"),
], ids=["html", "missing-name", "phase-number"])
def test_client_turns_junk_answers_into_grid_api_errors(body: bytes, expected: str) -> None:
    with junk_grid(body) as url, GridClient(url, Credentials("u", "k")) as client, \
            pytest.raises(GridAPIError) as caught:
        client.list_clusters()
    assert expected in caught.value.message


def test_client_reports_a_non_grid_error_body_with_its_text_and_status() -> None:
    with junk_grid(b"upstream exploded", status=418) as url, \
            GridClient(url, Credentials("u", "k")) as client, \
            pytest.raises(GridAPIError) as caught:
        client.get_cluster("a")
    assert caught.value.status == 418
    assert "upstream exploded (HTTP 418)" in caught.value.message
