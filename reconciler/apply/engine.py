"""Carry out a plan against Grid, ``parallelism`` clusters at a time, recording what it does.

Each cluster gets its own result; a failure (a missing secret, a Grid refusal) is that
cluster's result and the others go on. Before any Grid call, one durable record holds the
intent of every change (what is about to be created, updated or deleted, and what is sent);
after each call its outcome is recorded, in groups (``FLUSH_SECONDS``), and the state is
settled once at the end. So each cluster costs O(1) state work, and a crash at any instant
leaves intents the next plan settles: a cluster a lost create made is adopted, a create that
never happened is tried again. Secrets are resolved here, only for the requests that carry
them, and their values never reach a result or an error text.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from reconciler.apply.steps import Call, Done, Unsettled, run_step
from reconciler.errors import ConfigError, GridopsError, StateConflict
from reconciler.live import wire
from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_RUNNING,
    Intent,
    InventoryEntry,
    Ownership,
    State,
    now_iso,
)
from reconciler.plan.planner import is_dropped_from_inventory
from reconciler.plan.types import Action, ApplyResult, Change, ChangeResult, Outcome, Plan
from reconciler.ports import GridAPI, SecretResolver, StateBackend
from reconciler.sources.secrets import MASK

Inventory = dict[str, InventoryEntry]
#: How a step changes the inventory once its Grid call succeeded.
InventoryEdit = Callable[[Inventory], Inventory]
#: Grid calls in flight at once unless told otherwise (as Terraform's -parallelism).
DEFAULT_PARALLELISM = 10
#: Outcomes are recorded at least this often (and at the end); each intent is recorded
#: durably before its Grid call, so an outcome lost with a crash is settled by the next plan.
FLUSH_SECONDS = 0.5
_STATE_PREFIX = "done in Grid, but the state was not updated: "


@dataclass(frozen=True)
class _Run:
    """What every step of one apply needs."""

    grid: GridAPI
    secrets: SecretResolver
    force_delete: bool
    git_sha: str | None
    run_id: str
    at: str


def apply_plan(plan: Plan, grid: GridAPI, secrets: SecretResolver, backend: StateBackend, *,
               force_delete: bool = False, git_sha: str | None, run_id: str = "",
               parallelism: int = DEFAULT_PARALLELISM) -> ApplyResult:
    """Every change of ``plan``; the results are in plan order."""
    run = _Run(grid, secrets, force_delete, git_sha, run_id, now_iso())
    before = dict(backend.read().state.inventory)
    book = _Book(backend)
    prepared = [_prepared(run, change, before.get(change.name), book)
                for change in plan.changes if change.action.changes_grid]
    calls = [c for c in prepared if c is not None]
    try:
        backend.record({c.change.name: c.intent for c in calls}, durable=True)
    except GridopsError as e:
        for call in calls:
            book.fail(run, call.change, e, prefix="nothing was sent: the intent could not be "
                                                  "recorded: ")
        calls = []
    pool = ThreadPoolExecutor(max_workers=max(parallelism, 1), thread_name_prefix="gridops-apply")
    try:
        # each call hands its future to a queue as it finishes, so settling N results is
        # O(N) (waiting on the set of pending futures again after each one would be O(N^2))
        finished: queue.SimpleQueue[Future[Done]] = queue.SimpleQueue()
        pending: dict[Future[Done], Call] = {}
        for call in calls:
            future = pool.submit(run_step, grid, call)
            pending[future] = call
            future.add_done_callback(finished.put)
        while pending:
            with contextlib.suppress(queue.Empty):
                future = finished.get(timeout=FLUSH_SECONDS)
                call = pending.pop(future)
                _settle(run, book, call, before.get(call.change.name), future)
            book.flush(run, at_most_every=FLUSH_SECONDS)
    except BaseException:  # Ctrl-C: start nothing more; the recorded intents settle the rest
        pool.shutdown(wait=False, cancel_futures=True)
        book.flush(run)
        raise
    pool.shutdown()
    for change in plan.changes:
        if not change.action.changes_grid:
            book.done(change, _bookkept(change, before.get(change.name)), change.phase)
    book.flush(run)
    notes: tuple[str, ...] = ()
    try:
        backend.settle()
    except GridopsError as e:  # every record is in the journal, which every reader folds in
        notes = (f"every result is recorded in the state's journal, but folding it into the "
                 f"state failed: {_masked(run, _text(e))}; every run reads the journal, and "
                 "the next write folds it",)
    return ApplyResult(results=book.in_order(plan), git_sha=git_sha, notes=notes)


def _prepared(run: _Run, change: Change, entry: InventoryEntry | None,
              book: _Book) -> Call | None:
    """The call for ``change`` with its secrets and its intent record, or None (its result is
    a failure) when a secret cannot be had or the plan is incomplete."""
    try:
        if change.action is not Action.DELETE and change.spec is None:
            raise ConfigError(f"the plan's {change.action.value} of {change.name} has no spec",
                              hint="make a new plan with `gridops plan --out`")
        resolved = {path: run.secrets.resolve(ref, cluster=change.name)
                    for path, ref in change.secrets.items()}
    except GridopsError as e:
        book.fail(run, change, e)
        return None
    return Call(change=change, secrets=resolved, intent=_intent_entry(run, change, entry),
                force_delete=run.force_delete)


def _intent_entry(run: _Run, change: Change, entry: InventoryEntry | None) -> InventoryEntry:
    sent = wire.managed_view(change.spec, change.managed_aws_keys) if change.spec else {}
    intent = Intent(action=change.action.value, at=run.at, run=run.run_id, sent=sent)
    if change.action is Action.CREATE:
        return _entry_for(InventoryEntry(name=change.name, ownership=Ownership.CREATED,
                                         intent=intent), change, run.git_sha)
    if change.action is Action.DELETE:
        base = entry or InventoryEntry(name=change.name)
        return replace(base, pending_delete=True, intent=intent)
    return replace(entry or InventoryEntry(name=change.name), intent=intent)


def _settle(run: _Run, book: _Book, call: Call, entry: InventoryEntry | None,
            future: Future[Done]) -> None:
    """Record what one Grid call came to."""
    change = call.change
    try:
        done = future.result()
    except Unsettled as e:  # the intent stays: the next plan settles it
        book.fail(run, change, e)
        return
    except GridopsError as e:  # it did not happen: the record is as it was
        book.fail(run, change, e, restore=entry)
        return
    if change.action is Action.DELETE:
        after = replace(call.intent or InventoryEntry(name=change.name), intent=None)
    else:
        after = _entry_for(replace(call.intent or InventoryEntry(name=change.name),
                                   intent=None), change, run.git_sha)
    book.done(change, after, done.phase, note=done.note, changed=True)


def _bookkept(change: Change, entry: InventoryEntry | None) -> InventoryEntry | None | bool:
    """No Grid call: drop an entry whose cluster is gone (or never came), adopt the cluster
    of a lost create, or refresh deletion protection so a merged ``deletionProtection:
    false`` takes effect before the cluster leaves git. False: nothing to record."""
    if entry is None:
        return False
    if is_dropped_from_inventory(change):
        return None
    after = replace(entry, intent=None) if change.adopt else entry
    if after.deletion_protection != change.deletion_protection and not change.forget \
            and not after.creating:
        after = replace(after, deletion_protection=change.deletion_protection)
    return after if after != entry else False


class _Book:
    """The results so far and the records not yet written."""

    def __init__(self, backend: StateBackend) -> None:
        self._backend = backend
        self._results: dict[str, ChangeResult] = {}
        self._unwritten: dict[str, InventoryEntry | None] = {}
        self._waiting: list[str] = []  # results whose records are not written yet
        self._last_flush = time.monotonic()

    def done(self, change: Change, record: InventoryEntry | None | bool, phase: str, *,
             note: str = "", changed: bool = False) -> None:
        if record is not False:
            self._unwritten[change.name] = record if isinstance(record, InventoryEntry) \
                else None
            self._waiting.append(change.name)
        ok = changed or change.action is Action.NOOP
        self._emit(ChangeResult(name=change.name, action=change.action,
                                outcome=Outcome.OK if ok else Outcome.SKIPPED, phase=phase,
                                note=note))

    def fail(self, run: _Run, change: Change, error: GridopsError, *, prefix: str = "",
             restore: InventoryEntry | None | bool = False) -> None:
        if restore is not False:
            self._unwritten[change.name] = restore if isinstance(restore, InventoryEntry) \
                else None
        self._emit(ChangeResult(name=change.name, action=change.action,
                                outcome=Outcome.FAILED, phase=change.phase,
                                error=_masked(run, prefix + _text(error))))

    def flush(self, run: _Run, *, at_most_every: float = 0.0) -> None:
        if not self._unwritten or time.monotonic() - self._last_flush < at_most_every:
            return
        records, self._unwritten = self._unwritten, {}
        waiting, self._waiting = self._waiting, []
        self._last_flush = time.monotonic()
        try:
            self._backend.record(records, durable=False)
        except GridopsError as e:
            self._mark_unrecorded(run, waiting, e)

    def in_order(self, plan: Plan) -> tuple[ChangeResult, ...]:
        return tuple(self._results[c.name] for c in plan.changes if c.name in self._results)

    def _mark_unrecorded(self, run: _Run, names: list[str], error: GridopsError) -> None:
        for name in names:
            result = self._results[name]
            prefix = _STATE_PREFIX if result.action.changes_grid else ""
            self._results[name] = replace(result, outcome=Outcome.FAILED,
                                          error=_masked(run, prefix + _text(error)))

    def _emit(self, result: ChangeResult) -> None:
        self._results[result.name] = result


def _text(error: GridopsError) -> str:
    return error.message + (f" ({error.hint})" if error.hint else "")


def _masked(run: _Run, text: str) -> str:
    for value in run.secrets.resolved_values():
        text = text.replace(value, MASK) if value else text
    return text


def _entry_for(entry: InventoryEntry, change: Change, git_sha: str | None) -> InventoryEntry:
    aws = wire.aws_of(change.spec or {})
    return replace(entry, deletion_protection=change.deletion_protection,
                   region=str(aws.get("region", "")), role_arn=str(aws.get("roleArn", "")),
                   applied_sha=git_sha, pending_delete=False)


def update_inventory(backend: StateBackend, edit: InventoryEdit) -> None:
    """Re-read the state, apply ``edit``, and write only when something changed. ``edit`` is
    pure, so when another writer got in between it is applied again to what they wrote."""
    for attempt in range(_WRITE_ATTEMPTS):
        snapshot = backend.read()
        before = dict(snapshot.state.inventory)
        after = edit(before)
        if after == before:
            return
        try:
            backend.write(State(inventory=after, serial=snapshot.state.serial),
                          expected_version=snapshot.version)
            return
        except StateConflict:
            if attempt == _WRITE_ATTEMPTS - 1:
                raise


#: How often an inventory edit is re-applied after a concurrent write.
_WRITE_ATTEMPTS = 3


# --- waiting ----------------------------------------------------------------------------------

#: Where each action is finished (RUNNING may also end as FAILED).
_SETTLED = {Action.CREATE: (PHASE_RUNNING, PHASE_FAILED),
            Action.UPDATE: (PHASE_RUNNING, PHASE_FAILED),
            Action.DELETE: (PHASE_DELETED,)}


def is_settled(action: Action, phase: str) -> bool:
    """True when a cluster that underwent ``action`` needs no more waiting."""
    return phase in _SETTLED.get(action, ())


def wait_for(grid: GridAPI, names_actions: Mapping[str, Action], *, timeout: float,
             interval: float, failed_grace: int = 0,
             on_progress: Callable[[str, str, float], None] | None = None,
             clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep) -> dict[str, str]:
    """Poll (one list call per round) until every cluster settles or ``timeout`` seconds pass.

    Created clusters are followed to RUNNING or FAILED, deleted ones to DELETED (a cluster no
    longer listed counts as DELETED). Grid's status can turn FAILED and back to RUNNING while
    it retries, so FAILED settles a cluster only after ``failed_grace`` more polls still say
    FAILED. Returns each cluster's last phase ("" when a created one is not listed); a
    cluster for which ``is_settled`` is false there was given up on.
    ``on_progress(name, phase, elapsed_seconds)`` is called for each cluster every round.
    """
    start = clock()
    phases = {name: "" for name in names_actions}
    failed_polls = dict.fromkeys(names_actions, 0)
    waiting = set(names_actions)
    while waiting:
        listed = {c.name: c for c in grid.list_clusters()}
        elapsed = clock() - start
        for name in sorted(waiting):
            cluster = listed.get(name)
            deleting = names_actions[name] is Action.DELETE
            phases[name] = cluster.phase if cluster else (PHASE_DELETED if deleting else "")
            failed_polls[name] = failed_polls[name] + 1 if phases[name] == PHASE_FAILED else 0
            if on_progress is not None:
                on_progress(name, phases[name], elapsed)
        waiting = {n for n in waiting if not is_settled(names_actions[n], phases[n])
                   or (phases[n] == PHASE_FAILED and failed_polls[n] <= failed_grace)}
        if not waiting or elapsed >= timeout:
            break
        sleep(max(min(interval, timeout - elapsed), 0.0))
    return phases
