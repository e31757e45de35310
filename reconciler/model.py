"""The values that flow through gridops: desired clusters (from git), live clusters (from Grid),
and secret references. Plain frozen data; no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# --- Grid enums (grid-api.md) -----------------------------------------------------------------


def now_iso() -> str:
    """Now, as the state and plans write an instant (UTC, whole seconds, ``Z``)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

PHASE_UNSPECIFIED = "CLUSTER_STATE_UNSPECIFIED"
PHASE_PENDING = "CLUSTER_STATE_PENDING"
PHASE_QUEUED = "CLUSTER_STATE_QUEUED"
PHASE_RUNNING = "CLUSTER_STATE_RUNNING"
PHASE_FAILED = "CLUSTER_STATE_FAILED"
PHASE_DELETED = "CLUSTER_STATE_DELETED"
CLUSTER_STATES = (PHASE_UNSPECIFIED, PHASE_PENDING, PHASE_QUEUED, PHASE_RUNNING, PHASE_FAILED,
                  PHASE_DELETED)

TYPE_UNSPECIFIED = "CLUSTER_TYPE_UNSPECIFIED"
TYPE_LEGACY = "CLUSTER_TYPE_LEGACY"
TYPE_GLOBAL = "CLUSTER_TYPE_GLOBAL"
TYPE_BYOC = "CLUSTER_TYPE_BYOC"
CLUSTER_TYPES = (TYPE_UNSPECIFIED, TYPE_LEGACY, TYPE_GLOBAL, TYPE_BYOC)

PROFILE_UNSPECIFIED = "CLUSTER_PERFORMANCE_PROFILE_UNSPECIFIED"
PROFILE_DEFAULT = "CLUSTER_PERFORMANCE_PROFILE_DEFAULT"
PROFILE_COST_SAVING = "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
PERFORMANCE_PROFILES = (PROFILE_UNSPECIFIED, PROFILE_DEFAULT, PROFILE_COST_SAVING)

#: The document's short profile names and their wire enum.
PROFILE_BY_NAME = {"default": PROFILE_DEFAULT, "cost-saving": PROFILE_COST_SAVING}

AVAILABILITY = ("AVAILABILITY_UNSPECIFIED", "AVAILABILITY_AVAILABLE", "AVAILABILITY_LIMITED",
                "AVAILABILITY_UNAVAILABLE")


# --- secrets ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SecretRef:
    """A reference to a secret, never its value.

    ``kind`` is the document key (``fromEnv``, ``fromSsm``, ``fromSecretsManager``,
    ``fromTerraformOutput``); ``params`` is the reference's own fields as sorted (key, value)
    pairs, e.g. ``(("name", "GRID_EXTERNAL_ID_RESEARCH"),)`` for ``{fromEnv: NAME}``.
    """

    kind: str
    params: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        """A human description that names where the secret lives (safe to print)."""
        inner = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.kind}({inner})"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SecretRef:
        return cls(kind=str(data["kind"]),
                   params=tuple(sorted((str(k), str(v)) for k, v in data["params"].items())))


# --- desired state ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceLocation:
    """Where a document came from: ``file`` relative to the repo root, 1-based ``line``."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class InstanceSpec:
    """One instance type a cluster may use.

    ``overprovisioned_on_demand``: instances kept warm on demand (0 when the document omits it).
    ``root_volume_gib``: root volume size; ``None`` when the document leaves it to Grid.
    """

    name: str
    overprovisioned_on_demand: int = 0
    root_volume_gib: int | None = None


@dataclass(frozen=True)
class DesiredCluster:
    """One ``GridCluster`` document after defaults are merged and validation passed.

    ``performance_profile`` is the wire enum. ``aws_extra`` holds the other
    AWSClusterDriverSpec fields the document sets (wire camelCase keys); only those keys are
    managed. ``labels`` and ``deletion_protection`` are local and never sent to Grid.
    A self-managed cluster (``spec.selfManaged``) also has ``kubernetes_extra``, the
    ``driver.kubernetes`` fields its terraform output sets besides ``aws`` (managed too),
    ``extra_secrets``, the wire path and reference of each secret there besides the external
    id, and ``inputs``: where the output was read, its digest (secrets left out) and the
    state's serial and lineage, so a saved plan is stale when the output changes.
    """

    name: str
    region: str
    role_arn: str
    external_id: SecretRef
    performance_profile: str
    instance_types: tuple[InstanceSpec, ...]
    deletion_protection: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    aws_extra: tuple[tuple[str, Any], ...] = ()
    source: SourceLocation = field(default_factory=lambda: SourceLocation(""))
    kubernetes_extra: tuple[tuple[str, Any], ...] = ()
    extra_secrets: tuple[tuple[str, SecretRef], ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()
    #: where each field was written, by document path (``spec.performanceProfile``,
    #: ``spec.instanceTypes[g4dn.xlarge].overprovisionedOnDemand``, ``spec.aws.fsxEnabled``):
    #: the cluster's file or the defaults file it came from. Display only.
    field_sources: tuple[tuple[str, SourceLocation], ...] = field(default=(), compare=False)

    def where(self, doc_path: str) -> SourceLocation:
        """Where ``doc_path`` (or the nearest field holding it) is written; the document's
        start when no field is."""
        sources = dict(self.field_sources)
        path = doc_path
        while path:
            if path in sources:
                return sources[path]
            path = path[:max(path.rfind("."), path.rfind("["), 0)]
        return self.source


@dataclass(frozen=True)
class DesiredState:
    """Everything the repository asks for, keyed by cluster name."""

    clusters: Mapping[str, DesiredCluster]
    git_sha: str | None = None
    #: Files under the clusters folder that differ from HEAD (plan notes them; apply refuses).
    uncommitted: tuple[str, ...] = ()
    #: sha256 of the settings file and the cluster files read (see ``Plan.desired_digest``).
    digest: str = ""


# --- live state -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LiveCluster:
    """A cluster as the Grid API reports it.

    ``spec`` is the raw wire ClusterSpec (camelCase dict) exactly as answered, including the
    fields the server sets; ``phase`` and ``reason`` come from ``status``. ``unknown`` names
    each enum value this gridops does not know (``status.phase 'CLUSTER_STATE_UPGRADING'``),
    kept as answered in ``phase``/``cluster_type``/``spec``: such a cluster is shown, never
    touched.
    """

    id: str
    name: str
    cluster_type: str
    phase: str
    desired_state: str
    spec: Mapping[str, Any]
    reason: str = ""
    created_at: str = ""
    unknown: tuple[str, ...] = ()

    @property
    def is_byoc(self) -> bool:
        return self.cluster_type == TYPE_BYOC

    @property
    def terminating(self) -> bool:
        return self.desired_state == PHASE_DELETED and self.phase != PHASE_DELETED

    @property
    def in_progress(self) -> bool:
        """Being created: queued or pending toward RUNNING."""
        return self.phase in (PHASE_QUEUED, PHASE_PENDING, PHASE_UNSPECIFIED) and \
            self.desired_state != PHASE_DELETED


#: The state file's format; a state written in another is refused, never guessed at.
STATE_FORMAT_VERSION = 1


class Ownership(StrEnum):
    CREATED = "created"
    IMPORTED = "imported"


@dataclass(frozen=True)
class Intent:
    """A change gridops recorded before asking Grid for it (as Crossplane's create-pending
    annotation): whoever reads the state next knows what may have happened."""

    #: ``create``, ``update`` or ``delete``
    action: str
    #: when it was recorded (ISO 8601, UTC, whole seconds)
    at: str
    #: the run that recorded it (the apply lock's id)
    run: str = ""
    #: the managed view of what was sent (``wire.managed_view``; never a secret), {} for deletes
    sent: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "at": self.at, "run": self.run, "sent": self.sent}

    @classmethod
    def from_json(cls, data: Any, name: str) -> Intent:
        if not isinstance(data, Mapping) or data.get("action") not in INTENT_ACTIONS \
                or not isinstance(data.get("at"), str) \
                or not isinstance(data.get("sent", {}), Mapping):
            raise TypeError(f"inventory entry {name}: intent must be an object with an action "
                            f"({', '.join(INTENT_ACTIONS)}), at and sent")
        return cls(action=data["action"], at=data["at"], run=str(data.get("run", "")),
                   sent=data.get("sent", {}))


INTENT_ACTIONS = ("create", "update", "delete")


@dataclass(frozen=True)
class InventoryEntry:
    """A cluster gridops owns, or is creating.

    ``deletion_protection`` is as of the last apply; ``pending_delete`` is set when a delete was
    requested but not yet confirmed (kept so the next run retries); ``leftovers`` lists AWS
    resources a finished delete left behind (ARNs or ids), empty when clean. ``intent`` is the
    change recorded before its Grid call and not yet settled: with a ``create`` intent the
    entry is not owned yet; the planner adopts the cluster when Grid shows it as it was sent.
    """

    name: str
    ownership: Ownership = Ownership.CREATED
    deletion_protection: bool = False
    region: str = ""
    role_arn: str = ""
    applied_sha: str | None = None
    pending_delete: bool = False
    leftovers: tuple[str, ...] = ()
    intent: Intent | None = None

    @property
    def creating(self) -> bool:
        """A create was asked for and not yet confirmed: not owned until it is."""
        return self.intent is not None and self.intent.action == "create"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name, "ownership": self.ownership.value,
            "deletionProtection": self.deletion_protection, "region": self.region,
            "roleArn": self.role_arn, "appliedSha": self.applied_sha,
            "pendingDelete": self.pending_delete, "leftovers": list(self.leftovers),
        }
        if self.intent is not None:
            data["intent"] = self.intent.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InventoryEntry:
        """Strict: wrong types raise ``TypeError``; a missing ``deletionProtection`` reads as
        protected, the safe side."""
        name = data["name"]
        if not isinstance(name, str) or not name:
            raise TypeError(f"inventory entry name {name!r} is not a cluster name")
        for key in ("deletionProtection", "pendingDelete"):
            if not isinstance(data.get(key, False), bool):
                raise TypeError(f"inventory entry {name}: {key} must be true or false")
        leftovers = data.get("leftovers", [])
        if not isinstance(leftovers, list) or not all(isinstance(x, str) for x in leftovers):
            raise TypeError(f"inventory entry {name}: leftovers must be a list of strings")
        sha = data.get("appliedSha")
        return cls(
            name=name, ownership=Ownership(data.get("ownership", "created")),
            deletion_protection=data.get("deletionProtection", True),
            region=str(data.get("region", "")), role_arn=str(data.get("roleArn", "")),
            applied_sha=sha if isinstance(sha, str) else None,
            pending_delete=data.get("pendingDelete", False), leftovers=tuple(leftovers),
            intent=Intent.from_json(data["intent"], name) if data.get("intent") else None,
        )


@dataclass(frozen=True)
class State:
    """The persisted state: the inventory of owned clusters. ``serial`` grows on every write."""

    inventory: Mapping[str, InventoryEntry]
    serial: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"version": STATE_FORMAT_VERSION, "serial": self.serial,
                "inventory": [e.to_json() for _, e in sorted(self.inventory.items())]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> State:
        """Strict: an unknown format version or a malformed entry raises ``ValueError`` or
        ``TypeError`` (the backends turn them into a StateError naming where it lives)."""
        version = data.get("version", STATE_FORMAT_VERSION)
        if version != STATE_FORMAT_VERSION:
            raise ValueError(f"state format {version!r} is not the one this gridops reads "
                             f"({STATE_FORMAT_VERSION}); upgrade gridops")
        items = data.get("inventory", [])
        if not isinstance(items, list) or not all(isinstance(e, Mapping) for e in items):
            raise TypeError("inventory must be a list of objects")
        entries = [InventoryEntry.from_json(e) for e in items]
        if len({e.name for e in entries}) != len(entries):
            raise ValueError("inventory lists a cluster twice")
        serial = data.get("serial", 0)
        if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
            raise TypeError("serial must be a whole number >= 0")
        return cls(inventory={e.name: e for e in entries}, serial=serial)

    @classmethod
    def empty(cls) -> State:
        return cls(inventory={})
