"""The ``s3`` state backend: the inventory as one JSON object in a (versioned) bucket.

The version token is the object's ETag. Writes are S3 conditional writes: ``If-Match`` the
ETag that was read, or ``If-None-Match: *`` when nothing existed, so a concurrent change is
refused by S3 itself (``StateConflict``) and never lost. Every write stores ``serial + 1``.

The apply lock is either a DynamoDB item (``lock_table``: partition key ``LockID``, a string,
the same shape Terraform's S3 backend uses) put with ``attribute_not_exists(LockID)``, or an
object ``KEY.lock`` beside the state created with ``If-None-Match: *``. Both hold who, when,
which run and the lock id; ``gridops force-unlock ID`` releases a lock left by a dead run.
Reading (what ``plan`` does) never takes the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from reconciler.aws.calls import ACCESS_DENIED_CODES, error_code, error_message
from reconciler.aws.locks import DynamoLock, ObjectLock
from reconciler.aws.session import SessionFactory
from reconciler.errors import ConfigError, LockError, StateConflict, StateError
from reconciler.logs import get_logger
from reconciler.model import InventoryEntry, State
from reconciler.ports import WAIT_REPORT_SECONDS, LockInfo, LockWaitReport, StateSnapshot

log = get_logger(__name__)
T = TypeVar("T")

#: S3's answers to a conditional write whose condition no longer holds.
CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})


class S3StateBackend:
    """State at ``s3://bucket/key`` in ``region``; ``lock_table`` names a DynamoDB lock table
    (else the lock is an S3 object ``key + ".lock"``)."""

    #: Seconds between attempts while waiting for a lock.
    poll_seconds: float = 2.0

    def __init__(self, bucket: str, key: str, region: str, lock_table: str = "", *,
                 sessions: SessionFactory | None = None) -> None:
        if not bucket or not key:
            raise ConfigError("the s3 state backend needs `bucket` and `key`",
                              hint="state: {backend: s3, bucket: ..., key: ..., region: ...}")
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "")
        if not region:
            raise ConfigError("the s3 state backend needs `region`",
                              hint="add region: to state in gridops.yaml")
        self.bucket, self.key, self.region = bucket, key, region
        self.url = f"s3://{bucket}/{key}"
        self._sessions = sessions or SessionFactory()
        self._s3 = self._sessions.client("s3", region)
        self._lock = (DynamoLock(self._sessions.client("dynamodb", region), lock_table,
                                 f"{bucket}/{key}") if lock_table
                      else ObjectLock(self._s3, bucket, key + ".lock"))
        self._versioning_checked = False

    # --- state ---------------------------------------------------------------------------------

    def read(self) -> StateSnapshot:
        """The stored state and its ETag; an empty state and None when there is none."""
        self._warn_if_unversioned()
        try:
            answer = self._call("read", lambda: self._s3.get_object(Bucket=self.bucket,
                                                                     Key=self.key))
        except _Missing:
            return StateSnapshot(state=State.empty(), version=None)
        return StateSnapshot(state=parse_state(answer["Body"].read(), self.url),
                             version=str(answer["ETag"]))

    def write(self, state: State, *, expected_version: str | None) -> StateSnapshot:
        """Store ``state`` only if the object is still at ``expected_version``."""
        new = replace(state, serial=state.serial + 1)
        body = (json.dumps(new.to_json(), indent=2, sort_keys=True) + "\n").encode()
        condition = {"IfNoneMatch": "*"} if expected_version is None else \
            {"IfMatch": expected_version}
        try:
            answer = self._s3.put_object(Bucket=self.bucket, Key=self.key, Body=body,
                                         ContentType="application/json", **condition)
        except ClientError as e:
            if error_code(e) in CONFLICT_CODES:
                raise StateConflict(f"the state {self.url} changed since it was read; "
                                    "nothing was written",
                                    hint="another run wrote it: run plan again") from e
            raise self._error("write", e) from e
        except BotoCoreError as e:
            raise StateError(f"cannot write the state {self.url}: {e}") from e
        return StateSnapshot(state=new, version=str(answer["ETag"]))

    def record(self, entries: Mapping[str, InventoryEntry | None], *,
               durable: bool = True) -> None:
        """One conditional write of the whole state with these records set or dropped (the
        apply engine calls it once per group of results, not per cluster)."""
        if not entries:
            return
        for attempt in range(_RECORD_ATTEMPTS):
            snapshot = self.read()
            inventory = dict(snapshot.state.inventory)
            for name, entry in entries.items():
                if entry is None:
                    inventory.pop(name, None)
                else:
                    inventory[name] = entry
            try:
                self.write(replace(snapshot.state, inventory=inventory),
                           expected_version=snapshot.version)
                return
            except StateConflict:
                if attempt == _RECORD_ATTEMPTS - 1:
                    raise

    def settle(self) -> None:
        """Nothing to fold: every record is written to the state object itself."""

    # --- lock ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, info: LockInfo, *, wait_seconds: float = 0,
             on_wait: LockWaitReport | None = None) -> Iterator[None]:
        """Hold the apply lock for the block; ``LockError`` names the holder after waiting
        up to ``wait_seconds`` (``on_wait`` hears of the wait at its start and every 30 s)."""
        self._acquire(info, wait_seconds, on_wait)
        try:
            yield
        finally:
            self._call("release the lock on", lambda: self._lock.release(info.id))

    def force_unlock(self, lock_id: str, *, force: bool = False) -> None:
        """Release the lock if (and only if) ``lock_id`` is the one held, and it is older
        than a run can last (``RUN_TIMEOUT_SECONDS``) unless ``force``: whether its holder
        is alive cannot be known from here."""
        holder = self._call("read the lock on", self._lock.holder)
        if holder is None:
            raise LockError(f"the state {self.url} is not locked", hint="nothing to release")
        if holder.get("id") != lock_id:
            raise LockError(f"lock {lock_id} is not the lock on {self.url}: "
                            f"{describe_holder(holder)}", holder=holder,
                            hint="force-unlock takes the id of the lock that is held")
        age = lock_age_seconds(holder)
        if not force and (age is None or age < RUN_TIMEOUT_SECONDS):
            held_for = "for an unknown time" if age is None else f"for {age / 60:.0f} min"
            raise LockError(f"lock {lock_id} on {self.url} is held by "
                            f"{describe_holder(holder)}, {held_for}: younger than a run may "
                            f"last ({RUN_TIMEOUT_SECONDS // 60} min), so its run may be "
                            "alive; nothing was released", holder=holder,
                            hint=f"check that run has ended, then `gridops force-unlock "
                                 f"{lock_id} --force`; or wait with apply --lock-wait SECONDS")
        if not self._call("release the lock on", lambda: self._lock.release(lock_id)):
            raise LockError(f"the lock on {self.url} changed while it was being released",
                            hint="run force-unlock again if it is still needed")

    def _acquire(self, info: LockInfo, wait_seconds: float,
                 on_wait: LockWaitReport | None) -> None:
        start = time.monotonic()
        deadline = start + max(wait_seconds, 0)
        next_report = start
        while True:
            holder = self._call("lock", lambda: self._lock.acquire(info.to_json()))
            if holder is None:
                return
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                raise LockError(f"the state {self.url} is locked by {describe_holder(holder)}",
                                holder=holder,
                                hint="another apply is running: wait for it with --lock-wait "
                                     "SECONDS; if its run has died, release it with "
                                     f"`gridops force-unlock {holder.get('id', 'ID')}`")
            if on_wait is not None and now >= next_report:
                on_wait(holder, now - start)
                next_report = now + WAIT_REPORT_SECONDS
            time.sleep(min(self.poll_seconds, remaining))

    # --- AWS errors ----------------------------------------------------------------------------

    def _warn_if_unversioned(self) -> None:
        if self._versioning_checked:
            return
        self._versioning_checked = True
        with contextlib.suppress(ClientError, BotoCoreError):
            status = self._s3.get_bucket_versioning(Bucket=self.bucket).get("Status")
            if status != "Enabled":
                log.warning("state bucket is not versioned: an overwritten state cannot be "
                            "restored", bucket=self.bucket,
                            hint="enable versioning on the bucket")

    def _call(self, doing: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except ClientError as e:
            if error_code(e) in ("NoSuchKey", "404") and doing == "read":
                raise _Missing from e
            raise self._error(doing, e) from e
        except BotoCoreError as e:
            raise StateError(f"cannot {doing} the state {self.url}: {e}",
                             hint="check the AWS credentials, region and network") from e

    def _error(self, doing: str, e: ClientError) -> StateError:
        code = error_code(e)
        if code == "NoSuchBucket":
            return StateError(f"the state bucket {self.bucket} does not exist",
                              hint="create it (with versioning) or fix state.bucket in "
                                   "gridops.yaml")
        if code == "ResourceNotFoundException":
            return StateError(f"the lock table for {self.url} does not exist",
                              hint="create a DynamoDB table with partition key LockID "
                                   "(string), or fix state.lockTable in gridops.yaml")
        if code in ACCESS_DENIED_CODES:
            return StateError(f"access denied: cannot {doing} the state {self.url}",
                              hint="allow s3:GetObject, s3:PutObject and s3:DeleteObject on "
                                   f"arn:aws:s3:::{self.bucket}/{self.key}* (and the lock "
                                   "table's GetItem, PutItem, DeleteItem)")
        return StateError(f"cannot {doing} the state {self.url}: {code}: {error_message(e)}")


#: How often a record is written again after a concurrent write moved the object.
_RECORD_ATTEMPTS = 3


class _Missing(Exception):
    """The state object does not exist yet."""


def parse_state(body: bytes, where: str) -> State:
    """The state from an object's bytes; ``StateError`` when it is not gridops state."""
    try:
        data: Any = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("inventory", []), list):
            raise TypeError("not a gridops state object")
        return State.from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise StateError(f"the state {where} is corrupt: {e}",
                         hint="restore an earlier version from the bucket's version history; "
                              "gridops will not overwrite it") from e


#: A lock younger than this may belong to a run still alive (the workflows' job timeout).
RUN_TIMEOUT_SECONDS = 90 * 60


def lock_age_seconds(holder: Mapping[str, str]) -> float | None:
    """How long ago the lock was taken, from its ``when`` (None when unreadable)."""
    try:
        when = datetime.fromisoformat(holder.get("when", "").replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return (datetime.now(UTC) - when).total_seconds()


def describe_holder(holder: Mapping[str, str]) -> str:
    run = f", run {holder['run']}" if holder.get("run") else ""
    return (f"{holder.get('who', 'someone')} since {holder.get('when', '?')}{run} "
            f"(lock id {holder.get('id', '?')})")
