"""The ``local`` state backend: one JSON file, written atomically, guarded by a file lock.

The version token is the state's ``serial``: a write refuses when the stored serial moved
since it was read, and every write stores ``serial + 1``. The apply lock is an OS file lock on
``PATH.lock`` (released by the OS if its holder dies); beside it ``PATH.lock.json`` says who
holds it, so a second run can name the holder.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from reconciler.errors import LockError, StateConflict, StateError
from reconciler.model import State
from reconciler.ports import LockInfo, StateSnapshot

#: How long a write waits for a lock another process holds (an apply in progress).
WRITE_LOCK_WAIT = 5.0


class LocalStateBackend:
    """State in a JSON file at ``path`` (created with its folder on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.info_path = self.path.with_name(self.path.name + ".lock.json")
        self._lock = FileLock(str(self.lock_path))

    def read(self) -> StateSnapshot:
        state = self._load()
        if state is None:
            return StateSnapshot(state=State.empty(), version=None)
        return StateSnapshot(state=state, version=str(state.serial))

    def write(self, state: State, *, expected_version: str | None) -> StateSnapshot:
        with self._held(WRITE_LOCK_WAIT):
            current = self._load()
            stored = None if current is None else str(current.serial)
            if stored != expected_version:
                raise StateConflict(
                    f"state file {self.path} changed since it was read (serial "
                    f"{expected_version or 'none'} -> {stored or 'none'}); nothing was written",
                    hint="another run wrote it: run plan again")
            new = replace(state, serial=(current.serial if current else 0) + 1)
            self._replace(json.dumps(new.to_json(), indent=2, sort_keys=True) + "\n")
        return StateSnapshot(state=new, version=str(new.serial))

    @contextlib.contextmanager
    def lock(self, info: LockInfo, *, wait_seconds: float = 0) -> Iterator[None]:
        with self._held(wait_seconds):
            self._write_info(info)
            try:
                yield
            finally:
                self.info_path.unlink(missing_ok=True)

    def force_unlock(self, lock_id: str) -> None:
        holder = self._read_info()
        if holder.get("id") != lock_id:
            raise LockError(f"lock {lock_id} is not the lock on {self.path}"
                            + (f" (held as {holder.get('id')})" if holder else " (none held)"),
                            holder=holder)
        self.info_path.unlink(missing_ok=True)
        self.lock_path.unlink(missing_ok=True)

    # --- private ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _held(self, wait_seconds: float) -> Iterator[None]:
        """The OS lock, reentrant for this backend, or LockError naming whoever holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=max(wait_seconds, 0))
        except Timeout as e:
            raise self._locked_error() from e
        try:
            yield
        finally:
            self._lock.release()

    def _locked_error(self) -> LockError:
        holder = self._read_info()
        who = (f"{holder.get('who', '?')} since {holder.get('when', '?')}"
               f"{' (run ' + holder['run'] + ')' if holder.get('run') else ''}"
               if holder else "another process")
        return LockError(f"state {self.path} is locked by {who}", holder=holder,
                         hint=f"wait for it to finish; if that run is dead: "
                              f"gridops force-unlock {holder.get('id', 'LOCK_ID')}")

    def _load(self) -> State | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StateError(f"cannot read state file {self.path}: {e.strerror}") from e
        try:
            data: Any = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError(f"expected an object, found {type(data).__name__}")
            return State.from_json(data)
        except (ValueError, KeyError, TypeError) as e:
            raise StateError(f"state file {self.path} is corrupt: {e}",
                             hint="restore it from a backup or git history; gridops will "
                                  "not overwrite it") from e

    def _replace(self, text: str) -> None:
        """Write to a temporary file beside the state, fsync, then rename over it."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            raise StateError(f"cannot write state file {self.path}: {e.strerror}") from e
        _fsync_dir(self.path.parent)

    def _write_info(self, info: LockInfo) -> None:
        self.info_path.write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")

    def _read_info(self) -> dict[str, str]:
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (not supported everywhere, hence best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
