"""The emulator's websocket framing (RFC 6455) and log events, as pure functions."""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

import pytest

from reconciler.model import PHASE_DELETED, PHASE_FAILED, PHASE_RUNNING
from reconciler.sim.logs import lifecycle_events
from reconciler.sim.phases import Retry, Timeline, new_timeline, request_delete
from reconciler.sim.store import ClusterRecord, Store
from reconciler.sim.websocket import OP_CLOSE, OP_TEXT, accept_key, decode_frame, encode_frame


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame: masked, as RFC 6455 requires of clients."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_the_accept_key_is_the_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536], ids=str)
def test_frames_of_every_length_encoding_decode_back(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    assert decode_frame(encode_frame(OP_TEXT, payload)) == (
        OP_TEXT, payload, len(encode_frame(OP_TEXT, payload)))
    client = _masked(OP_CLOSE, payload)
    assert decode_frame(client) == (OP_CLOSE, payload, len(client))


def test_an_incomplete_frame_waits_for_more_bytes() -> None:
    frame = _masked(OP_TEXT, b"x" * 300)
    assert all(decode_frame(frame[:cut]) is None for cut in (0, 1, 3, 7, len(frame) - 1))


def _record(timeline: Timeline, reason: str = "", retry: Retry | None = None) -> ClusterRecord:
    return ClusterRecord(name="c", id="c", spec={}, timeline=timeline, reason=reason,
                         retry=retry or Retry())


@pytest.mark.parametrize(("record", "keys"), [
    (_record(new_timeline(0.0, 9.0)), ["created", "pending", "running"]),
    (_record(new_timeline(0.0, 9.0, fails=True), reason="quota"),
     ["created", "pending", "failed"]),
    (_record(new_timeline(0.0, 9.0), retry=Retry(polls=2, seen=2, recovered_at=20.0)),
     ["created", "pending", "retrying", "running"]),
    (_record(new_timeline(0.0, 9.0, fails=True, recover_seconds=5.0), reason="retry"),
     ["created", "pending", "failed", "recovered"]),
    (_record(request_delete(new_timeline(0.0, 9.0), 4.0, 3.0, force=True)),
     ["created", "pending", "delete", "deleted"]),
    (_record(request_delete(new_timeline(0.0, 9.0), 12.0, 3.0, force=False)),
     ["created", "pending", "running", "delete", "deleted"]),
], ids=["running", "failed", "retried", "recovering-failure", "forced-before-ready",
        "deleted-after-ready"])
def test_lifecycle_events_follow_the_timeline(record: ClusterRecord, keys: list[str]) -> None:
    events = lifecycle_events(record)
    assert [e.key for e in events] == keys
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert events[-1].phase in (PHASE_RUNNING, PHASE_FAILED, PHASE_DELETED)


def test_a_database_made_before_the_retry_columns_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE clusters (name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
                     "spec TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', created_at REAL NOT "
                     "NULL, pending_at REAL NOT NULL, ready_at REAL NOT NULL, failed_at REAL, "
                     "delete_requested_at REAL, deleted_at REAL)")
        conn.execute("INSERT INTO clusters VALUES ('old', 'old', '{}', '', 1, 2, 3, NULL, NULL, "
                     "NULL)")
    conn.close()
    store = Store(path)
    try:
        with store.transaction(write=False) as tx:
            record = tx.get("old")
    finally:
        store.close()
    assert record is not None and record.retry == Retry()
