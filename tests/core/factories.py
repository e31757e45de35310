"""Small builders of desired clusters, live clusters and states for the core tests."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from reconciler.live import wire
from reconciler.model import (
    PHASE_RUNNING,
    PROFILE_DEFAULT,
    TYPE_BYOC,
    DesiredCluster,
    DesiredState,
    InstanceSpec,
    InventoryEntry,
    LiveCluster,
    SecretRef,
    SourceLocation,
    State,
)

ROLE_ARN = "arn:aws:iam::123456789012:role/grid-byoc"
EXTERNAL_ID_ENV = "GRID_EXTERNAL_ID_TEST"
#: Server-set fields a real Grid answer carries beside the ones gridops manages.
SERVER_FIELDS: dict[str, Any] = {"userId": "u-123", "gridletVersion": "0.9.1",
                                 "costFactor": "1.2", "paddingFactor": "0.1"}
SERVER_AWS_FIELDS: dict[str, Any] = {"bucketName": "grid-bucket-abc",
                                     "kubernetesVersion": "1.28"}


def desired_cluster(name: str = "research-use1", **overrides: Any) -> DesiredCluster:
    cluster = DesiredCluster(
        name=name, region="us-east-1", role_arn=ROLE_ARN,
        external_id=SecretRef(kind="fromEnv", params=(("name", EXTERNAL_ID_ENV),)),
        performance_profile=PROFILE_DEFAULT,
        instance_types=(InstanceSpec("t3.large"),
                        InstanceSpec("g4dn.xlarge", overprovisioned_on_demand=1,
                                     root_volume_gib=200)),
        source=SourceLocation(f"clusters/{name}.yaml", 1),
    )
    return replace(cluster, **overrides)


def desired_state(*clusters: DesiredCluster, git_sha: str | None = "a" * 40) -> DesiredState:
    return DesiredState(clusters={c.name: c for c in clusters}, git_sha=git_sha)


def live_spec(c: DesiredCluster, *, external_id: str | None = "ext-secret-1") -> dict[str, Any]:
    """What Grid would answer for ``c``: zero values omitted, server fields added."""
    spec = copy.deepcopy(wire.to_wire_spec(c))
    spec.update(SERVER_FIELDS)
    aws = spec["driver"]["kubernetes"]["aws"]
    for item in aws["instanceTypes"]:
        if item["overprovisionedOndemandCount"] == 0:
            del item["overprovisionedOndemandCount"]
        item.setdefault("rootVolumeSize", 100)
    for key, value in SERVER_AWS_FIELDS.items():
        aws.setdefault(key, value)
    if external_id is not None:
        aws["externalId"] = external_id
    return spec


def live_cluster(name: str = "research-use1", *, spec: dict[str, Any] | None = None,
                 phase: str = PHASE_RUNNING, desired_state: str = PHASE_RUNNING,
                 cluster_type: str = TYPE_BYOC, reason: str = "") -> LiveCluster:
    return LiveCluster(id=name, name=name, cluster_type=cluster_type, phase=phase,
                       desired_state=desired_state,
                       spec=spec if spec is not None else live_spec(desired_cluster(name)),
                       reason=reason)


def state_with(*names: str, protected: tuple[str, ...] = (),
               pending_delete: tuple[str, ...] = ()) -> State:
    return State(inventory={
        n: InventoryEntry(name=n, deletion_protection=n in protected,
                          pending_delete=n in pending_delete) for n in names})
