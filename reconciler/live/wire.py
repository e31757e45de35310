"""Desired clusters <-> Grid's wire ClusterSpec, and the comparable view of either.

Pure functions. ``to_wire_spec`` maps a document to the camelCase ClusterSpec Grid takes, with
every secret left out (``secret_paths`` carries them as references). ``managed_view`` projects a
spec, desired or live, onto the fields the repository manages, undoing protobuf JSON's habit
of omitting zero values, so that equal clusters give equal views. ``merge_for_update`` is the
read-modify-write of an update; ``live_fingerprint`` summarises what a plan saw.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from reconciler.live.codec import MAPPINGS, read_int
from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_RUNNING,
    PROFILE_UNSPECIFIED,
    TYPE_BYOC,
    DesiredCluster,
    InstanceSpec,
    LiveCluster,
    SecretRef,
)

AWS_PATH = ("driver", "kubernetes", "aws")
EXTERNAL_ID_PATH = "driver.kubernetes.aws.externalId"
#: The AWS driver keys every document manages (externalId is a secret, compared apart).
CORE_AWS_KEYS = ("region", "roleArn", "instanceTypes")
SECRET_AWS_KEYS = frozenset({"externalId"})
#: ``driver.kubernetes`` keys holding secrets (a kubeconfig carries credentials).
SECRET_KUBERNETES_KEYS = frozenset({"kubeconfig"})

_INT_FIELDS = frozenset({
    "xMultiAzCount", "abortIncompleteDatastoreNumDays",
    "datastoreTransitionToIntelligentTieringNumDays",
    "experimentTransitionToIntelligentTieringNumDays",
    "overprovisionedOndemandCount", "rootVolumeSize",
})
_BOOL_FIELDS = frozenset({
    "guarddutyIntegration", "enableDnsFirewall", "fsxEnabled", "internalTestCluster",
    "enableDatastoreTransitionToIntelligentTiering",
    "enableExperimentTransitionToIntelligentTiering",
})
_LIST_FIELDS = frozenset({"azSkipIds", "instanceTypes"})
#: Keys the AWS driver spec knows as strings (grid-api.md); an omitted one means "".
_STRING_FIELDS = frozenset({
    "region", "roleArn", "externalId", "bucketName", "kubernetesVersion",
    "builderAmiNameOverride", "builderAmiOverride", "bastionAmiOverride", "cpuAmiOverride",
    "gpuAmiOverride", "managementNodeInstanceType", "builderNodeInstanceType",
    "tensorboardNodeInstanceType", "originalClusterName", "internalGcTtl",
})


# --- desired -> wire --------------------------------------------------------------------------

def to_wire_spec(c: DesiredCluster) -> dict[str, Any]:
    """The ClusterSpec to send for ``c``, without its secret fields."""
    aws: dict[str, Any] = {key: copy.deepcopy(value) for key, value in c.aws_extra}
    aws.update(region=c.region, roleArn=c.role_arn,
               instanceTypes=[_instance_to_wire(i) for i in c.instance_types])
    kubernetes: dict[str, Any] = {key: copy.deepcopy(value) for key, value in c.kubernetes_extra}
    return {
        "clusterType": TYPE_BYOC,
        "desiredState": PHASE_RUNNING,
        "performanceProfile": c.performance_profile,
        "driver": {"kubernetes": {**kubernetes, "aws": aws}},
    }


def _instance_to_wire(i: InstanceSpec) -> dict[str, Any]:
    wire: dict[str, Any] = {"name": i.name, "overprovisionedOndemandCount":
                            i.overprovisioned_on_demand}
    if i.root_volume_gib is not None:
        wire["rootVolumeSize"] = i.root_volume_gib
    return wire


def secret_paths(c: DesiredCluster) -> dict[str, SecretRef]:
    """Each secret field's wire path and the reference that holds its value."""
    return {EXTERNAL_ID_PATH: c.external_id, **dict(c.extra_secrets)}


def managed_aws_keys(c: DesiredCluster) -> tuple[str, ...]:
    """The AWS driver keys ``c`` manages: the core ones plus the extras it sets."""
    extras = sorted(key for key, _ in c.aws_extra if key not in CORE_AWS_KEYS)
    return (*CORE_AWS_KEYS, *extras)


def managed_kubernetes_keys(c: DesiredCluster) -> tuple[str, ...]:
    """The ``driver.kubernetes`` keys beside ``aws`` that ``c`` manages (a self-managed
    cluster's output may set them), secrets left out."""
    return tuple(sorted(key for key, _ in c.kubernetes_extra))


def kubernetes_of(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """``spec.driver.kubernetes``, or an empty mapping when any level is missing."""
    node: Any = spec
    for key in AWS_PATH[:-1]:
        node = node.get(key) if isinstance(node, MAPPINGS) else None
    return node if isinstance(node, MAPPINGS) else {}


def value_at(spec: Mapping[str, Any], path: str) -> Any:
    """The value at the dotted wire ``path`` of ``spec``, or None."""
    node: Any = spec
    for key in path.split("."):
        node = node.get(key) if isinstance(node, MAPPINGS) else None
    return node


def aws_of(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """``spec.driver.kubernetes.aws``, or an empty mapping when any level is missing."""
    node: Any = spec
    for key in AWS_PATH:
        node = node.get(key) if isinstance(node, MAPPINGS) else None
    return node if isinstance(node, MAPPINGS) else {}


# --- the managed view -------------------------------------------------------------------------

def managed_view(spec: Mapping[str, Any], managed_aws_keys: Collection[str],
                 kubernetes_keys: Collection[str] = ()) -> dict[str, Any]:
    """The fields the repository manages, with protobuf omissions filled by zero values.

    Instance types become a mapping keyed by name (order never matters); ``rootVolumeSize``
    appears only when set. Secret fields and server-set fields are left out.
    ``kubernetes_keys`` are the ``driver.kubernetes`` fields beside ``aws`` to compare.
    """
    aws = aws_of(spec)
    keys = sorted((set(CORE_AWS_KEYS) | set(managed_aws_keys)) - SECRET_AWS_KEYS)
    view_aws = {key: _normalise(key, aws.get(key)) for key in keys}
    view_aws["instanceTypes"] = _instances_view(aws.get("instanceTypes"))
    profile = spec.get("performanceProfile") or PROFILE_UNSPECIFIED
    kubernetes = kubernetes_of(spec)
    view_kubernetes = {key: _zero_if_absent(kubernetes.get(key)) for key in kubernetes_keys}
    return {"performanceProfile": profile,
            "driver": {"kubernetes": {**view_kubernetes, "aws": view_aws}}}


def _zero_if_absent(value: Any) -> Any:
    # protobuf JSON leaves out a false, empty or zero field: compare it as absent
    return None if value in (None, "", False, 0, [], {}) else copy.deepcopy(value)


def comparable_views(desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any],
                     managed_aws_keys: Collection[str], kubernetes_keys: Collection[str] = ()
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both views, with the live ``rootVolumeSize`` dropped wherever the desired leaves it to
    Grid (the server fills in its own default there)."""
    desired = managed_view(desired_spec, managed_aws_keys, kubernetes_keys)
    live = managed_view(live_spec, managed_aws_keys, kubernetes_keys)
    desired_types = desired["driver"]["kubernetes"]["aws"]["instanceTypes"]
    for name, entry in live["driver"]["kubernetes"]["aws"]["instanceTypes"].items():
        if name in desired_types and "rootVolumeSize" not in desired_types[name]:
            entry.pop("rootVolumeSize", None)
    return desired, live


def matches_sent(sent: Mapping[str, Any], live_spec: Mapping[str, Any]) -> bool:
    """True when a live spec holds exactly the managed view ``sent`` (from ``managed_view``)
    in every field it manages; a ``rootVolumeSize`` the sender left to Grid is not compared."""
    aws = sent.get("driver", {}).get("kubernetes", {}).get("aws", {})
    live = managed_view(live_spec, list(aws))
    sent_types = aws.get("instanceTypes", {})
    for name, entry in live["driver"]["kubernetes"]["aws"]["instanceTypes"].items():
        if name in sent_types and "rootVolumeSize" not in sent_types[name]:
            entry.pop("rootVolumeSize", None)
    return live == sent


def _instances_view(value: Any) -> dict[str, dict[str, Any]]:
    view: dict[str, dict[str, Any]] = {}
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, MAPPINGS) or not item.get("name"):
            continue
        count = _as_int(item.get("overprovisionedOndemandCount"))
        entry = {"overprovisionedOndemandCount": count}
        root = _normalise("rootVolumeSize", item.get("rootVolumeSize"))
        if root:
            entry["rootVolumeSize"] = root
        view[str(item["name"])] = entry
    return view


def _normalise(key: str, value: Any) -> Any:
    """The value protobuf JSON means: an omitted field is its type's zero value."""
    if key in _INT_FIELDS:
        return _as_int(value)
    if key in _BOOL_FIELDS:
        return bool(value)
    if key in _LIST_FIELDS:
        return list(value) if isinstance(value, list) else []
    if key in _STRING_FIELDS:
        return "" if value is None else value
    return copy.deepcopy(value)


def _as_int(value: Any) -> Any:
    # protobuf JSON writes 64-bit integers as strings; the codec refused anything else
    if value is None:
        return 0
    number = read_int(value)
    return value if number is None else number


# --- update -----------------------------------------------------------------------------------

def merge_for_update(live_spec: Mapping[str, Any], desired_spec: Mapping[str, Any],
                     managed_aws_keys: Collection[str],
                     secrets: Mapping[str, str],
                     kubernetes_keys: Collection[str] = ()) -> dict[str, Any]:
    """The whole spec to PUT: the live one with the managed fields replaced and the resolved
    secrets placed at their paths. Fields the server set are kept as they are."""
    merged = copy.deepcopy(dict(live_spec))
    merged["performanceProfile"] = desired_spec.get("performanceProfile", PROFILE_UNSPECIFIED)
    kubernetes = _ensure_path(merged, AWS_PATH[:-1])
    desired_kubernetes = kubernetes_of(desired_spec)
    for key in kubernetes_keys:
        if key in desired_kubernetes:
            kubernetes[key] = copy.deepcopy(desired_kubernetes[key])
        else:
            kubernetes.pop(key, None)
    live_aws = aws_of(live_spec)
    aws = _ensure_path(merged, AWS_PATH)
    desired_aws = aws_of(desired_spec)
    for key in set(CORE_AWS_KEYS) | set(managed_aws_keys):
        if key in desired_aws:
            aws[key] = copy.deepcopy(desired_aws[key])
        else:
            aws.pop(key, None)
    aws["instanceTypes"] = _merge_instances(live_aws.get("instanceTypes"),
                                            desired_aws.get("instanceTypes", []))
    return put_secrets(merged, secrets)


def _merge_instances(live: Any, desired: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Desired instance types, each keeping the live fields it does not set (rootVolumeSize)."""
    by_name = {i.get("name"): i for i in live if isinstance(i, Mapping)} \
        if isinstance(live, list) else {}
    return [{**copy.deepcopy(dict(by_name.get(d.get("name"), {}))), **copy.deepcopy(dict(d))}
            for d in desired]


def put_secrets(spec: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    """``spec`` with each resolved secret value at its dotted path; ``spec`` is left as it
    was. Only the mappings on those paths are new: the rest is shared with ``spec``, since
    what is sent is only encoded, and a deep copy of every spec cost a tenth of a create."""
    placed = dict(spec)
    for path, value in secrets.items():
        *parents, leaf = path.split(".")
        node = placed
        for key in parents:
            child = node.get(key)
            node[key] = child = dict(child) if isinstance(child, Mapping) else {}
            node = child
        node[leaf] = value
    return placed


def _ensure_path(spec: dict[str, Any], path: Sequence[str]) -> dict[str, Any]:
    node = spec
    for key in path:
        child = node.get(key)
        if not isinstance(child, dict):
            child = dict(child) if isinstance(child, Mapping) else {}
            node[key] = child
        node = child
    return node


# --- fingerprint ------------------------------------------------------------------------------

def live_fingerprint(live: Sequence[LiveCluster]) -> str:
    """sha256 of what a plan saw of the BYOC clusters: identity, lifecycle, the performance
    profile and every ``driver.kubernetes`` field (the AWS driver's too) except the secrets,
    as Grid wrote them. (As written rather than normalised: a Grid that wrote the same
    spec differently would make a saved plan stale, which is the safe side, and hashing
    the answer as it came costs half as much as building each cluster's view again.)

    The phase counts only as far as it can make a saved plan wrong: a cluster moving on from
    QUEUED or PENDING to RUNNING (which takes minutes and changes nothing the plan would send)
    leaves the fingerprint alone; turning FAILED or DELETED, or being asked to delete, does not.
    """
    rows = [
        {"name": c.name, "id": c.id, "phase": _phase_class(c.phase),
         "desiredState": c.desired_state,
         "performanceProfile": c.spec.get("performanceProfile") or PROFILE_UNSPECIFIED,
         "kubernetes": {key: value for key, value in kubernetes_of(c.spec).items()
                        if key != "aws" and key not in SECRET_KUBERNETES_KEYS},
         "aws": {key: value for key, value in aws_of(c.spec).items()
                 if key not in SECRET_AWS_KEYS}}
        for c in sorted(live, key=lambda c: c.name) if c.is_byoc or c.unknown
    ]
    canonical = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _phase_class(phase: str) -> str:
    return phase if phase in (PHASE_FAILED, PHASE_DELETED) else "active"
