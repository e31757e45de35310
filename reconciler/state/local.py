"""The ``local`` state backend: one JSON file, written atomically, guarded by a file lock,
and an append-only journal beside it.

The version token is the state's ``serial`` (and how many journal records lie on it): a write
refuses when either moved since it was read, and every write stores ``serial + 1``. The apply
lock is an OS file lock on ``PATH.lock`` (released by the OS if its holder dies); beside it
``PATH.lock.json`` says who holds it, so a second run can name the holder.

``record`` appends one line to ``PATH.journal``: the inventory records it sets or drops and
the serial of the state it lies on. Every reader folds the journal's lines for the current
serial over the state, so each cluster of an apply costs one short append, not a rewrite of
the whole file; ``settle`` (the end of an apply) and every ``write`` fold it into the state
and start a new journal. A line cut short by a crash was never acknowledged and is ignored;
lines left from before the last write (a crash between the write and the journal's removal)
name an older serial and are ignored too: that write holds them already.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from reconciler.errors import LockError, StateConflict, StateError
from reconciler.model import STATE_FORMAT_VERSION, InventoryEntry, State
from reconciler.ports import WAIT_REPORT_SECONDS, LockInfo, LockWaitReport, StateSnapshot

if TYPE_CHECKING:  # filelock loads with the first lock: a plan only reads
    from filelock import FileLock

#: How long a write waits for a lock another process holds (an apply in progress).
WRITE_LOCK_WAIT = 5.0


class LocalStateBackend:
    """State in a JSON file at ``path`` (created with its folder on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.info_path = self.path.with_name(self.path.name + ".lock.json")
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self._lock: FileLock | None = None  # made by _os_lock
        self._making_lock = threading.Lock()
        #: (the state file's stat signature, its serial) as last read or written here
        self._known: tuple[tuple[int, int, int], int] | None = None

    def read(self) -> StateSnapshot:
        state, version = self._folded()
        return StateSnapshot(state=state, version=version)

    def write(self, state: State, *, expected_version: str | None) -> StateSnapshot:
        with self._held(WRITE_LOCK_WAIT):
            current, stored = self._folded()
            if stored != expected_version:
                raise StateConflict(
                    f"state file {self.path} changed since it was read (version "
                    f"{expected_version or 'none'} -> {stored or 'none'}); nothing was written",
                    hint="another run wrote it: run plan again")
            return self._store(state, on=current.serial if stored is not None else 0)

    def record(self, entries: Mapping[str, InventoryEntry | None], *,
               durable: bool = True) -> None:
        if not entries:
            return
        with self._held(WRITE_LOCK_WAIT):
            line = json.dumps({
                "base": self._serial(),
                "set": [e.to_json() for e in entries.values() if e is not None],
                "drop": [name for name, e in entries.items() if e is None],
            }, sort_keys=True, separators=(",", ":")) + "\n"
            try:
                with open(self.journal_path, "a+b") as f:
                    _cut_torn_tail(f)
                    f.write(line.encode())
                    f.flush()
                    if durable:
                        os.fsync(f.fileno())
            except OSError as e:
                raise StateError(f"cannot write the journal {self.journal_path}: "
                                 f"{e.strerror}") from e

    def settle(self) -> None:
        with self._held(WRITE_LOCK_WAIT):
            if not self.journal_path.exists():
                return
            # folded once, under the lock that keeps it as read (``write`` would fold it again
            # to check a version this run just read)
            state, version = self._folded()
            self._store(state, on=state.serial if version is not None else 0)

    @contextlib.contextmanager
    def lock(self, info: LockInfo, *, wait_seconds: float = 0,
             on_wait: LockWaitReport | None = None) -> Iterator[None]:
        with self._held(wait_seconds, on_wait):
            self._write_info(info)
            try:
                yield
            finally:
                self.info_path.unlink(missing_ok=True)

    def force_unlock(self, lock_id: str, *, force: bool = False) -> None:
        """Remove a lock whose holder died. A live holder still has the OS lock: then this
        refuses, even with ``force`` (the holder is certainly running)."""
        holder = self._read_info()
        if holder.get("id") != lock_id:
            raise LockError(f"lock {lock_id} is not the lock on {self.path}"
                            + (f" (held as {holder.get('id')})" if holder else " (none held)"),
                            holder=holder)
        from filelock import FileLock, Timeout

        probe = FileLock(str(self.lock_path), thread_local=False)
        try:
            probe.acquire(timeout=0)
        except Timeout as e:
            raise LockError(f"lock {lock_id} on {self.path} is held by a live process: "
                            f"{_describe(holder)}; nothing was released", holder=holder,
                            hint="wait for it to finish, or run apply with --lock-wait "
                                 "SECONDS") from e
        try:
            self.info_path.unlink(missing_ok=True)
        finally:
            probe.release()

    # --- private ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _held(self, wait_seconds: float, on_wait: LockWaitReport | None = None
              ) -> Iterator[None]:
        """The OS lock, reentrant for this backend, or LockError naming whoever holds it.
        While waiting, ``on_wait(holder, seconds waited)`` hears of it at the start and
        every ``WAIT_REPORT_SECONDS``."""
        from filelock import Timeout

        lock = self._os_lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        deadline = start + max(wait_seconds, 0)
        first = True
        while True:
            left = max(min(deadline - time.monotonic(), WAIT_REPORT_SECONDS), 0)
            try:
                lock.acquire(timeout=0 if first and on_wait else left)
                break
            except Timeout as e:
                if time.monotonic() >= deadline:
                    raise self._locked_error() from e
                if on_wait is not None:
                    on_wait(self._read_info(), time.monotonic() - start)
            first = False
        try:
            yield
        finally:
            lock.release()

    def _os_lock(self) -> FileLock:
        """The one OS lock of this backend, made on first use (by whichever thread first
        writes)."""
        with self._making_lock:
            if self._lock is None:
                from filelock import FileLock

                self._lock = FileLock(str(self.lock_path))
            return self._lock

    def _locked_error(self) -> LockError:
        holder = self._read_info()
        return LockError(f"state {self.path} is locked by {_describe(holder)}", holder=holder,
                         hint="another apply is running: wait for it with --lock-wait SECONDS "
                              "(force-unlock refuses a lock whose holder is alive)")

    def _store(self, state: State, *, on: int) -> StateSnapshot:
        """Write ``state`` as the serial after ``on`` and start a new journal (the lock
        held)."""
        new = replace(state, serial=on + 1)
        self._replace(encode_state(new))
        self._known = (_signature(self.path), new.serial)
        self.journal_path.unlink(missing_ok=True)
        return StateSnapshot(state=new, version=str(new.serial))

    def _folded(self) -> tuple[State, str | None]:
        """The state with the journal's current lines folded in, and its version token."""
        state = self._load()
        serial = state.serial if state else 0
        lines = self._journal_for(serial)
        if state is None and not lines:
            return State.empty(), None
        inventory = dict(state.inventory) if state else {}
        for line in lines:
            for entry in line[0]:
                inventory[entry.name] = entry
            for name in line[1]:
                inventory.pop(name, None)
        version = str(serial) + (f"+{len(lines)}" if lines else "")
        return State(inventory=inventory, serial=serial), version

    def _journal_for(self, serial: int) -> list[tuple[list[InventoryEntry], list[str]]]:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StateError(f"cannot read the journal {self.journal_path}: {e.strerror}") from e
        complete = raw[:raw.rfind(b"\n") + 1]  # a cut-off last line was never acknowledged
        lines = []
        for number, text in enumerate(complete.splitlines(), start=1):
            try:
                data: Any = json.loads(text)
                if data["base"] != serial:
                    continue
                entries = [InventoryEntry.from_json(e) for e in data["set"]]
                drops = [str(name) for name in data["drop"]]
            except (ValueError, KeyError, TypeError) as e:
                raise StateError(f"the journal {self.journal_path} is corrupt at line "
                                 f"{number}: {e}", hint="restore the state from a backup; "
                                 "gridops will not overwrite it") from e
            lines.append((entries, drops))
        return lines

    def _serial(self) -> int:
        """The stored state's serial, parsed again only when the file changed."""
        signature = _signature(self.path)
        if self._known is not None and self._known[0] == signature:
            return self._known[1]
        state = self._load()
        return state.serial if state else 0

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
            state = State.from_json(data)
        except (ValueError, KeyError, TypeError) as e:
            raise StateError(f"state file {self.path} is corrupt: {e}",
                             hint="restore it from a backup or git history; gridops will "
                                  "not overwrite it") from e
        self._known = (_signature(self.path), state.serial)
        return state

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


def _describe(holder: Mapping[str, str]) -> str:
    if not holder:
        return "another process"
    run = f" (run {holder['run']})" if holder.get("run") else ""
    return f"{holder.get('who', '?')} since {holder.get('when', '?')}{run}"


def encode_state(state: State) -> str:
    """The state file's text: one inventory record per line (readable, and encoded by the
    C JSON encoder: ``indent`` would make it the pure-Python one)."""
    head = json.dumps({"serial": state.serial, "version": STATE_FORMAT_VERSION},
                      sort_keys=True)[:-1]
    entries = [json.dumps(e.to_json(), sort_keys=True) for _, e in sorted(state.inventory.items())]
    body = ",\n  ".join(entries)
    return f'{head}, "inventory": [\n  {body}\n]}}\n' if entries else f'{head}, "inventory": []}}\n'


def _signature(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _cut_torn_tail(f: BinaryIO) -> None:
    """Drop a last line a crash cut short, so the next line starts on a line of its own."""
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return
    f.seek(0)
    data = f.read()
    f.truncate(data.rfind(b"\n") + 1)
    f.seek(0, os.SEEK_END)


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
