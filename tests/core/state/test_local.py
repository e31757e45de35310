from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.errors import ConfigError, LockError, StateConflict, StateError
from reconciler.model import InventoryEntry, State
from reconciler.ports import LockInfo
from reconciler.sources.settings import Settings, StateSettings
from reconciler.state import LocalStateBackend, open_state

LOCK = LockInfo(id="lock-1", who="alice@laptop", when="2024-05-01T12:00:00Z", run="run-7")


def _state(*names: str) -> State:
    return State(inventory={n: InventoryEntry(name=n) for n in names})


def _temporary_files(backend: LocalStateBackend) -> list[str]:
    return [p.name for p in backend.path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture
def backend(tmp_path: Path) -> LocalStateBackend:
    return LocalStateBackend(tmp_path / ".gridops" / "state.json")


def test_read_of_a_missing_file_is_an_empty_state(backend: LocalStateBackend) -> None:
    snap = backend.read()
    assert snap.state == State.empty() and snap.version is None
    assert not backend.path.exists()


def test_write_stores_the_state_and_bumps_the_serial(backend: LocalStateBackend) -> None:
    first = backend.write(_state("a"), expected_version=None)
    second = backend.write(_state("a", "b"), expected_version=first.version)
    assert (first.state.serial, second.state.serial) == (1, 2)
    assert backend.read() == second
    assert json.loads(backend.path.read_text())["serial"] == 2


def test_write_leaves_no_temporary_files_behind(backend: LocalStateBackend) -> None:
    backend.write(_state("a"), expected_version=None)
    assert _temporary_files(backend) == []


def test_write_replaces_the_file_atomically(backend: LocalStateBackend,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    snap = backend.write(_state("a"), expected_version=None)
    before = backend.path.read_text()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StateError, match="No space left on device"):
        backend.write(_state("a", "b"), expected_version=snap.version)
    assert backend.path.read_text() == before
    assert _temporary_files(backend) == []


@pytest.mark.parametrize("stale_version", [None, "7"], ids=["thought-new", "old-serial"])
def test_write_refuses_when_the_state_changed_since_read(backend: LocalStateBackend,
                                                         stale_version: str | None) -> None:
    backend.write(_state("a"), expected_version=None)
    with pytest.raises(StateConflict, match="changed since it was read"):
        backend.write(_state("x"), expected_version=stale_version)
    assert set(backend.read().state.inventory) == {"a"}


def test_corrupt_state_file_is_an_error_naming_it_and_never_overwritten(
        backend: LocalStateBackend) -> None:
    backend.path.parent.mkdir(parents=True)
    backend.path.write_text("{not json")
    with pytest.raises(StateError, match=str(backend.path)):
        backend.read()
    with pytest.raises(StateError, match="corrupt"):
        backend.write(_state("a"), expected_version=None)
    assert backend.path.read_text() == "{not json"


def test_second_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first, second = LocalStateBackend(path), LocalStateBackend(path)
    with first.lock(LOCK), pytest.raises(LockError) as locked, \
            second.lock(LockInfo(id="lock-2", who="bob", when="now")):
        pass
    assert "alice@laptop" in locked.value.message and "run-7" in locked.value.message
    assert locked.value.holder["id"] == "lock-1"
    assert "--lock-wait SECONDS" in (locked.value.hint or "")


def test_lock_is_free_again_after_the_block(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first, second = LocalStateBackend(path), LocalStateBackend(path)
    with first.lock(LOCK):
        pass
    with second.lock(LOCK):
        second.write(_state("a"), expected_version=None)
    assert not first.info_path.exists()


def test_lock_holder_can_write_the_state(backend: LocalStateBackend) -> None:
    with backend.lock(LOCK):
        snap = backend.write(_state("a"), expected_version=None)
    assert snap.state.serial == 1


def test_force_unlock_removes_a_lock_left_behind(backend: LocalStateBackend) -> None:
    backend.path.parent.mkdir(parents=True)
    backend.info_path.write_text(json.dumps(LOCK.to_json()))
    with pytest.raises(LockError, match="not the lock"):
        backend.force_unlock("lock-9")
    backend.force_unlock("lock-1")
    assert not backend.info_path.exists()


def test_open_state_opens_the_local_file_under_the_repo(tmp_path: Path) -> None:
    settings = Settings(state=StateSettings(backend="local", path="var/state.json"))
    backend = open_state(settings, tmp_path)
    assert isinstance(backend, LocalStateBackend)
    assert backend.path == tmp_path / "var" / "state.json"


def test_open_state_refuses_an_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown state backend 'gcs'"):
        open_state(Settings(state=StateSettings(backend="gcs")), tmp_path)


def test_open_state_dispatches_to_the_s3_backend(tmp_path: Path) -> None:
    from reconciler.state.s3 import S3StateBackend

    settings = Settings(state=StateSettings(backend="s3", bucket="b", key="gridops/state.json",
                                            region="us-east-1"))
    assert isinstance(open_state(settings, tmp_path), S3StateBackend)


@pytest.mark.parametrize("text", [
    '{"version": 2, "serial": 1, "inventory": []}',
    '{"version": 1, "serial": 1, "inventory": [{"name": 5}]}',
    '{"version": 1, "serial": 1, "inventory": [{"name": "a", "deletionProtection": "no"}]}',
    '{"version": 1, "serial": 1, "inventory": [{"name": "a"}, {"name": "a"}]}',
    '{"version": 1, "serial": "1", "inventory": []}',
], ids=["future-version", "name-not-string", "protection-not-bool", "twice", "serial-string"])
def test_a_malformed_or_future_state_is_refused_not_guessed_at(tmp_path: Path,
                                                               text: str) -> None:
    from reconciler.errors import StateError
    from reconciler.state.local import LocalStateBackend

    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateError, match="state.json"):
        LocalStateBackend(path).read()
    assert path.read_text() == text


def test_an_entry_without_deletion_protection_reads_as_protected(tmp_path: Path) -> None:
    from reconciler.state.local import LocalStateBackend

    path = tmp_path / "state.json"
    path.write_text('{"version": 1, "serial": 1, "inventory": [{"name": "a"}]}')
    assert LocalStateBackend(path).read().state.inventory["a"].deletion_protection is True


# --- the journal ------------------------------------------------------------------------------

def test_records_are_folded_into_every_read_and_settled_into_the_file(
        backend: LocalStateBackend) -> None:
    backend.write(_state("a", "b"), expected_version=None)
    backend.record({"c": InventoryEntry(name="c"), "a": None})
    backend.record({"b": InventoryEntry(name="b", deletion_protection=True)}, durable=False)
    snap = backend.read()
    assert sorted(snap.state.inventory) == ["b", "c"]
    assert snap.state.inventory["b"].deletion_protection is True
    assert snap.version == "1+2"
    assert json.loads(backend.path.read_text())["serial"] == 1  # the file itself unchanged
    backend.settle()
    assert not backend.journal_path.exists()
    assert sorted(e["name"] for e in json.loads(backend.path.read_text())["inventory"]) == \
        ["b", "c"]
    assert backend.read().version == "2"


def test_a_record_between_read_and_write_makes_the_write_refuse(
        backend: LocalStateBackend) -> None:
    backend.write(_state("a"), expected_version=None)
    snap = backend.read()
    backend.record({"b": InventoryEntry(name="b")})
    with pytest.raises(StateConflict):
        backend.write(_state("a"), expected_version=snap.version)
    assert sorted(backend.read().state.inventory) == ["a", "b"]


def test_a_journal_line_cut_short_by_a_crash_is_ignored_and_cut_before_the_next(
        backend: LocalStateBackend) -> None:
    backend.write(_state("a"), expected_version=None)
    backend.record({"b": InventoryEntry(name="b")})
    with open(backend.journal_path, "ab") as f:
        f.write(b'{"base": 1, "set": [{"name": "c"')  # killed mid-write
    assert sorted(backend.read().state.inventory) == ["a", "b"]
    backend.record({"d": InventoryEntry(name="d")})
    assert sorted(backend.read().state.inventory) == ["a", "b", "d"]


def test_journal_lines_left_from_before_the_last_write_are_not_applied_again(
        backend: LocalStateBackend) -> None:
    backend.write(_state("a"), expected_version=None)
    backend.record({"b": InventoryEntry(name="b")})
    stale = backend.journal_path.read_bytes()
    backend.settle()
    snap = backend.read()
    backend.write(State(inventory={}, serial=snap.state.serial),
                  expected_version=snap.version)  # b and a removed on purpose
    backend.journal_path.write_bytes(stale)  # as if the write crashed before removing it
    assert backend.read().state.inventory == {}


def test_a_corrupt_journal_line_is_refused_never_guessed_at(backend: LocalStateBackend) -> None:
    backend.write(_state("a"), expected_version=None)
    backend.journal_path.write_text('not json\n{"base": 1, "set": [], "drop": []}\n')
    with pytest.raises(StateError, match="journal .* is corrupt at line 1"):
        backend.read()


def test_force_unlock_refuses_a_lock_whose_holder_is_alive(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with LocalStateBackend(path).lock(LOCK):
        with pytest.raises(LockError, match="held by a live process: alice@laptop since "
                                            "2024-05-01T12:00:00Z") as refused:
            LocalStateBackend(path).force_unlock("lock-1", force=True)
        assert "--lock-wait" in (refused.value.hint or "")
        assert LocalStateBackend(path).info_path.exists()


def test_a_wait_for_the_lock_is_reported_at_its_start(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    heard: list[tuple[str, float]] = []
    second = LocalStateBackend(path).lock(LOCK, wait_seconds=0.2,
                                          on_wait=lambda h, s: heard.append((h["who"], s)))
    with LocalStateBackend(path).lock(LOCK), pytest.raises(LockError), second:
        pass
    assert [who for who, _ in heard] == ["alice@laptop"]
    assert heard[0][1] < 0.2
