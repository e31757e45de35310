from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.sim.specs import SpecError, check_spec, decode_spec, with_server_fields
from tests.sim_fixtures import byoc_spec


def _set(path: str, value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(byoc_spec())
    *parents, last = path.split(".")
    target = spec
    for key in parents:
        target = target[key]
    target[last] = value
    return spec


AWS = "driver.kubernetes.aws"


def test_zero_values_are_dropped_like_protobuf_json() -> None:
    spec = _set(AWS, {"region": "us-east-1", "roleArn": "r", "externalId": "e", "bucketName": "",
                      "fsxEnabled": False, "xMultiAzCount": 0, "azSkipIds": [],
                      "instanceTypes": [{"name": "t3.large", "rootVolumeSize": "200",
                                         "overprovisionedOndemandCount": 0}]})
    spec["pauseAutomation"] = None
    decoded = decode_spec(spec)
    assert decoded["driver"]["kubernetes"]["aws"] == {
        "region": "us-east-1", "roleArn": "r", "externalId": "e",
        "instanceTypes": [{"name": "t3.large", "rootVolumeSize": 200}]}
    assert "pauseAutomation" not in decoded


@pytest.mark.parametrize(("spec", "expected"), [
    (_set("colour", "blue"), "unknown field 'colour' in spec"),
    (_set(f"{AWS}.instance_types", []), r"instanceTypes is given twice \(as 'instanceTypes' "
                                        r"and 'instance_types'\)"),
    (_set(f"{AWS}.instanceTypesX", []), "unknown field 'instanceTypesX' in spec.driver"),
    (_set("performanceProfile", "TURBO"), "spec.performanceProfile: unknown value 'TURBO'"),
    (_set(f"{AWS}.fsxEnabled", "yes"), "fsxEnabled must be a boolean"),
    (_set(f"{AWS}.xMultiAzCount", -1), "must not be negative"),
    (_set(f"{AWS}.instanceTypes", {"name": "t3.large"}), "instanceTypes must be a list"),
    (_set("driver.kubernetes.extraGridletEnvVar", {"A": 1}), "must be an object of strings"),
], ids=["unknown-field", "both-spellings", "unknown-nested-field", "unknown-enum",
        "wrong-type", "negative-int", "list-not-list", "map-of-non-strings"])
def test_decoding_refuses_what_grpc_gateway_would(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(SpecError, match=expected):
        decode_spec(spec)


def test_each_nested_field_is_taken_under_its_json_or_its_proto_name() -> None:
    json_named = _set("driver.kubernetes", {
        "aws": {"region": "us-east-1", "roleArn": "r", "externalId": "e", "xMultiAzCount": 2,
                "instanceTypes": [{"name": "t3.large", "overprovisionedOndemandCount": 1,
                                   "rootVolumeSize": 100}]},
        "gridletResources": {"cpuLimits": "2", "memoryRequest": "1Gi"},
        "extraGridletEnvVar": {"SOME_VAR": "x"}})
    proto_named = _set("driver.kubernetes", {
        "aws": {"region": "us-east-1", "role_arn": "r", "externalId": "e", "x_multi_az_count": 2,
                "instance_types": [{"name": "t3.large", "overprovisioned_ondemand_count": 1,
                                    "rootVolumeSize": 100}]},
        "gridlet_resources": {"cpu_limits": "2", "memoryRequest": "1Gi"},
        "extra_gridlet_env_var": {"SOME_VAR": "x"}})
    proto_named["performance_profile"] = proto_named.pop("performanceProfile")
    assert decode_spec(proto_named) == decode_spec(json_named)
    assert list(decode_spec(proto_named)["driver"]["kubernetes"]) == [
        "aws", "gridletResources", "extraGridletEnvVar"]


@pytest.mark.parametrize(("spec", "expected"), [
    (_set(f"{AWS}.instanceTypes", [{"name": "t3.large", "root_volume_size": 1,
                                    "rootVolumeSize": 1}]),
     r"aws.instanceTypes\[0\].rootVolumeSize is given twice \(as 'root_volume_size' and "
     r"'rootVolumeSize'\)"),
    (_set("driver.kubernetes.gridletResources", {"cpuLimits": "1", "cpu_limits": "2"}),
     r"gridletResources.cpuLimits is given twice \(as 'cpuLimits' and 'cpu_limits'\)"),
    (_set("driver.kubernetes.fsx_enabled", True),
     "unknown field 'fsx_enabled' in spec.driver.kubernetes$"),
    (_set(f"{AWS}.cpu_limits", "1"), "unknown field 'cpu_limits' in spec.driver.kubernetes.aws$"),
    (_set("driver.slurm", {"name": "x"}), "unknown field 'name' in spec.driver.slurm$"),
], ids=["both-spellings-in-a-list-item", "both-spellings-two-levels-down",
        "another-message-s-field", "another-message-s-proto-name", "a-message-with-no-fields"])
def test_each_message_takes_only_its_own_fields_once(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(SpecError, match=expected):
        decode_spec(spec)


@pytest.mark.parametrize(("name", "spec", "expected"), [
    ("ok_name", byoc_spec(), "contains '_'"),
    ("-lead", byoc_spec(), "is not valid"),
    ("arm", byoc_spec(instance_types=("t4g.large",)), "'t4g.large' is arm64"),
    ("dup", byoc_spec(instance_types=("t3.large", "t3.large")), "listed twice"),
    ("zone", byoc_spec(region="eu-west-1b"), "availability zone"),
    ("noaws", {"driver": {"kubernetes": {}}}, "aws is required"),
    ("norole", _set(f"{AWS}.roleArn", ""), "roleArn is required"),
    ("noext", _set(f"{AWS}.externalId", ""), "externalId is required"),
    ("global", _set("clusterType", "CLUSTER_TYPE_GLOBAL"), "only CLUSTER_TYPE_BYOC"),
    ("deleted", _set("desiredState", "CLUSTER_STATE_DELETED"), "delete a cluster with DELETE"),
], ids=["underscore", "leading-dash", "arm64", "duplicate-type", "zone", "no-aws", "no-role",
        "no-external-id", "global-type", "desired-deleted"])
def test_grid_rules_refuse_bad_clusters(name: str, spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(SpecError, match=expected):
        check_spec(name, decode_spec(spec))


def test_server_fields_are_filled_on_create_and_kept_on_update() -> None:
    created = with_server_fields(decode_spec(byoc_spec()), user_id="alice")
    assert {k: created[k] for k in ("userId", "gridletVersion", "costFactor")} == {
        "userId": "alice", "gridletVersion": "0.8.81", "costFactor": "1.0"}
    edited = with_server_fields({**decode_spec(byoc_spec()), "costFactor": "2.5"},
                                user_id="bob", previous={**created, "gridletVersion": "0.9.0"})
    assert (edited["userId"], edited["gridletVersion"], edited["costFactor"]) == (
        "alice", "0.9.0", "2.5")
