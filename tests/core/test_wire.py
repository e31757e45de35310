from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from reconciler.live import wire
from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_PENDING,
    PHASE_QUEUED,
    PHASE_RUNNING,
    PROFILE_COST_SAVING,
    PROFILE_UNSPECIFIED,
    TYPE_GLOBAL,
    InstanceSpec,
)
from tests.core.factories import (
    ROLE_ARN,
    SERVER_AWS_FIELDS,
    SERVER_FIELDS,
    desired_cluster,
    live_cluster,
    live_spec,
)

CORE_KEYS = wire.CORE_AWS_KEYS


def test_wire_spec_maps_every_document_field_to_camel_case() -> None:
    c = desired_cluster(aws_extra=(("kubernetesVersion", "1.29"), ("guarddutyIntegration", False)))
    assert wire.to_wire_spec(c) == {
        "clusterType": "CLUSTER_TYPE_BYOC",
        "desiredState": "CLUSTER_STATE_RUNNING",
        "performanceProfile": "CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
        "driver": {"kubernetes": {"aws": {
            "region": "us-east-1", "roleArn": ROLE_ARN,
            "instanceTypes": [
                {"name": "t3.large", "overprovisionedOndemandCount": 0},
                {"name": "g4dn.xlarge", "overprovisionedOndemandCount": 1, "rootVolumeSize": 200},
            ],
            "kubernetesVersion": "1.29", "guarddutyIntegration": False,
        }}},
    }


def test_wire_spec_never_holds_the_external_id() -> None:
    c = desired_cluster()
    assert "externalId" not in json.dumps(wire.to_wire_spec(c))
    assert wire.secret_paths(c) == {"driver.kubernetes.aws.externalId": c.external_id}


def test_managed_keys_are_the_core_keys_and_the_extras_the_document_sets() -> None:
    c = desired_cluster(aws_extra=(("fsxEnabled", True), ("azSkipIds", ["use1-az3"])))
    assert wire.managed_aws_keys(c) == (*CORE_KEYS, "azSkipIds", "fsxEnabled")


def _aws_spec(profile: str | None = None, **aws: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"driver": {"kubernetes": {"aws": aws}}}
    if profile is not None:
        spec["performanceProfile"] = profile
    return spec


@pytest.mark.parametrize(("omitted", "explicit", "keys"), [
    (_aws_spec(), _aws_spec(PROFILE_UNSPECIFIED), CORE_KEYS),
    (_aws_spec(instanceTypes=[{"name": "t3.large"}]),
     _aws_spec(instanceTypes=[{"name": "t3.large", "overprovisionedOndemandCount": 0}]), CORE_KEYS),
    (_aws_spec(), _aws_spec(guarddutyIntegration=False), ("guarddutyIntegration",)),
    (_aws_spec(), _aws_spec(xMultiAzCount=0), ("xMultiAzCount",)),
    (_aws_spec(), _aws_spec(azSkipIds=[]), ("azSkipIds",)),
    (_aws_spec(), _aws_spec(kubernetesVersion=""), ("kubernetesVersion",)),
    (_aws_spec(), _aws_spec(region="", roleArn="", instanceTypes=[]), CORE_KEYS),
    (_aws_spec(xMultiAzCount="2"), _aws_spec(xMultiAzCount=2), ("xMultiAzCount",)),
], ids=["profile", "int-in-instance", "bool", "int", "list", "string", "core-zero",
        "int64-as-string"])
def test_managed_view_reads_protobuf_omissions_as_zero_values(
        omitted: dict[str, Any], explicit: dict[str, Any], keys: tuple[str, ...]) -> None:
    assert wire.managed_view(omitted, keys) == wire.managed_view(explicit, keys)


def test_managed_view_ignores_server_set_fields() -> None:
    c = desired_cluster()
    desired_view, live_view = wire.comparable_views(wire.to_wire_spec(c), live_spec(c), CORE_KEYS)
    assert desired_view == live_view
    flat = json.dumps(live_view)
    for key in [*SERVER_FIELDS, *SERVER_AWS_FIELDS, "externalId"]:
        assert key not in flat


def test_managed_view_ignores_instance_type_order() -> None:
    spec = wire.to_wire_spec(desired_cluster())
    reordered = copy.deepcopy(spec)
    reordered["driver"]["kubernetes"]["aws"]["instanceTypes"].reverse()
    assert wire.managed_view(spec, CORE_KEYS) == wire.managed_view(reordered, CORE_KEYS)


def test_managed_view_includes_the_extras_it_is_asked_for() -> None:
    spec = _aws_spec(kubernetesVersion="1.29", bucketName="b")
    aws = wire.managed_view(spec, ("kubernetesVersion",))["driver"]["kubernetes"]["aws"]
    assert aws["kubernetesVersion"] == "1.29"
    assert "bucketName" not in aws


@pytest.mark.parametrize(("desired_root", "equal"), [(None, True), (100, True), (200, False)],
                         ids=["left-to-grid", "same", "different"])
def test_root_volume_is_compared_only_when_the_document_sets_it(desired_root: int | None,
                                                                equal: bool) -> None:
    c = desired_cluster(instance_types=(InstanceSpec("t3.large", root_volume_gib=desired_root),))
    live = live_spec(desired_cluster(instance_types=(InstanceSpec("t3.large",
                                                                  root_volume_gib=100),)))
    desired_view, live_view = wire.comparable_views(wire.to_wire_spec(c), live, CORE_KEYS)
    assert (desired_view == live_view) is equal


def test_merge_for_update_keeps_server_fields_and_replaces_managed_ones() -> None:
    live = live_spec(desired_cluster())
    target = desired_cluster(performance_profile=PROFILE_COST_SAVING,
                             instance_types=(InstanceSpec("g4dn.xlarge",
                                                          overprovisioned_on_demand=3),
                                             InstanceSpec("p3.2xlarge")))
    merged = wire.merge_for_update(live, wire.to_wire_spec(target), wire.managed_aws_keys(target),
                                   {wire.EXTERNAL_ID_PATH: "ext-new"})
    aws = merged["driver"]["kubernetes"]["aws"]
    assert {k: merged[k] for k in SERVER_FIELDS} == SERVER_FIELDS
    assert {k: aws[k] for k in SERVER_AWS_FIELDS} == SERVER_AWS_FIELDS
    assert merged["performanceProfile"] == PROFILE_COST_SAVING
    assert aws["externalId"] == "ext-new"
    assert aws["instanceTypes"] == [
        # the live root volume stays where the document leaves it to Grid
        {"name": "g4dn.xlarge", "overprovisionedOndemandCount": 3, "rootVolumeSize": 200},
        {"name": "p3.2xlarge", "overprovisionedOndemandCount": 0},
    ]


def test_merge_for_update_does_not_change_the_live_spec() -> None:
    live = live_spec(desired_cluster())
    before = copy.deepcopy(live)
    wire.merge_for_update(live, wire.to_wire_spec(desired_cluster(region="eu-west-1")),
                          CORE_KEYS, {wire.EXTERNAL_ID_PATH: "x"})
    assert live == before


def test_fingerprint_ignores_global_clusters_order_and_secrets() -> None:
    a, b = live_cluster("a"), live_cluster("b")
    other_secret = replace(a, spec=live_spec(desired_cluster("a"), external_id="other"))
    glob = live_cluster("grid-cloud-prod", cluster_type=TYPE_GLOBAL)
    assert wire.live_fingerprint([a, b]) == wire.live_fingerprint([b, glob, other_secret])


def test_fingerprint_ignores_a_create_moving_on_toward_running() -> None:
    queued = live_cluster("a", phase=PHASE_QUEUED)
    fingerprints = {wire.live_fingerprint([replace(queued, phase=p)])
                    for p in (PHASE_QUEUED, PHASE_PENDING, PHASE_RUNNING)}
    assert len(fingerprints) == 1


@pytest.mark.parametrize("change", [
    lambda c: replace(c, phase=PHASE_FAILED),
    lambda c: replace(c, desired_state=PHASE_DELETED),
    lambda c: replace(c, id="a-2"),
    lambda c: replace(c, spec=live_spec(desired_cluster(c.name, region="eu-west-1"))),
    lambda c: replace(c, spec={**c.spec, "driver": {"kubernetes": {"aws": {
        **wire.aws_of(c.spec), "kubernetesVersion": "1.30"}}}}),
], ids=["failed", "deleting", "recreated", "managed-field", "other-aws-field"])
def test_fingerprint_changes_with_what_the_plan_saw(change: Any) -> None:
    a = live_cluster("a")
    assert wire.live_fingerprint([a]) != wire.live_fingerprint([change(a)])


def test_secrets_are_placed_at_their_paths_and_the_spec_is_left_as_it_was() -> None:
    spec = {"driver": {"kubernetes": {"aws": {"region": "us-east-1",
                                              "instanceTypes": [{"name": "t3.large"}]}}},
            "performanceProfile": "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"}
    before = copy.deepcopy(spec)
    placed = wire.put_secrets(spec, {"driver.kubernetes.aws.externalId": "s3cret-value",
                                     "driver.kubernetes.aws.roleArn": "arn:aws:iam::1:role/r",
                                     "driver.new.token": "t0ken-value"})
    assert spec == before
    aws = placed["driver"]["kubernetes"]["aws"]
    assert aws == {**before["driver"]["kubernetes"]["aws"], "externalId": "s3cret-value",
                   "roleArn": "arn:aws:iam::1:role/r"}
    assert placed["driver"]["new"] == {"token": "t0ken-value"}
    assert placed["performanceProfile"] == before["performanceProfile"]
