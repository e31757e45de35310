"""The plan as data: what gridops intends to do, made by one pure function (planner.make_plan)
from (desired, live, inventory), saved to and loaded from JSON, carried out by apply.

A plan never holds a secret value: secret fields are carried as ``SecretRef`` and resolved by
apply; their field changes are marked ``sensitive`` and have no old/new values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from reconciler.errors import ConfigError
from reconciler.model import SecretRef

PLAN_FORMAT_VERSION = 1


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"
    #: a create or delete is already under way in Grid; nothing to send, wait for it
    WAIT = "wait"
    #: the live cluster is FAILED; reported with its reason, not touched
    FAILED = "failed"
    #: a change the guards refuse until a person acts (protected delete, adopt by import)
    BLOCKED = "blocked"
    #: Grid reports a value this gridops does not know (a new phase, type or profile); the
    #: cluster is shown, never touched
    UNKNOWN = "unknown"

    @property
    def changes_grid(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.DELETE)

    @property
    def is_drift(self) -> bool:
        """Live differs from git: a change to make, a FAILED cluster, one that is blocked
        until a person acts, or one gridops cannot read. WAIT (a create or delete under way)
        and NOOP are not drift."""
        return self.changes_grid or self in (Action.FAILED, Action.BLOCKED, Action.UNKNOWN)


@dataclass(frozen=True)
class FieldChange:
    """One field that differs. ``path`` is the wire path (``driver.kubernetes.aws.region``,
    ``driver.kubernetes.aws.instanceTypes[g4dn.xlarge].rootVolumeSize``). ``old`` is ``None``
    for an added field, ``new`` is ``None`` for a removed one. When ``sensitive`` both are
    ``None`` and renderers print ``(sensitive value changed)``.
    """

    path: str
    old: Any = None
    new: Any = None
    sensitive: bool = False
    #: the path as the document writes it (``spec.instanceTypes[g4dn.xlarge].rootVolumeGiB``)
    doc_path: str = field(default="", compare=False)
    #: ``old`` and ``new`` as the document writes them (``cost-saving``, not the wire enum)
    doc_old: Any = field(default=None, compare=False)
    doc_new: Any = field(default=None, compare=False)
    #: ``file:line`` of the field causing the change (the cluster's file or its defaults)
    source: str = field(default="", compare=False)
    #: why it differs: ``git`` (the document changed since the base commit), ``drift`` (the
    #: document did not, Grid did), or "" when not known. Display only.
    cause: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new, "sensitive": self.sensitive,
                "documentPath": self.doc_path, "documentOld": self.doc_old,
                "documentNew": self.doc_new, "source": self.source, "cause": self.cause}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldChange:
        return cls(path=str(data["path"]), old=data.get("old"), new=data.get("new"),
                   sensitive=bool(data.get("sensitive", False)),
                   doc_path=str(data.get("documentPath", "")), doc_old=data.get("documentOld"),
                   doc_new=data.get("documentNew"), source=str(data.get("source", "")),
                   cause=str(data.get("cause", "")))


@dataclass(frozen=True)
class Change:
    """What the plan does to one cluster.

    ``spec`` is the desired wire ClusterSpec for CREATE/UPDATE with every secret field left out;
    ``secrets`` maps each secret's wire path to its reference so apply can resolve it.
    ``managed_aws_keys`` lists the AWSClusterDriverSpec keys this document manages (for the
    read-modify-write of an update). ``reason`` is for display only; apply never reads it.
    """

    name: str
    action: Action
    reason: str = ""
    cluster_id: str | None = None
    field_changes: tuple[FieldChange, ...] = ()
    spec: Mapping[str, Any] | None = None
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    managed_aws_keys: tuple[str, ...] = ()
    #: the ``driver.kubernetes`` keys beside ``aws`` this document manages (self-managed)
    managed_kubernetes_keys: tuple[str, ...] = ()
    deletion_protection: bool = False
    source: str = ""
    phase: str = ""
    #: True when the change is drift (git did not change, live did); set by the PR diff view.
    drift: bool = False
    #: why it changes: ``new`` in git, ``changed`` in git, ``drift`` (Grid changed, the
    #: document did not), ``both``, or "" when not known. Display only, like ``reason``.
    cause: str = field(default="", compare=False)
    #: the commit the document was compared with to find ``cause`` (display only)
    cause_base: str = field(default="", compare=False)
    #: the live cluster is the one an earlier run's create made (its answer was lost): apply
    #: records it as owned
    adopt: bool = False
    #: apply drops the inventory record without touching Grid (a create that never took effect)
    forget: bool = False

    @property
    def differs(self) -> bool:
        """Live differs from git: drift, or a wait that will still leave a difference (a
        cluster being created that differs from git, one being deleted that git wants)."""
        return self.action.is_drift or (self.action is Action.WAIT and bool(self.field_changes))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "action": self.action.value, "reason": self.reason,
            "clusterId": self.cluster_id,
            "fieldChanges": [c.to_json() for c in self.field_changes],
            "spec": self.spec, "secrets": {k: v.to_json() for k, v in self.secrets.items()},
            "managedAwsKeys": list(self.managed_aws_keys),
            "managedKubernetesKeys": list(self.managed_kubernetes_keys),
            "deletionProtection": self.deletion_protection, "source": self.source,
            "phase": self.phase, "drift": self.drift, "cause": self.cause,
            "causeBase": self.cause_base, "adopt": self.adopt, "forget": self.forget,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            name=str(data["name"]), action=Action(data["action"]),
            reason=str(data.get("reason", "")), cluster_id=data.get("clusterId"),
            field_changes=tuple(FieldChange.from_json(c) for c in data.get("fieldChanges", [])),
            spec=data.get("spec"),
            secrets={k: SecretRef.from_json(v) for k, v in data.get("secrets", {}).items()},
            managed_aws_keys=tuple(data.get("managedAwsKeys", [])),
            managed_kubernetes_keys=tuple(data.get("managedKubernetesKeys", [])),
            deletion_protection=bool(data.get("deletionProtection", False)),
            source=str(data.get("source", "")), phase=str(data.get("phase", "")),
            drift=bool(data.get("drift", False)), cause=str(data.get("cause", "")),
            cause_base=str(data.get("causeBase", "")), adopt=bool(data.get("adopt", False)),
            forget=bool(data.get("forget", False)),
        )

    def essentials(self) -> Change:
        """The change without its display-only reason: what apply of a saved plan compares
        with a fresh plan (the cause and document words never take part in equality)."""
        return replace(self, reason="", drift=False)


#: warm on-demand instances are billed around the clock: a month is 730 hours
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class WarmChange:
    """One instance type whose warm count changes."""

    instance_type: str
    old: int
    new: int
    #: the on-demand price per hour in USD, None when Grid did not give one
    hourly: float | None

    @property
    def monthly(self) -> float | None:
        if self.hourly is None:
            return None
        return (self.new - self.old) * self.hourly * HOURS_PER_MONTH

    def to_json(self) -> dict[str, Any]:
        return {"instanceType": self.instance_type, "old": self.old, "new": self.new,
                "hourly": self.hourly, "monthly": _cents(self.monthly)}


@dataclass(frozen=True)
class ClusterCost:
    """A cluster's monthly cost change in USD; ``monthly`` is None when a price is missing."""

    name: str
    action: Action
    warm: tuple[WarmChange, ...]

    @property
    def monthly(self) -> float | None:
        figures = [w.monthly for w in self.warm]
        return None if any(f is None for f in figures) else sum(f or 0.0 for f in figures)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action.value, "monthly": _cents(self.monthly),
                "warm": [w.to_json() for w in self.warm]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClusterCost:
        return cls(name=str(data["name"]), action=Action(data["action"]), warm=tuple(
            WarmChange(instance_type=str(w["instanceType"]), old=int(w["old"]),
                       new=int(w["new"]),
                       hourly=None if w.get("hourly") is None else float(w["hourly"]))
            for w in data.get("warm", [])))


def _cents(value: float | None) -> float | None:
    return None if value is None else round(value, 2)



@dataclass(frozen=True)
class Plan:
    """A whole plan and where it came from.

    ``git_sha``: the commit the desired state was read at (None outside git).
    ``live_fingerprint``: sha256 of the managed view of every live BYOC cluster (secrets
    excluded); apply of a saved plan refuses when it no longer matches.
    ``desired_digest``: sha256 of the settings file and every cluster file the plan was made
    from; apply of a saved plan refuses when the committed files differ (uncommitted edits).
    ``inputs``: per self-managed cluster, the terraform output it was planned from
    (``source``, ``digest`` without secrets, the state's ``serial`` and ``lineage``); apply of
    a saved plan refuses when they changed.
    ``unmanaged``: live BYOC clusters that gridops does not own and will not touch.
    ``warnings``: notes for the reader (uncommitted files, preflight warnings, ...).
    """

    changes: tuple[Change, ...]
    created_at: str
    git_sha: str | None
    live_fingerprint: str
    desired_digest: str = ""
    unmanaged: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    settings_file: str = "gridops.yaml"
    format_version: int = PLAN_FORMAT_VERSION
    #: the monthly cost change of each change that moves a warm count (``plan.cost``);
    #: display only, never compared when a saved plan is checked
    costs: tuple[ClusterCost, ...] = ()
    inputs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def has_changes(self) -> bool:
        """Something to send to Grid (``plan --detailed-exitcode`` exits 2)."""
        return any(c.action.changes_grid for c in self.changes)

    @property
    def has_drift(self) -> bool:
        """Live differs from git in any way (``plan --detailed-exitcode`` and ``gridops drift``
        exit 2, the drift issue): changes to make, blocked and FAILED clusters, waits that
        will still leave a difference."""
        return any(c.differs for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "formatVersion": self.format_version, "createdAt": self.created_at,
            "gitSha": self.git_sha, "liveFingerprint": self.live_fingerprint,
            "desiredDigest": self.desired_digest,
            "settingsFile": self.settings_file,
            "changes": [c.to_json() for c in self.changes],
            "unmanaged": list(self.unmanaged), "warnings": list(self.warnings),
            "costs": [c.to_json() for c in self.costs],
            "costMonthlyTotal": self.cost_monthly_total,
            "inputs": {name: dict(values) for name, values in self.inputs.items()},
        }

    @property
    def cost_monthly_total(self) -> float | None:
        """The monthly cost change of the whole plan in USD (0 when nothing moves a warm
        count), None when a price was not available."""
        figures = [c.monthly for c in self.costs]
        return None if any(f is None for f in figures) else round(sum(f or 0.0 for f in figures),
                                                                   2)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        version = data.get("formatVersion")
        if version != PLAN_FORMAT_VERSION:
            raise ConfigError(
                f"plan file format {version!r} is not supported (this gridops reads "
                f"format {PLAN_FORMAT_VERSION})", hint="make a new plan with `gridops plan --out`")
        return cls(
            changes=tuple(Change.from_json(c) for c in data["changes"]),
            created_at=str(data["createdAt"]), git_sha=data.get("gitSha"),
            live_fingerprint=str(data["liveFingerprint"]),
            desired_digest=str(data.get("desiredDigest", "")),
            unmanaged=tuple(data.get("unmanaged", [])), warnings=tuple(data.get("warnings", [])),
            settings_file=str(data.get("settingsFile", "gridops.yaml")),
            costs=tuple(ClusterCost.from_json(c) for c in data.get("costs", [])),
            inputs={str(name): {str(k): str(v) for k, v in values.items()}
                    for name, values in data.get("inputs", {}).items()},
        )

    @classmethod
    def loads(cls, text: str, *, source: str = "plan file") -> Plan:
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError("the file does not hold a JSON object")
            return cls.from_json(data)
        except ConfigError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"{source} is not a gridops plan: {e}",
                              hint="make a new plan with `gridops plan --out FILE`") from e


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ChangeResult:
    """What happened to one cluster during apply. ``error`` is a user-facing message."""

    name: str
    action: Action
    outcome: Outcome
    error: str = ""
    phase: str = ""
    #: how it came about, when that is worth saying (an answer lost and read back, ...)
    note: str = ""


@dataclass(frozen=True)
class ApplyResult:
    """Every cluster's result. ``error`` is set when apply stopped before carrying out the
    plan (a validation error, a held lock, a refused plan): then ``results`` is empty."""

    results: tuple[ChangeResult, ...]
    git_sha: str | None = None
    error: str = ""
    #: what the reader should know that is no cluster's result (the state kept every record
    #: but could not be compacted)
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.error) or any(r.outcome is Outcome.FAILED for r in self.results)
