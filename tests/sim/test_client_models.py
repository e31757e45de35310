"""The emulator against the Grid client's own models (lightning-grid 0.8.81), read from the
vendored field lists in ``data/grid_client_models.json`` (made by ``derive_client_models.py``;
the package itself is never used here).

A create whose body sets every field of ``V1ClusterSpec`` and below, in the JSON names or in
the proto names, round-trips; every answer uses only the models' JSON names, with values of
the models' types; a RUNNING cluster's status fills the status models."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.model import PHASE_RUNNING
from reconciler.sim.server import SimServer
from tests.sim_fixtures import SIM_API_KEY, SIM_USER_ID, sim_server_fixture

MODELS_FILE = Path(__file__).parent / "data" / "grid_client_models.json"
AUTH = (SIM_USER_ID, SIM_API_KEY)
CLUSTERS = "/v1/core/clusters"
_NESTED = re.compile(r"^(?:list\[(?P<item>.+)\]|dict\(str, (?P<value>.+)\))$")
#: values Grid's rules constrain, by (model, field); any other field gets a plain value
_CHOSEN: dict[tuple[str, str], Any] = {
    ("V1ClusterSpec", "cluster_type"): "CLUSTER_TYPE_BYOC",
    ("V1ClusterSpec", "desired_state"): "CLUSTER_STATE_RUNNING",
    ("V1ClusterSpec", "user_id"): SIM_USER_ID,
    ("V1AWSClusterDriverSpec", "region"): "eu-west-1",
    ("V1AWSClusterDriverSpec", "role_arn"): "arn:aws:iam::123456789012:role/grid-all-fields",
    ("V1InstanceSpec", "name"): "g4dn.xlarge",
    ("ProtobufAny", "value"): "AAECAw==",
}
all_fields_sim = sim_server_fixture("all_fields_sim", create_seconds=0.2)


@functools.cache
def _catalogue() -> dict[str, Any]:
    return dict(json.loads(MODELS_FILE.read_text()))


def _models() -> dict[str, dict[str, dict[str, str]]]:
    return dict(_catalogue()["models"])


def _enums() -> dict[str, list[str]]:
    return dict(_catalogue()["enums"])


def _value(model: str, attr: str, type_text: str) -> Any:
    if (model, attr) in _CHOSEN:
        return _CHOSEN[(model, attr)]
    nested = _NESTED.match(type_text)
    if nested and nested["item"]:
        return [_value(model, attr, nested["item"])]
    if nested:
        return {"EXTRA_VAR": _value(model, attr, nested["value"])}
    if type_text in _enums():
        return _enums()[type_text][-1]  # never *_UNSPECIFIED, which is dropped as zero
    if type_text in _models():
        return _every_field(type_text)
    return {"str": f"{attr}-value", "bool": True, "int": 3}[type_text]


def _every_field(model: str) -> dict[str, Any]:
    """A body for ``model`` that sets each of its fields, under their JSON names."""
    return {f["json"]: _value(model, attr, f["type"]) for attr, f in _models()[model].items()}


def _proto_named(model: str, value: Any) -> Any:
    """The same body under the proto names (the Python attributes), as the CLI sends
    values it did not model; map keys stay as they are."""
    fields = _models()[model]
    renamed: dict[str, Any] = {}
    for attr, f in fields.items():
        if f["json"] not in value:
            continue
        item, type_text = value[f["json"]], f["type"]
        nested = _NESTED.match(type_text)
        if nested and nested["item"] in _models():
            item = [_proto_named(nested["item"], v) for v in item]
        elif type_text in _models():
            item = _proto_named(type_text, item)
        renamed[attr] = item
    return renamed


def _check_conforms(value: Any, type_text: str, path: str) -> None:
    """``value`` as the client deserialises ``type_text``: known JSON names only, each of
    its type."""
    nested = _NESTED.match(type_text)
    if nested:
        container = list if nested["item"] else dict
        assert isinstance(value, container), f"{path}: not a {container.__name__}"
        items = value if nested["item"] else list(value.values())
        for i, item in enumerate(items):
            _check_conforms(item, nested["item"] or nested["value"], f"{path}[{i}]")
    elif type_text == "ProtobufAny" and isinstance(value, dict) and "@type" in value:
        assert isinstance(value["@type"], str), path  # grpc-gateway writes an Any inline
    elif type_text in _models():
        assert isinstance(value, dict), f"{path}: not an object"
        names = {f["json"]: f["type"] for f in _models()[type_text].values()}
        unknown = sorted(set(value) - set(names))
        assert not unknown, f"{path}: {unknown} are not fields of {type_text}"
        for key, item in value.items():
            _check_conforms(item, names[key], f"{path}.{key}")
    elif type_text in _enums():
        assert value in _enums()[type_text], f"{path}: {value!r} is not a {type_text}"
    elif type_text == "datetime":
        datetime.fromisoformat(value)
    else:
        expected = {"str": str, "bool": bool, "int": int, "float": (int, float)}[type_text]
        assert isinstance(value, expected) and not (
            type_text in ("int", "float") and isinstance(value, bool)), f"{path}: {value!r}"


def _call(server: SimServer, method: str, path: str, *, body: Any = None,
          auth: Any = AUTH) -> httpx.Response:
    with httpx.Client() as http:
        return http.request(method, server.url + path, json=body, auth=auth)


def _wait_until_running(server: SimServer, name: str) -> dict[str, Any]:
    for _ in range(200):
        cluster = _call(server, "GET", f"{CLUSTERS}/{name}").json()
        if cluster["status"]["phase"] == PHASE_RUNNING:
            return dict(cluster)
    raise AssertionError(f"{name} never turned RUNNING")


@pytest.fixture
def full_body() -> dict[str, Any]:
    return _every_field("V1CreateClusterRequest") | {"name": "all-fields"}


def test_the_vendored_field_lists_are_the_client_package_s() -> None:
    catalogue = _catalogue()
    assert (catalogue["package"], catalogue["version"]) == ("lightning-grid", "0.8.81")
    kubernetes = {f["json"] for f in _models()["V1KubernetesClusterDriver"].values()}
    assert {"aws", "azure", "gridletResources", "kubeconfig"} <= kubernetes
    assert len(_models()["V1AWSClusterDriverSpec"]) == 27
    assert "CLUSTER_STATE_FAILED" in _enums()["V1ClusterState"]


def test_a_body_with_every_field_covers_every_spec_model(full_body: dict[str, Any]) -> None:
    seen: set[str] = set()

    def walk(value: Any, type_text: str) -> None:
        nested = _NESTED.match(type_text)
        if nested and nested["item"]:
            for item in value:
                walk(item, nested["item"])
        elif type_text in _models():
            seen.add(type_text)
            assert set(value) == {f["json"] for f in _models()[type_text].values()}
            for f in _models()[type_text].values():
                walk(value[f["json"]], f["type"])

    walk(full_body, "V1CreateClusterRequest")
    assert {"V1ClusterSpec", "V1AzureClusterDriverSpec", "V1ContainerResources",
            "V1ExternalKubeconfig", "ProtobufAny", "V1SlurmClusterDriver"} <= seen


@pytest.mark.parametrize("spelling", ["json-names", "proto-names"])
def test_a_create_setting_every_field_round_trips(all_fields_sim: SimServer,
                                                  full_body: dict[str, Any],
                                                  spelling: str) -> None:
    body = full_body if spelling == "json-names" else _proto_named("V1CreateClusterRequest",
                                                                    full_body)
    created = _call(all_fields_sim, "POST", CLUSTERS, body=body)
    assert created.status_code == 200, created.text
    got = _call(all_fields_sim, "GET", f"{CLUSTERS}/all-fields").json()
    assert got["spec"] == full_body["spec"]
    _check_conforms(created.json(), "V1CreateClusterResponse", "create")
    _check_conforms(got, "V1GetClusterResponse", "get")


def test_every_answer_uses_the_models_names_and_types(all_fields_sim: SimServer,
                                                      full_body: dict[str, Any]) -> None:
    _call(all_fields_sim, "POST", CLUSTERS, body=full_body)
    running = _wait_until_running(all_fields_sim, "all-fields")
    answers: list[tuple[httpx.Response, str]] = [
        (_call(all_fields_sim, "GET", CLUSTERS), "V1ListClustersResponse"),
        (_call(all_fields_sim, "PUT", f"{CLUSTERS}/all-fields",
               body={"name": "all-fields", "spec": running["spec"]}), "V1UpdateClusterResponse"),
        (_call(all_fields_sim, "GET", f"{CLUSTERS}/all-fields/instance-types"),
         "V1ListClusterInstanceTypesResponse"),
        (_call(all_fields_sim, "GET", f"{CLUSTERS}/all-fields/cloud-provider-id"),
         "V1GetClusterCloudProviderAccountIDResponse"),
        (_call(all_fields_sim, "POST", "/v1/auth/login", auth=None,
               body={"username": SIM_USER_ID, "apiKey": SIM_API_KEY}), "V1LoginResponse"),
        (_call(all_fields_sim, "GET", "/v1/auth/user"), "V1GetUserResponse"),
        (_call(all_fields_sim, "GET", f"{CLUSTERS}/missing"), "RpcStatus"),
        (_call(all_fields_sim, "DELETE", f"{CLUSTERS}/all-fields?force=False"),
         "V1DeleteClusterResponse"),
    ]
    for answer, model in answers:
        assert answer.status_code == (404 if model == "RpcStatus" else 200), answer.text
        _check_conforms(answer.json(), model, model)
        # each answer sets every field its model has (DeleteCluster's has none), except
        # what the emulator cannot know about the user, and the API key it never answers
        unknown = {"apiKey", "email", "firstName", "lastName", "pictureUrl"}
        assert set(answer.json()) == {f["json"] for f in _models()[model].values()} - (
            unknown if model == "V1GetUserResponse" else set()), model


def test_a_running_cluster_fills_the_status_models(all_fields_sim: SimServer,
                                                   full_body: dict[str, Any]) -> None:
    _call(all_fields_sim, "POST", CLUSTERS, body=full_body)
    status = _wait_until_running(all_fields_sim, "all-fields")["status"]
    _check_conforms(status, "V1ClusterStatus", "status")
    names = {f["json"] for f in _models()["V1ClusterStatus"].values()}
    assert set(status) == names - {"reason"}  # not FAILED: no reason
    eks = status["driverStatus"]["kubernetes"]["eks"]
    assert set(eks) == {f["json"] for f in _models()["V1EKSCusterDriverStatus"].values()}


def test_a_field_the_models_do_not_have_is_refused(all_fields_sim: SimServer,
                                                   full_body: dict[str, Any]) -> None:
    full_body["spec"]["driver"]["kubernetes"]["gridletResources"]["gpuRequest"] = "1"
    answer = _call(all_fields_sim, "POST", CLUSTERS, body=full_body)
    assert answer.status_code == 400
    assert "unknown field 'gpuRequest' in spec.driver.kubernetes.gridletResources" in \
        answer.json()["message"]


@pytest.fixture(autouse=True)
def _no_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The field lists come from the vendored JSON only: importing the package fails."""
    import sys
    monkeypatch.setitem(sys.modules, "grid", None)
    yield
