"""The edges the core talks to, as protocols. Real implementations live in ``live/``,
``state/``, ``sources/secrets.py`` and ``aws/``; the core only sees these shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.model import InventoryEntry, LiveCluster, SecretRef, State


class GridAPI(Protocol):
    """The Grid cluster API (grid-api.md). Every method raises ``GridAPIError`` subclasses."""

    def list_clusters(self, *, phase_not_in: Sequence[str] = ...,
                      phase_in: Sequence[str] = (), cluster_type_in: Sequence[str] = (),
                      cluster_type_not_in: Sequence[str] = ()) -> list[LiveCluster]:
        """One ``GET /v1/core/clusters``; by default excludes DELETED clusters."""
        ...

    def get_cluster(self, cluster_id: str) -> LiveCluster: ...

    def create_cluster(self, name: str, spec: Mapping[str, Any]) -> LiveCluster: ...

    def update_cluster(self, cluster_id: str, name: str,
                       spec: Mapping[str, Any]) -> LiveCluster: ...

    def delete_cluster(self, cluster_id: str, *, force: bool = False) -> None: ...

    def instance_types(self, cluster_id: str) -> list[dict[str, Any]]:
        """The instance types a cluster may use, with their hourly prices."""
        ...


@dataclass(frozen=True)
class StateSnapshot:
    """A state as read, with the backend's opaque ``version`` token (etag, mtime+serial, ...)
    that ``write`` checks so a concurrent change is never lost."""

    state: State
    version: str | None


@dataclass(frozen=True)
class LockInfo:
    """Who holds the apply lock: ``id`` is what ``gridops force-unlock ID`` takes."""

    id: str
    who: str
    when: str
    run: str = ""

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "who": self.who, "when": self.when, "run": self.run}


#: Hears of a wait for the apply lock: who holds it (``LockInfo.to_json()``, {} when not
#: known) and how many seconds have been waited.
LockWaitReport = Callable[[Mapping[str, str], float], None]
#: How often a backend reports a wait for the apply lock (at its start, then this often).
WAIT_REPORT_SECONDS = 30.0


class StateBackend(Protocol):
    """Where the inventory lives (``local`` JSON file, ``s3``)."""

    def read(self) -> StateSnapshot:
        """The current state; an empty State with version None when none exists yet."""
        ...

    def write(self, state: State, *, expected_version: str | None) -> StateSnapshot:
        """Write ``state`` only if the stored version is still ``expected_version``;
        raises ``StateConflict`` otherwise. Returns the new snapshot."""
        ...

    def record(self, entries: Mapping[str, InventoryEntry | None], *,
               durable: bool = True) -> None:
        """Set (an entry) or drop (None) these inventory records, whatever else the state
        holds; cheap enough to call for every cluster of an apply (``local`` appends to a
        journal beside the state). ``durable``: on disk before returning (fsync); else it
        survives the process being killed, not the machine failing."""
        ...

    def settle(self) -> None:
        """Fold what ``record`` wrote into the state itself (the end of an apply)."""
        ...

    def lock(self, info: LockInfo, *, wait_seconds: float = 0,
             on_wait: LockWaitReport | None = None) -> AbstractContextManager[None]:
        """Hold the apply lock for the ``with`` block; raises ``LockError`` naming the holder
        when it cannot be had within ``wait_seconds``. While it waits, ``on_wait(holder,
        seconds waited)`` hears of it when the wait starts and every 30 s."""
        ...

    def force_unlock(self, lock_id: str, *, force: bool = False) -> None:
        """Release a lock left by a dead run; raises ``LockError`` if ``lock_id`` is not it,
        or when its holder may be alive (``force`` overrides only what cannot be known)."""
        ...


class SecretResolver(Protocol):
    """Resolves secret references lazily, once per run, and remembers what it resolved so every
    writer can mask the values."""

    def resolve(self, ref: SecretRef, *, cluster: str) -> str:
        """The value; raises ``SecretError`` naming the cluster and the reference."""
        ...

    def resolved_values(self) -> Iterator[str]: ...
