"""Field-level differences between two managed views (see ``wire.managed_view``).

deepdiff finds what differs; each finding is named by its wire path, with instance types
keyed by name (``driver.kubernetes.aws.instanceTypes[g4dn.xlarge].rootVolumeSize``). A
change inside a plain list (``azSkipIds``) is reported as the whole list. Secrets are
compared apart by ``diff_secret``, whose result never holds a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.plan.types import FieldChange

#: Mapping keys under which entries are named in brackets rather than dotted.
_KEYED_BY_NAME = frozenset({"instanceTypes"})
_MISSING = object()


def diff_specs(desired_view: Mapping[str, Any],
               live_view: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The changes that turn ``live_view`` into ``desired_view``, sorted by path."""
    if desired_view == live_view:  # most clusters: no need to ask deepdiff
        return ()
    from deepdiff import DeepDiff  # imported when a cluster differs (it costs ~0.1 s)

    # deepdiff walks only the branches that differ: the paths are the same, the work is a
    # fraction (a drifted role ARN does not walk every instance type).
    live_part, desired_part = _differing(live_view, desired_view)
    found = DeepDiff(live_part, desired_part, ignore_order=True, view="tree")
    paths = {_up_to_list(level.path(output_format="list"))
             for levels in found.values() for level in levels}
    changes = (_field_change(path, live_view, desired_view) for path in paths)
    return tuple(sorted(changes, key=lambda c: c.path))


def _differing(live: Mapping[str, Any], desired: Mapping[str, Any]
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both mappings cut down to the entries that differ, at every level of nested mappings
    (a list or any other value is kept whole)."""
    live_part: dict[str, Any] = {}
    desired_part: dict[str, Any] = {}
    for key in {*live, *desired}:
        old, new = live.get(key, _MISSING), desired.get(key, _MISSING)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            old, new = _differing(old, new)
        if old is not _MISSING:
            live_part[key] = old
        if new is not _MISSING:
            desired_part[key] = new
    return live_part, desired_part


def creation_fields(desired_view: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Every field a create sets, as additions (old ``None``), one per leaf; an instance type
    is one entry, a plain list one value. Sorted by path."""
    changes: list[FieldChange] = []
    _add_created(desired_view, (), changes)
    return tuple(sorted(changes, key=lambda c: c.path))


def _add_created(node: Mapping[str, Any], path: tuple[Any, ...],
                 changes: list[FieldChange]) -> None:
    """``creation_fields`` of ``node``, at ``path``. A function of its own, not a closure:
    a closure that calls itself is a reference cycle, left to the garbage collector once
    per planned create."""
    for key, value in node.items():
        here = (*path, key)
        if isinstance(value, Mapping) and value and key not in _KEYED_BY_NAME \
                and (not path or path[-1] not in _KEYED_BY_NAME):
            _add_created(value, here, changes)
        elif key in _KEYED_BY_NAME and isinstance(value, Mapping):
            changes.extend(FieldChange(path=format_path((*here, name)), new=entry)
                           for name, entry in value.items())
        else:
            changes.append(FieldChange(path=format_path(here), new=value))


def diff_secret(path: str, desired_value: str | None,
                live_value: str | None) -> FieldChange | None:
    """A sensitive change when both values are known and differ. A live answer without the
    value (redacted) is unknown, not a change. The values never enter the result."""
    if not desired_value or not live_value or desired_value == live_value:
        return None
    return FieldChange(path=path, sensitive=True)


def _up_to_list(path: Sequence[Any]) -> tuple[Any, ...]:
    """The path cut at the first list index: lists are compared whole."""
    for i, part in enumerate(path):
        if isinstance(part, int):
            return tuple(path[:i])
    return tuple(path)


def _field_change(path: tuple[Any, ...], live: Mapping[str, Any],
                  desired: Mapping[str, Any]) -> FieldChange:
    old, new = _lookup(live, path), _lookup(desired, path)
    return FieldChange(path=format_path(path),
                       old=None if old is _MISSING else old,
                       new=None if new is _MISSING else new)


def _lookup(view: Mapping[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = view
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return node


def format_path(path: Sequence[Any]) -> str:
    """``("driver", "kubernetes", "aws", "instanceTypes", "t3.large")`` ->
    ``driver.kubernetes.aws.instanceTypes[t3.large]``."""
    text = ""
    for i, part in enumerate(path):
        if i > 0 and path[i - 1] in _KEYED_BY_NAME:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
