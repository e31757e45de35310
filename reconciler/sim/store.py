"""The emulator's state in SQLite: clusters (spec and timeline) and standing failure rules.

One connection per store, shared by the server's threads under a lock; WAL mode and
``BEGIN IMMEDIATE`` keep it safe when a second process (a ``sim serve`` and an in-process
``sim://`` server) opens the same file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.sim.phases import Retry, Timeline

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clusters (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    pending_at REAL NOT NULL,
    ready_at REAL NOT NULL,
    failed_at REAL,
    delete_requested_at REAL,
    deleted_at REAL,
    recovered_at REAL,
    retry_polls INTEGER NOT NULL DEFAULT 0,
    retry_seen INTEGER NOT NULL DEFAULT 0,
    retry_recovered_at REAL
);
CREATE TABLE IF NOT EXISTS failures (name TEXT PRIMARY KEY, reason TEXT NOT NULL,
                                     recover_seconds REAL);
"""
#: Columns added after the first release: (table, column, type), added to an older database.
_ADDED_COLUMNS = (("clusters", "recovered_at", "REAL"),
                  ("failures", "recover_seconds", "REAL"),
                  ("clusters", "retry_polls", "INTEGER NOT NULL DEFAULT 0"),
                  ("clusters", "retry_seen", "INTEGER NOT NULL DEFAULT 0"),
                  ("clusters", "retry_recovered_at", "REAL"))
_COLUMNS = ("name", "id", "spec", "reason", "created_at", "pending_at", "ready_at", "failed_at",
            "delete_requested_at", "deleted_at", "recovered_at", "retry_polls", "retry_seen",
            "retry_recovered_at")


@dataclass(frozen=True)
class ClusterRecord:
    """A stored cluster."""

    #: the cluster name (unique among stored clusters; a re-create replaces a DELETED one)
    name: str
    #: the id Grid answers; for BYOC clusters the name itself
    id: str
    #: the stored ClusterSpec, zero values dropped, server-set fields included, no desiredState
    spec: Mapping[str, Any]
    #: when it reaches each phase
    timeline: Timeline
    #: why it fails, answered as ``status.reason`` once the phase is FAILED
    reason: str = ""
    #: a FAILED spell it recovers from (polls counted)
    retry: Retry = Retry()

    @property
    def cluster_type(self) -> str:
        return str(self.spec.get("clusterType", ""))


class Transaction:
    """Reads and writes inside one SQLite transaction (see ``Store.transaction``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, cluster_id: str) -> ClusterRecord | None:
        row = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM clusters WHERE id = ?",
                                 (cluster_id,)).fetchone()
        return _record(row) if row else None

    def all(self) -> list[ClusterRecord]:
        rows = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM clusters "
                                  "ORDER BY created_at, name").fetchall()
        return [_record(row) for row in rows]

    def put(self, record: ClusterRecord) -> None:
        t, r = record.timeline, record.retry
        self._conn.execute(
            f"INSERT OR REPLACE INTO clusters ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_COLUMNS))})",
            (record.name, record.id, json.dumps(record.spec, sort_keys=True), record.reason,
             t.created_at, t.pending_at, t.ready_at, t.failed_at, t.delete_requested_at,
             t.deleted_at, t.recovered_at, r.polls, r.seen, r.recovered_at))

    def failure_rule(self, name: str) -> str | None:
        row = self._conn.execute("SELECT reason FROM failures WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def recovery_rule(self, name: str) -> float | None:
        """Seconds after which a failure of ``name`` turns back to RUNNING (None: never)."""
        row = self._conn.execute("SELECT recover_seconds FROM failures WHERE name = ?",
                                 (name,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def failure_rules(self) -> dict[str, str]:
        rows = self._conn.execute("SELECT name, reason FROM failures ORDER BY name").fetchall()
        return {str(name): str(reason) for name, reason in rows}

    def set_failure_rule(self, name: str, reason: str,
                         recover_seconds: float | None = None) -> None:
        self._conn.execute("INSERT OR REPLACE INTO failures (name, reason, recover_seconds) "
                           "VALUES (?, ?, ?)", (name, reason, recover_seconds))

    def clear_failure_rule(self, name: str) -> None:
        self._conn.execute("DELETE FROM failures WHERE name = ?", (name,))


class Store:
    """The SQLite database at ``path``. Its folder is created when missing, but only inside
    a folder that exists (``.gridops/`` in a repository), never a whole made-up path."""

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            raise ConfigError(f"the emulator database {path} is a folder",
                              hint="name a file, e.g. sim://.gridops/sim.db")
        if not path.parent.parent.is_dir():
            raise ConfigError(f"the folder of the emulator database {path} does not exist",
                              hint="create it, or use a path inside the repository")
        path.parent.mkdir(exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                         timeout=10.0)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            _add_columns(self._conn)
        except sqlite3.Error as e:
            raise ConfigError(f"the emulator database {path} cannot be used: {e}",
                              hint="name another file, or remove it to start afresh") from e

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One transaction, committed when the block ends and rolled back when it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Transaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, column, kind in _ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError as e:  # another process added it just now
                if "duplicate column" not in str(e):
                    raise


def _record(row: tuple[Any, ...]) -> ClusterRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    return ClusterRecord(
        name=values["name"], id=values["id"], spec=json.loads(values["spec"]),
        reason=values["reason"],
        timeline=Timeline(created_at=values["created_at"], pending_at=values["pending_at"],
                          ready_at=values["ready_at"], failed_at=values["failed_at"],
                          delete_requested_at=values["delete_requested_at"],
                          deleted_at=values["deleted_at"], recovered_at=values["recovered_at"]),
        retry=Retry(polls=values["retry_polls"], seen=values["retry_seen"],
                    recovered_at=values["retry_recovered_at"]),
    )
