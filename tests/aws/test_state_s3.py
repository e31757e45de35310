"""The s3 state backend (reconciler/state/s3.py) against moto: conditional writes, the lock as
an S3 object or a DynamoDB item, and the errors a person meets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from reconciler.aws.session import SessionFactory
from reconciler.errors import LockError, StateConflict, StateError
from reconciler.model import InventoryEntry, State
from reconciler.ports import LockInfo
from reconciler.state.s3 import S3StateBackend

BUCKET, KEY, REGION, TABLE = "gridops-state", "gridops/state.json", "us-east-1", "gridops-locks"

Make = Callable[[], S3StateBackend]


def state_of(*names: str) -> State:
    return State(inventory={n: InventoryEntry(name=n, region=REGION) for n in names})


def holder(n: int = 1) -> LockInfo:
    return LockInfo(id=f"lock{n:04d}", who=f"ci@runner-{n}", when="2026-01-02T03:04:05Z",
                    run=f"acme/clusters run {n}")


@pytest.fixture
def bucket(sessions: SessionFactory) -> SessionFactory:
    s3 = sessions.client("s3", REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return sessions


@pytest.fixture(params=["s3-object", "dynamodb"])
def make(request: pytest.FixtureRequest, bucket: SessionFactory) -> Make:
    """A maker of backends (one per simulated runner), locking both ways."""
    table = ""
    if request.param == "dynamodb":
        table = TABLE
        bucket.client("dynamodb", REGION).create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}])

    def new() -> S3StateBackend:
        backend = S3StateBackend(BUCKET, KEY, REGION, table, sessions=bucket)
        backend.poll_seconds = 0.01
        return backend

    return new


def test_round_trip_from_nothing(bucket: SessionFactory) -> None:
    backend = S3StateBackend(BUCKET, KEY, REGION, sessions=bucket)
    empty = backend.read()
    assert (empty.state, empty.version) == (State.empty(), None)
    written = backend.write(state_of("research", "platform"), expected_version=None)
    again = backend.read()
    assert again == written
    assert again.state.serial == 1 and set(again.state.inventory) == {"research", "platform"}


def test_a_write_from_a_stale_read_is_refused(bucket: SessionFactory) -> None:
    first = S3StateBackend(BUCKET, KEY, REGION, sessions=bucket)
    second = S3StateBackend(BUCKET, KEY, REGION, sessions=bucket)
    base = first.write(state_of("a"), expected_version=None)
    seen_by_second = second.read()
    first.write(state_of("a", "b"), expected_version=base.version)
    with pytest.raises(StateConflict, match="changed since it was read"):
        second.write(state_of("c"), expected_version=seen_by_second.version)
    assert set(first.read().state.inventory) == {"a", "b"}


def test_two_first_writes_cannot_both_create(bucket: SessionFactory) -> None:
    one = S3StateBackend(BUCKET, KEY, REGION, sessions=bucket)
    one.write(state_of("a"), expected_version=None)
    with pytest.raises(StateConflict):
        S3StateBackend(BUCKET, KEY, REGION, sessions=bucket).write(state_of("b"),
                                                                   expected_version=None)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"inventory": {"a": 1}}',
                                  b'{"inventory": [{"region": "x"}]}'],
                         ids=["not-json", "a-list", "inventory-not-a-list", "entry-without-name"])
def test_corrupt_state_is_a_state_error(bucket: SessionFactory, body: bytes) -> None:
    bucket.client("s3", REGION).put_object(Bucket=BUCKET, Key=KEY, Body=body)
    with pytest.raises(StateError, match="is corrupt") as raised:
        S3StateBackend(BUCKET, KEY, REGION, sessions=bucket).read()
    assert "version history" in (raised.value.hint or "")


@pytest.mark.parametrize("operation", ["read", "write", "lock"])
def test_missing_bucket_is_a_state_error_with_a_hint(sessions: SessionFactory,
                                                     operation: str) -> None:
    backend = S3StateBackend("no-such-bucket", KEY, REGION, sessions=sessions)
    with pytest.raises(StateError, match="bucket no-such-bucket does not exist") as raised:
        if operation == "read":
            backend.read()
        elif operation == "write":
            backend.write(state_of("a"), expected_version=None)
        else:
            with backend.lock(holder()):
                pass
    assert "create it" in (raised.value.hint or "")


def test_missing_lock_table_is_a_state_error_with_a_hint(bucket: SessionFactory) -> None:
    backend = S3StateBackend(BUCKET, KEY, REGION, "absent-table", sessions=bucket)
    with pytest.raises(StateError, match="lock table") as raised, backend.lock(holder()):
        pass
    assert "LockID" in (raised.value.hint or "")


@pytest.mark.parametrize(("versioned", "warned"), [(True, False), (False, True)],
                         ids=["versioned", "unversioned"])
def test_an_unversioned_bucket_is_warned_about(sessions: SessionFactory, versioned: bool,
                                               warned: bool) -> None:
    s3 = sessions.client("s3", REGION)
    s3.create_bucket(Bucket=BUCKET)
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    with capture_logs() as logs:
        S3StateBackend(BUCKET, KEY, REGION, sessions=sessions).read()
    assert any("not versioned" in e["event"] for e in logs) is warned


def test_a_held_lock_refuses_a_second_holder_and_names_the_first(make: Make) -> None:
    with make().lock(holder(1)), pytest.raises(LockError) as raised, make().lock(holder(2)):
        pass
    error = raised.value
    assert error.holder == holder(1).to_json()
    for part in ("ci@runner-1", "2026-01-02T03:04:05Z", "acme/clusters run 1", "lock0001"):
        assert part in error.message
    assert "gridops force-unlock lock0001" in (error.hint or "")


def test_the_lock_is_released_on_exit_even_after_an_error(make: Make) -> None:
    backend = make()
    with pytest.raises(RuntimeError), backend.lock(holder(1)):
        raise RuntimeError("apply failed")
    for n in (2, 3):  # taken and released again: delete markers do not get in the way
        with make().lock(holder(n)):
            pass


def test_plan_reads_while_the_lock_is_held(make: Make) -> None:
    make().write(state_of("a"), expected_version=None)
    with make().lock(holder(1)):
        assert set(make().read().state.inventory) == {"a"}


@pytest.fixture
def atomic_aws(bucket: SessionFactory) -> Iterator[None]:
    """moto checks a conditional write's condition and then makes the write as two steps, so
    two threads can both pass the check (seen under load: two holders, for S3 objects and
    DynamoDB items alike); AWS makes each conditional write atomic. The calls are served one
    at a time here, as AWS's atomicity would have them: what is tested is gridops' use of the
    conditional write, not moto's locking."""
    one_at_a_time = threading.Lock()

    def begin(**_: Any) -> None:  # a before-call handler that returns something answers it
        one_at_a_time.acquire()

    def end(**_: Any) -> None:
        one_at_a_time.release()

    hooks = [("before-call", begin), ("after-call", end), ("after-call-error", end)]
    clients = [bucket.client(service, REGION) for service in ("s3", "dynamodb")]
    for client in clients:
        for event, handler in hooks:
            client.meta.events.register(event, handler, unique_id=f"atomic-aws-{event}")
    try:
        yield
    finally:
        for client in clients:
            for event, _ in hooks:
                client.meta.events.unregister(event, unique_id=f"atomic-aws-{event}")


@pytest.mark.usefixtures("atomic_aws")
def test_concurrent_lockers_never_both_hold(make: Make) -> None:
    runners = 6
    barrier = threading.Barrier(runners)
    holding: list[int] = []
    refused: list[int] = []
    everyone_tried = threading.Event()

    def run(n: int) -> None:
        backend = make()
        barrier.wait()
        try:
            with backend.lock(holder(n)):
                holding.append(n)
                everyone_tried.wait(5)
        except LockError:
            refused.append(n)
            if len(refused) == runners - 1:
                everyone_tried.set()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(holding) == 1 and len(refused) == runners - 1


def test_a_waiter_gets_the_lock_once_it_is_released(make: Make) -> None:
    first = make()
    lock = first.lock(holder(1))
    lock.__enter__()
    releaser = threading.Timer(0.1, lambda: lock.__exit__(None, None, None))
    releaser.start()
    started = time.monotonic()
    with make().lock(holder(2), wait_seconds=5):
        waited = time.monotonic() - started
    releaser.join()
    assert 0.05 < waited < 5


def test_force_unlock_releases_only_the_named_lock(make: Make) -> None:
    dead_run = make().lock(holder(1))  # a run that stalls holding the lock
    dead_run.__enter__()
    try:
        with pytest.raises(LockError, match="lock lock9999 is not the lock") as raised:
            make().force_unlock("lock9999")
        assert raised.value.holder["id"] == "lock0001"
        make().force_unlock("lock0001")
        with make().lock(holder(2)):
            pass
        with pytest.raises(LockError, match="is not locked"):
            make().force_unlock("lock0002")
    finally:
        dead_run.__exit__(None, None, None)


def test_releasing_a_lock_taken_over_leaves_the_new_holder(make: Make) -> None:
    stale = make().lock(holder(1))
    stale.__enter__()
    make().force_unlock("lock0001")
    with make().lock(holder(2)):
        stale.__exit__(None, None, None)  # the first run wakes up and lets go
        with pytest.raises(LockError, match="lock0002"), make().lock(holder(3)):
            pass


def test_force_unlock_of_a_young_lock_needs_force(make: Make) -> None:
    from reconciler.run import now_iso

    young = LockInfo(id="lock0042", who="ci@runner-42", when=now_iso(), run="acme run 42")
    held = make().lock(young)
    held.__enter__()
    try:
        with pytest.raises(LockError, match="for 0 min: younger than a run may last") as refused:
            make().force_unlock("lock0042")
        assert "force-unlock lock0042 --force" in (refused.value.hint or "")
        make().force_unlock("lock0042", force=True)
        with make().lock(holder(2)):
            pass
    finally:
        held.__exit__(None, None, None)
