"""Plans for the GitHub tests, made as the planner makes them."""

from __future__ import annotations

from reconciler.plan.types import Action, Change, FieldChange, Plan

SPEC = {"driver": {"kubernetes": {"aws": {
    "region": "us-east-1", "roleArn": "arn:aws:iam::123456789012:role/grid-byoc",
    "instanceTypes": [{"name": "t3.large"}, {"name": "g4dn.xlarge", "rootVolumeSize": 200}]}}},
    "performanceProfile": "CLUSTER_PERFORMANCE_PROFILE_DEFAULT"}


def create(name: str, *, drift: bool = False) -> Change:
    return Change(name=name, action=Action.CREATE, reason="new in git", spec=SPEC,
                  source=f"clusters/{name}.yaml:1", drift=drift)


def update(name: str, fields: int = 2, *, width: int = 10, drift: bool = False) -> Change:
    changes = tuple(FieldChange(f"driver.kubernetes.aws.tags.k{i:04d}", "a" * width, "b" * width)
                    for i in range(fields))
    return Change(name=name, action=Action.UPDATE, reason="differs from git",
                  field_changes=changes, drift=drift)


def delete(name: str, *, drift: bool = False) -> Change:
    return Change(name=name, action=Action.DELETE, reason="removed from git", drift=drift)


def change(name: str, action: Action, reason: str = "") -> Change:
    return Change(name=name, action=action, reason=reason)


def plan_of(*changes: Change, unmanaged: tuple[str, ...] = (),
            warnings: tuple[str, ...] = ()) -> Plan:
    return Plan(changes=tuple(changes), created_at="2024-05-01T12:00:00Z", git_sha="c0ffee" * 6
                + "beef", live_fingerprint="f" * 64, unmanaged=unmanaged, warnings=warnings)
