"""Grid wire JSON -> ``LiveCluster`` values. Pure: bytes and dicts in, values or errors out.

Grid answers protobuf JSON, which leaves out every unset or zero-valued field: an absent
``status.phase`` is ``CLUSTER_STATE_UNSPECIFIED``, an absent ``reason`` is empty, an absent
``spec`` is an empty spec. Protobuf JSON writes 64-bit integers as strings (``"2"``): a number
field takes a JSON number or a string of digits. An enum string this client does not know (a
phase, type, profile or availability added to Grid later) is not an error: the cluster is
read with that value kept and named in ``LiveCluster.unknown``, so one new value never fails
the whole list. Anything else that does not fit the contract (not JSON, a missing ``id`` or
``name``, a wrong type, a number that is not one) is a ``GridAPIError`` that names the
cluster and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reconciler.errors import GridAPIError
from reconciler.model import (
    CLUSTER_STATES,
    CLUSTER_TYPES,
    PERFORMANCE_PROFILES,
    PHASE_UNSPECIFIED,
    PROFILE_UNSPECIFIED,
    TYPE_UNSPECIFIED,
    LiveCluster,
)

_HINT = "the Grid API answered outside its contract; check GRID_URL points at a Grid API"

#: ``isinstance(x, MAPPINGS)`` answers for a dict (every decoded JSON object) at C speed and
#: asks the slower ``Mapping`` ABC check only for anything else
MAPPINGS = (dict, Mapping)


def decode_json(body: bytes | str, *, what: str) -> Any:
    """The JSON document of an answer; ``what`` names the call for the error."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        snippet = body[:80].decode("utf-8", "replace") if isinstance(body, bytes) else body[:80]
        raise GridAPIError(f"Grid answered {what} with something that is not JSON: {snippet!r}",
                           hint=_HINT) from e


def parse_cluster(data: Any, *, where: str = "") -> LiveCluster:
    """One wire Cluster; ``where`` (e.g. ``list item 3``) is added to error messages."""
    if not isinstance(data, MAPPINGS):
        raise _malformed(f"a cluster that is not an object but {_kind(data)}", where)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise _malformed(_missing_or_wrong("a cluster", "name", name), where)
    where = f"{where}, cluster {name!r}" if where else f"cluster {name!r}"
    cluster_id = data.get("id")
    if not isinstance(cluster_id, str) or not cluster_id:
        raise _malformed(_missing_or_wrong("a cluster", "id", cluster_id), where)
    spec = _object(data, "spec", where)
    status = _object(data, "status", where)
    check_numbers(spec, where)
    unknown: list[str] = []
    _enum(spec, "performanceProfile", PERFORMANCE_PROFILES, PROFILE_UNSPECIFIED, "spec.", where,
          unknown)
    return LiveCluster(
        id=cluster_id,
        name=name,
        cluster_type=_enum(spec, "clusterType", CLUSTER_TYPES, TYPE_UNSPECIFIED, "spec.", where,
                           unknown),
        phase=_enum(status, "phase", CLUSTER_STATES, PHASE_UNSPECIFIED, "status.", where,
                    unknown),
        desired_state=_enum(spec, "desiredState", CLUSTER_STATES, PHASE_UNSPECIFIED, "spec.",
                            where, unknown),
        spec=spec,
        reason=_string(status, "reason", "status.", where),
        created_at=_string(data, "createdAt", "", where),
        unknown=tuple(unknown),
    )


#: The integer fields of the AWS driver spec and of an instance type (grid-api.md).
AWS_INT_FIELDS = ("xMultiAzCount", "abortIncompleteDatastoreNumDays",
                  "datastoreTransitionToIntelligentTieringNumDays",
                  "experimentTransitionToIntelligentTieringNumDays")
INSTANCE_INT_FIELDS = ("overprovisionedOndemandCount", "rootVolumeSize")
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def read_int(value: Any) -> int | None:
    """A protobuf JSON integer (a number, or a string of digits as int64 is written), or None
    when ``value`` is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    return None


def read_number(value: Any) -> float | None:
    """A protobuf JSON double (a number, or a decimal string), or None when not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return float(value)
    return None


def check_numbers(spec: Mapping[str, Any], where: str) -> None:
    """Every integer field of the AWS driver spec is a number or a string of digits."""
    kubernetes = spec.get("driver", {}).get("kubernetes", {}) \
        if isinstance(spec.get("driver"), MAPPINGS) else {}
    aws = kubernetes.get("aws") if isinstance(kubernetes, MAPPINGS) else None
    if not isinstance(aws, MAPPINGS):
        return
    prefix = "spec.driver.kubernetes.aws."
    for key in AWS_INT_FIELDS:
        _int_field(aws, key, prefix, where)
    items = aws.get("instanceTypes", [])
    if not isinstance(items, list):
        raise _malformed(f"'{prefix}instanceTypes' as {_kind(items)}, not a list", where)
    for i, item in enumerate(items):
        if not isinstance(item, MAPPINGS):
            raise _malformed(f"'{prefix}instanceTypes[{i}]' as {_kind(item)}, not an object",
                             where)
        for key in INSTANCE_INT_FIELDS:
            _int_field(item, key, f"{prefix}instanceTypes[{i}].", where)


def _int_field(data: Mapping[str, Any], key: str, prefix: str, where: str) -> None:
    if key in data and data[key] is not None and read_int(data[key]) is None:
        raise _malformed(f"'{prefix}{key}' as {_kind(data[key])} ({_clip(data[key])}), "
                         "not a whole number", where)


def _clip(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_cluster_list(body: Any) -> list[LiveCluster]:
    """The ``{"clusters": [...], "defaultCluster": ...}`` answer of the list call."""
    if not isinstance(body, MAPPINGS):
        raise _malformed(f"the cluster list with {_kind(body)} instead of an object", "")
    items = body.get("clusters", [])
    if not isinstance(items, list):
        raise _malformed(f"a cluster list whose 'clusters' is {_kind(items)}, not a list", "")
    return [parse_cluster(item, where=f"list item {i} of {len(items)}")
            for i, item in enumerate(items, start=1)]


def parse_instance_types(body: Any, *, cluster_id: str) -> list[dict[str, Any]]:
    """The ``{"instanceTypes": [...]}`` answer, as wire dicts with their names checked."""
    where = f"instance types of {cluster_id!r}"
    if not isinstance(body, MAPPINGS):
        raise _malformed(f"the instance types with {_kind(body)} instead of an object", where)
    items = body.get("instanceTypes", [])
    if not isinstance(items, list):
        raise _malformed(f"'instanceTypes' as {_kind(items)}, not a list", where)
    result: list[dict[str, Any]] = []
    for i, item in enumerate(items, start=1):
        item_where = f"{where}, item {i}"
        if not isinstance(item, MAPPINGS):
            raise _malformed(f"an instance type that is {_kind(item)}", item_where)
        if not isinstance(item.get("name"), str) or not item["name"]:
            raise _malformed(_missing_or_wrong("an instance type", "name", item.get("name")),
                             item_where)
        item_where = f"{where}, {item['name']!r}"
        # an availability this client does not know is kept as answered: it only informs
        _string(item, "availability", "", item_where)
        result.append(_instance_type_numbers(dict(item), item_where))
    return result


def _instance_type_numbers(item: dict[str, Any], where: str) -> dict[str, Any]:
    """``item`` with its numbers as numbers (protobuf JSON may write them as strings)."""
    if "overprovisionedOndemandCount" in item:
        count = read_int(item["overprovisionedOndemandCount"])
        if count is None:
            raise _malformed(f"'overprovisionedOndemandCount' as "
                             f"{_kind(item['overprovisionedOndemandCount'])}, not a whole "
                             "number", where)
        item["overprovisionedOndemandCount"] = count
    if "hourlyCost" in item:
        cost = read_number(item["hourlyCost"])
        if cost is None:
            raise _malformed(f"'hourlyCost' as {_kind(item['hourlyCost'])}, not a number",
                             where)
        item["hourlyCost"] = cost
    return item


def error_message(body: bytes) -> str:
    """The ``message`` of a grpc-gateway error body, else the start of the body's text."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if isinstance(data, MAPPINGS) and isinstance(data.get("message"), str) and data["message"]:
        return str(data["message"])
    text = body.decode("utf-8", "replace").strip()
    return text[:200] if text else "(no message)"


def _object(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, MAPPINGS):
        raise _malformed(f"'{key}' as {_kind(value)}, not an object", where)
    return dict(value)


def _string(data: Mapping[str, Any], key: str, prefix: str, where: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _malformed(f"'{prefix}{key}' as {_kind(value)}, not a string", where)
    return value


def _enum(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], zero: str, prefix: str,
          where: str, unknown: list[str]) -> str:
    """The enum string (``zero`` when omitted); one not in ``allowed`` is kept and noted in
    ``unknown`` as ``field 'VALUE'``."""
    value = _string(data, key, prefix, where) or zero
    if value not in allowed:
        unknown.append(f"{prefix}{key} {_clip(value)}")
    return value


def _missing_or_wrong(thing: str, key: str, value: Any) -> str:
    if value is None:
        return f"{thing} without '{key}'"
    return f"{thing} whose '{key}' is {_kind(value)}, not a non-empty string"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, MAPPINGS) else type(value).__name__


def _malformed(what: str, where: str) -> GridAPIError:
    suffix = f" ({where})" if where else ""
    return GridAPIError(f"Grid answered {what}{suffix}", hint=_HINT)
