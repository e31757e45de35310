"""Why each change: the document changed in git, or Grid changed (drift), or both.

Pure. A field of an update is a git change when the document's value of it differs between a
base commit and now, and drift when it does not (so Grid was changed outside git). The base is
chosen by the caller (``run.explain_plan``): in a pull request its base branch, otherwise the
commit gridops last applied to that cluster, else the commit before HEAD.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.live import wire
from reconciler.model import DesiredCluster
from reconciler.plan.types import Action, Change, FieldChange, Plan

_ABSENT = object()
_PART = re.compile(r"\[([^\]]+)\]|([^.\[\]]+)")


@dataclass(frozen=True)
class Base:
    """What one cluster's document is compared with."""

    #: how the reason names the base: ``a1b2c3d4e5f6 (last applied)``, ``HEAD~``, ...
    label: str
    #: the cluster as its document was at the base; None when it had no document there
    cluster: DesiredCluster | None


def explain_plan(plan: Plan, desired: Mapping[str, DesiredCluster],
                 bases: Mapping[str, Base]) -> Plan:
    """``plan`` with ``cause`` set on each create, update and delete that has a base, and the
    update's reason saying it in words."""
    return replace(plan, changes=tuple(
        _explain(c, desired.get(c.name), bases.get(c.name)) for c in plan.changes))


def _explain(change: Change, now: DesiredCluster | None, base: Base | None) -> Change:
    if change.action is Action.CREATE and change.reason == "new in git":
        return replace(change, cause="new")
    if change.action is not Action.UPDATE or now is None or base is None:
        return change
    fields = tuple(_field_cause(f, now, base.cluster) for f in change.field_changes)
    causes = {f.cause for f in fields}
    cause = "both" if causes == {"git", "drift"} else "drift" if causes == {"drift"} \
        else "changed"
    reason = reason_for(cause, base.label)
    if now.inputs and cause != "changed":
        # A self-managed cluster's fields also come from its terraform output, read as it is
        # now at the base too: a field git did not change moved in Grid or in the output.
        reason = reason.replace("Grid differs (changed outside git)",
                                "Grid differs from it or from its terraform output (changed "
                                "outside git, or terraform changed the output)")
    return replace(change, field_changes=fields, cause=cause, cause_base=base.label,
                   reason=reason)


def reason_for(cause: str, base_label: str) -> str:
    return {
        "changed": f"changed in git since {base_label}",
        "drift": f"drift: the document is as at {base_label}, but Grid differs "
                 "(changed outside git)",
        "both": f"changed in git since {base_label}, and drift in Grid",
    }[cause]


def _field_cause(change: FieldChange, now: DesiredCluster,
                 before: DesiredCluster | None) -> FieldChange:
    if before is None:
        return replace(change, cause="git")
    if change.sensitive:
        same = before.external_id == now.external_id
    else:
        same = _value_at(before, change.path) == _value_at(now, change.path)
    return replace(change, cause="drift" if same else "git")


def _value_at(cluster: DesiredCluster, path: str) -> Any:
    """The value at a wire ``path`` of the cluster's managed view (as the diff names it)."""
    view = wire.managed_view(wire.to_wire_spec(cluster), wire.managed_aws_keys(cluster),
                             wire.managed_kubernetes_keys(cluster))
    node: Any = view
    for part in _split(path):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _split(path: str) -> list[str]:
    """``driver.kubernetes.aws.instanceTypes[g4dn.xlarge].rootVolumeSize`` -> its keys (a
    bracketed name may hold dots)."""
    return [a or b for a, b in _PART.findall(path)]
