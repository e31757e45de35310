"""The emulator's reading of a ClusterSpec: protobuf-JSON decoding against the message
shapes of the Grid client's models (``V1ClusterSpec`` and below, lightning-grid 0.8.81),
Grid's own rules on top, and the fields the server sets.

Decoding is strict like grpc-gateway's: an unknown field, a wrong type or an unknown enum
string is refused. Like any protobuf JSON parser it takes each field under its JSON name
(``gridletResources``) or its proto name (``gridlet_resources``), which is how the grid CLI
sends values it did not model; what is stored and answered is always the JSON name. Zero
values (``""``, ``0``, ``false``, ``[]``, an ``*_UNSPECIFIED`` enum, null) are dropped, so
answers omit them as protobuf JSON does.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model import (
    CLUSTER_STATES,
    CLUSTER_TYPES,
    PERFORMANCE_PROFILES,
    PHASE_RUNNING,
    TYPE_BYOC,
)
from reconciler.sources import rules

#: The fields a create fills in when the body leaves them out, and a PUT keeps.
GRIDLET_VERSION = "0.8.81"
SERVER_DEFAULTS: Mapping[str, str] = {"gridletVersion": GRIDLET_VERSION, "costFactor": "1.0",
                                      "paddingFactor": "0.2"}

# A field's shape: (kind, argument). Kinds: str, bool, int, bytes (base64 text), enum (values),
# msg (a Message), list (item shape), map (string to string).
Shape = tuple[str, Any]


@dataclass(frozen=True)
class Message:
    """A message's shape, with the spellings of its field names worked out once (not on
    every decode: a spec is decoded on each create and update)."""

    #: each field's shape, by JSON name
    fields: Mapping[str, Shape]
    #: the JSON name of each spelling a field is taken under: its JSON name, its proto name
    spellings: Mapping[str, str]


def proto_name(json_name: str) -> str:
    """The proto field name of a JSON name: ``xMultiAzCount`` -> ``x_multi_az_count``."""
    return _UPPER.sub(r"_\g<0>", json_name).lower()


_UPPER = re.compile(r"[A-Z]")


def _message(fields: Mapping[str, Shape]) -> Message:
    # a JSON name wins over another field's proto name spelled the same
    return Message(fields, {proto_name(k): k for k in fields} | {k: k for k in fields})


_STR: Shape = ("str", None)
_BOOL: Shape = ("bool", None)
_INT: Shape = ("int", None)
_BYTES: Shape = ("bytes", None)
_MAP: Shape = ("map", None)

_INSTANCE_SPEC = _message({"name": _STR, "overprovisionedOndemandCount": _INT,
                           "rootVolumeSize": _INT})
_AWS_STRINGS = ("region", "roleArn", "externalId", "bucketName", "kubernetesVersion",
                "builderAmiNameOverride", "builderAmiOverride", "bastionAmiOverride",
                "cpuAmiOverride", "gpuAmiOverride", "managementNodeInstanceType",
                "builderNodeInstanceType", "tensorboardNodeInstanceType", "originalClusterName",
                "internalGcTtl")
_AWS_BOOLS = ("guarddutyIntegration", "enableDnsFirewall", "fsxEnabled", "internalTestCluster",
              "enableDatastoreTransitionToIntelligentTiering",
              "enableExperimentTransitionToIntelligentTiering")
_AWS_INTS = ("xMultiAzCount", "abortIncompleteDatastoreNumDays",
             "datastoreTransitionToIntelligentTieringNumDays",
             "experimentTransitionToIntelligentTieringNumDays")
_AWS = _message({
    **{k: _STR for k in _AWS_STRINGS}, **{k: _BOOL for k in _AWS_BOOLS},
    **{k: _INT for k in _AWS_INTS},
    "instanceTypes": ("list", ("msg", _INSTANCE_SPEC)), "azSkipIds": ("list", _STR),
})
_AZURE = _message({  # V1AzureClusterDriverSpec
    "instanceTypes": ("list", ("msg", _INSTANCE_SPEC)), "internalTestCluster": _BOOL,
    "kubernetesVersion": _STR, "region": _STR, "subscriptionId": _STR,
})
_CONTAINER_RESOURCES = _message({  # V1ContainerResources
    k: _STR for k in ("cpuLimits", "cpuRequest", "memoryLimits", "memoryRequest")})
_KUBERNETES = _message({  # V1KubernetesClusterDriver
    "aws": ("msg", _AWS), "azure": ("msg", _AZURE), "namespace": _STR, "rootDomainName": _STR,
    "kubernetesOnlyMode": _BOOL, "privateSshGateway": _BOOL, "extraGridletEnvVar": _MAP,
    "gridletResources": ("msg", _CONTAINER_RESOURCES),
    "kubeconfig": ("msg", _message({"kubeconfig": _STR})),  # V1ExternalKubeconfig
})
#: ProtobufAny as the client models it
PROTOBUF_ANY = _message({"typeUrl": _STR, "value": _BYTES})
_DRIVER = _message({"kubernetes": ("msg", _KUBERNETES), "external": ("msg", PROTOBUF_ANY),
                    "slurm": ("msg", _message({}))})  # V1SlurmClusterDriver has no fields
CLUSTER_SPEC = _message({
    "clusterType": ("enum", CLUSTER_TYPES), "desiredState": ("enum", CLUSTER_STATES),
    "performanceProfile": ("enum", PERFORMANCE_PROFILES), "driver": ("msg", _DRIVER),
    "costFactor": _STR, "paddingFactor": _STR, "pauseAutomation": _BOOL,
    "gridletVersion": _STR, "userId": _STR,
})


#: the largest value of Grid's int32 fields
INT32_MAX = 2**31 - 1


class SpecError(Exception):
    """The request's spec is not acceptable; the message is what the 400 answer says."""


def decode_spec(value: Any) -> dict[str, Any]:
    """The spec with zero values dropped; SpecError on an unknown field or a wrong type."""
    return _decode_message(CLUSTER_SPEC, value, "spec")


def check_spec(name: str, spec: Mapping[str, Any]) -> None:
    """Grid's rules for a BYOC cluster it is asked to create or update."""
    for problem in (rules.check_name(name), _check_type_and_state(spec)):
        if problem:
            raise SpecError(problem)
    aws = spec.get("driver", {}).get("kubernetes", {}).get("aws")
    if aws is None:
        raise SpecError("spec.driver.kubernetes.aws is required for a BYOC cluster")
    for key in ("region", "roleArn", "externalId"):
        if not aws.get(key):
            raise SpecError(f"spec.driver.kubernetes.aws.{key} is required")
    region_problem = rules.check_region(aws["region"])
    if region_problem:
        raise SpecError(f"spec.driver.kubernetes.aws.region: {region_problem}")
    _check_instance_types(aws.get("instanceTypes", []))


def with_server_fields(spec: Mapping[str, Any], *, user_id: str,
                       previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The spec to store: ``userId`` is always the caller's (or the stored one), the other
    server-set fields come from the body, else from ``previous``, else the defaults.
    ``desiredState`` is not stored: it follows the cluster's timeline."""
    stored = {k: v for k, v in spec.items() if k != "desiredState"}
    stored.setdefault("clusterType", TYPE_BYOC)
    for key, default in SERVER_DEFAULTS.items():
        stored.setdefault(key, (previous or {}).get(key, default))
    stored["userId"] = (previous or {}).get("userId", user_id)
    return stored


def _check_type_and_state(spec: Mapping[str, Any]) -> str | None:
    if spec.get("clusterType", TYPE_BYOC) != TYPE_BYOC:
        return f"only {TYPE_BYOC} clusters can be created or edited, not {spec['clusterType']}"
    if spec.get("desiredState", PHASE_RUNNING) != PHASE_RUNNING:
        return ("spec.desiredState can only be CLUSTER_STATE_RUNNING here; "
                "delete a cluster with DELETE")
    return None


def _check_instance_types(items: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item.get("name", "")
        problem = "name is required" if not name else rules.check_instance_type(name)
        if not problem and name in seen:
            problem = f"instance type {name!r} is listed twice"
        if problem:
            raise SpecError(f"spec.driver.kubernetes.aws.instanceTypes[{i}]: {problem}")
        seen.add(name)


def _decode_message(message: Message, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(f"{path} must be an object")
    fields = message.fields
    decoded: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, item in value.items():
        name = message.spellings.get(key)
        if name is None:
            raise SpecError(f"unknown field {key!r} in {path}")
        if name in spelled:
            raise SpecError(f"{path}.{name} is given twice (as {spelled[name]!r} and {key!r})")
        spelled[name] = key
        result = _decode(fields[name], item, f"{path}.{name}")
        if not _is_zero(fields[name], result):
            decoded[name] = result
    return decoded


def _decode(shape: Shape, value: Any, path: str) -> Any:
    kind, arg = shape
    if value is None:
        return None
    if kind == "msg":
        return _decode_message(arg, value, path)
    if kind == "list":
        if not isinstance(value, list):
            raise SpecError(f"{path} must be a list")
        return [_decode(arg, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "map":
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise SpecError(f"{path} must be an object of strings")
        return dict(value)
    return _decode_scalar(kind, arg, value, path)


def _decode_scalar(kind: str, arg: Any, value: Any, path: str) -> Any:
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "bytes" and isinstance(value, str) and _is_base64(value):
        return value
    if kind == "enum" and isinstance(value, str):
        if value not in arg:
            raise SpecError(f"{path}: unknown value {value!r} (one of {', '.join(arg)})")
        return value
    # protobuf JSON also accepts a 64-bit integer as a decimal string
    if kind == "int" and not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, str)
                                       and re.fullmatch(r"-?[0-9]{1,20}", value))):
        if int(value) < 0:
            raise SpecError(f"{path} must not be negative, not {value}")
        if int(value) > INT32_MAX:  # Grid stores these as int32
            raise SpecError(f"{path} is out of range for int32: {value}")
        return int(value)
    article = "an" if kind in ("int", "enum") else "a"
    raise SpecError(f"{path} must be {article} {_KIND_NAMES[kind]}, not {value!r}")


_KIND_NAMES = {"bool": "boolean", "str": "string", "enum": "enum string", "int": "integer",
               "bytes": "base64 string"}


def _is_base64(text: str) -> bool:
    """Protobuf JSON's bytes: standard or URL-safe base64, padded or not."""
    try:
        base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                         validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_zero(shape: Shape, value: Any) -> bool:
    if value is None:
        return True
    if shape[0] == "msg":
        return False  # a message that is set is answered even when empty, as protobuf does
    if shape[0] == "enum":
        return str(value).endswith("_UNSPECIFIED")
    return value in ("", 0, False) or value == [] or value == {}
