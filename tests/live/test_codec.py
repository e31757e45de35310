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
from reconciler.live.codec import parse_cluster, parse_cluster_list, parse_instance_types
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
    ({"clusters": [_with("spec", [])]}, "'spec' as a list, not an object (list item 1 of 1"),
    ({"clusters": [_with("status.reason", False)]}, "'status.reason' as a boolean"),
    ({"clusters": {"a": RUNNING}}, "'clusters' is an object, not a list"),
    ([RUNNING], "the cluster list with a list instead of an object"),
    ({"clusters": [_with("spec.driver", {"kubernetes": {"aws": {"xMultiAzCount": "two"}}})]},
     "'spec.driver.kubernetes.aws.xMultiAzCount' as a string ('two'), not a whole number "
     "(list item 1 of 1, cluster 'a')"),
    ({"clusters": [_with("spec.driver", {"kubernetes": {"aws": {"instanceTypes": [
        {"name": "t3.large", "overprovisionedOndemandCount": True}]}}})]},
     "'spec.driver.kubernetes.aws.instanceTypes[0].overprovisionedOndemandCount' as a boolean"),
    ({"clusters": [_with("spec.driver", {"kubernetes": {"aws": {"instanceTypes": [
        {"name": "t3.large", "rootVolumeSize": "1.5"}]}}})]},
     "'spec.driver.kubernetes.aws.instanceTypes[0].rootVolumeSize' as a string ('1.5')"),
], ids=["no-name", "no-id", "name-not-string", "spec-not-object", "reason-not-string",
        "clusters-not-list", "answer-not-object", "int-garbage", "int-boolean", "int-fraction"])
def test_malformed_list_answers_name_the_object_and_field(body: Any, expected: str) -> None:
    with pytest.raises(GridAPIError) as caught:
        parse_cluster_list(body)
    assert expected in caught.value.message


@pytest.mark.parametrize(("path", "value", "noted"), [
    ("status.phase", "CLUSTER_STATE_UPGRADING", "status.phase 'CLUSTER_STATE_UPGRADING'"),
    ("spec.clusterType", "CLUSTER_TYPE_MARS", "spec.clusterType 'CLUSTER_TYPE_MARS'"),
    ("spec.performanceProfile", "FAST", "spec.performanceProfile 'FAST'"),
    ("spec.desiredState", "CLUSTER_STATE_PAUSED", "spec.desiredState 'CLUSTER_STATE_PAUSED'"),
], ids=["phase", "type", "profile", "desired-state"])
def test_an_unknown_enum_value_is_kept_and_noted_not_refused(path: str, value: str,
                                                             noted: str) -> None:
    (first, second) = parse_cluster_list({"clusters": [_with(path, value),
                                                       {**RUNNING, "id": "b", "name": "b"}]})
    assert first.unknown == (noted,)
    assert value in (first.phase, first.cluster_type, first.desired_state,
                     first.spec.get("performanceProfile"))
    assert second.unknown == ()


def test_int64_fields_read_from_strings_and_numbers_alike() -> None:
    aws = {"xMultiAzCount": "3", "abortIncompleteDatastoreNumDays": 7,
           "instanceTypes": [{"name": "t3.large", "overprovisionedOndemandCount": "2",
                              "rootVolumeSize": "200"}]}
    cluster = parse_cluster(_with("spec.driver", {"kubernetes": {"aws": aws}}))
    assert cluster.spec["driver"]["kubernetes"]["aws"] == aws  # kept exactly as answered


def test_instance_types_answer_reads_numbers_written_as_strings() -> None:
    (item,) = parse_instance_types({"instanceTypes": [
        {"name": "g4dn.xlarge", "hourlyCost": "0.526", "overprovisionedOndemandCount": "1",
         "availability": "AVAILABILITY_SOMEDAY"}]}, cluster_id="a")
    assert (item["hourlyCost"], item["overprovisionedOndemandCount"], item["availability"]) == (
        0.526, 1, "AVAILABILITY_SOMEDAY")


def test_instance_types_answer_refuses_a_cost_that_is_not_a_number() -> None:
    with pytest.raises(GridAPIError) as caught:
        parse_instance_types({"instanceTypes": [{"name": "g4dn.xlarge", "hourlyCost": "cheap"}]},
                             cluster_id="a")
    assert "'hourlyCost' as a string, not a number (instance types of 'a', 'g4dn.xlarge')" \
        in caught.value.message


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
