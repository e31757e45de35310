"""Grid wire JSON -> ``LiveCluster`` values. Pure: bytes and dicts in, values or errors out.

Grid answers protobuf JSON, which leaves out every unset or zero-valued field: an absent
``status.phase`` is ``CLUSTER_STATE_UNSPECIFIED``, an absent ``reason`` is empty, an absent
``spec`` is an empty spec. Anything else that does not fit the contract (not JSON, a missing
``id`` or ``name``, a wrong type, an enum string this client does not know) is a
``GridAPIError`` that names the object and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.errors import GridAPIError
from reconciler.model import (
    AVAILABILITY,
    CLUSTER_STATES,
    CLUSTER_TYPES,
    PERFORMANCE_PROFILES,
    PHASE_UNSPECIFIED,
    PROFILE_UNSPECIFIED,
    TYPE_UNSPECIFIED,
    LiveCluster,
)

_HINT = "the Grid API answered outside its contract; check GRID_URL points at a Grid API"


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
    if not isinstance(data, Mapping):
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
    _enum(spec, "performanceProfile", PERFORMANCE_PROFILES, PROFILE_UNSPECIFIED, "spec.", where)
    return LiveCluster(
        id=cluster_id,
        name=name,
        cluster_type=_enum(spec, "clusterType", CLUSTER_TYPES, TYPE_UNSPECIFIED, "spec.", where),
        phase=_enum(status, "phase", CLUSTER_STATES, PHASE_UNSPECIFIED, "status.", where),
        desired_state=_enum(spec, "desiredState", CLUSTER_STATES, PHASE_UNSPECIFIED, "spec.",
                            where),
        spec=spec,
        reason=_string(status, "reason", "status.", where),
        created_at=_string(data, "createdAt", "", where),
    )


def parse_cluster_list(body: Any) -> list[LiveCluster]:
    """The ``{"clusters": [...], "defaultCluster": ...}`` answer of the list call."""
    if not isinstance(body, Mapping):
        raise _malformed(f"the cluster list with {_kind(body)} instead of an object", "")
    items = body.get("clusters", [])
    if not isinstance(items, list):
        raise _malformed(f"a cluster list whose 'clusters' is {_kind(items)}, not a list", "")
    return [parse_cluster(item, where=f"list item {i} of {len(items)}")
            for i, item in enumerate(items, start=1)]


def parse_instance_types(body: Any, *, cluster_id: str) -> list[dict[str, Any]]:
    """The ``{"instanceTypes": [...]}`` answer, as wire dicts with their names checked."""
    where = f"instance types of {cluster_id!r}"
    if not isinstance(body, Mapping):
        raise _malformed(f"the instance types with {_kind(body)} instead of an object", where)
    items = body.get("instanceTypes", [])
    if not isinstance(items, list):
        raise _malformed(f"'instanceTypes' as {_kind(items)}, not a list", where)
    result: list[dict[str, Any]] = []
    for i, item in enumerate(items, start=1):
        item_where = f"{where}, item {i}"
        if not isinstance(item, Mapping):
            raise _malformed(f"an instance type that is {_kind(item)}", item_where)
        if not isinstance(item.get("name"), str) or not item["name"]:
            raise _malformed(_missing_or_wrong("an instance type", "name", item.get("name")),
                             item_where)
        _enum(item, "availability", AVAILABILITY, AVAILABILITY[0], "", item_where)
        result.append(dict(item))
    return result


def error_message(body: bytes) -> str:
    """The ``message`` of a grpc-gateway error body, else the start of the body's text."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if isinstance(data, Mapping) and isinstance(data.get("message"), str) and data["message"]:
        return str(data["message"])
    text = body.decode("utf-8", "replace").strip()
    return text[:200] if text else "(no message)"


def _object(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise _malformed(f"'{key}' as {_kind(value)}, not an object", where)
    return dict(value)


def _string(data: Mapping[str, Any], key: str, prefix: str, where: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _malformed(f"'{prefix}{key}' as {_kind(value)}, not a string", where)
    return value


def _enum(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], zero: str, prefix: str,
          where: str) -> str:
    value = _string(data, key, prefix, where) or zero
    if value not in allowed:
        raise _malformed(f"an unknown '{prefix}{key}' value {value!r} "
                         f"(known: {', '.join(allowed)})", where)
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
    return "an object" if isinstance(value, Mapping) else type(value).__name__


def _malformed(what: str, where: str) -> GridAPIError:
    suffix = f" ({where})" if where else ""
    return GridAPIError(f"Grid answered {what}{suffix}", hint=_HINT)
