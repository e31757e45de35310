"""Carry out a plan against Grid, one cluster at a time, recording the inventory as it goes.

Each cluster gets its own result; a failure (a missing secret, a Grid refusal) is that
cluster's result and the others go on. The state is re-read and written after every cluster,
so what was done is never lost. Secrets are resolved here, only for the requests that carry
them, and their values never reach a result or an error text.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from reconciler.errors import ConfigError, GridConflict, GridNotFound, GridopsError, StateConflict
from reconciler.live import wire
from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_RUNNING,
    InventoryEntry,
    Ownership,
    State,
)
from reconciler.plan.planner import is_dropped_from_inventory
from reconciler.plan.types import Action, ApplyResult, Change, ChangeResult, Outcome, Plan
from reconciler.ports import GridAPI, SecretResolver, StateBackend
from reconciler.sources.secrets import MASK

Inventory = dict[str, InventoryEntry]
#: How a step changes the inventory once its Grid call succeeded.
InventoryEdit = Callable[[Inventory], Inventory]


@dataclass(frozen=True)
class _Run:
    """What every step of one apply needs."""

    grid: GridAPI
    secrets: SecretResolver
    backend: StateBackend
    force_delete: bool
    git_sha: str | None


def apply_plan(plan: Plan, grid: GridAPI, secrets: SecretResolver, backend: StateBackend, *,
               force_delete: bool = False, git_sha: str | None,
               on_event: Callable[[ChangeResult], None] | None = None) -> ApplyResult:
    """Every change of ``plan`` in order; ``on_event`` hears each cluster's result as it comes."""
    run = _Run(grid, secrets, backend, force_delete, git_sha)
    results = []
    for change in plan.changes:
        result = _carry_out(run, change)
        results.append(result)
        if on_event is not None:
            on_event(result)
    return ApplyResult(results=tuple(results), git_sha=git_sha)


def _carry_out(run: _Run, change: Change) -> ChangeResult:
    step = _STEPS.get(change.action, _bookkeep)
    try:
        phase, edit = step(run, change)
    except GridopsError as e:
        return _failed(run, change, e)
    try:
        update_inventory(run.backend, edit)
    except GridopsError as e:
        prefix = "done in Grid, but the state was not updated: " \
            if change.action.changes_grid else ""
        return _failed(run, change, e, prefix=prefix)
    done = change.action.changes_grid or change.action is Action.NOOP
    outcome = Outcome.OK if done else Outcome.SKIPPED
    return ChangeResult(name=change.name, action=change.action, outcome=outcome, phase=phase)


def _failed(run: _Run, change: Change, error: GridopsError, *, prefix: str = "") -> ChangeResult:
    text = prefix + error.message + (f" ({error.hint})" if error.hint else "")
    for value in run.secrets.resolved_values():
        text = text.replace(value, MASK) if value else text
    return ChangeResult(name=change.name, action=change.action, outcome=Outcome.FAILED,
                        error=text, phase=change.phase)


# --- the steps: each does its Grid call and says how the inventory changes ---------------------

def _create(run: _Run, change: Change) -> tuple[str, InventoryEdit]:
    spec = wire.put_secrets(_spec_of(change), _resolve(run, change))
    try:
        live = run.grid.create_cluster(change.name, spec)
    except GridConflict as e:
        raise GridConflict(f"{change.name} already exists in Grid (made outside this plan)",
                           status=e.status,
                           hint=f"adopt it with `gridops import {change.name}`") from e
    entry = _entry_for(InventoryEntry(name=change.name, ownership=Ownership.CREATED), change,
                       run.git_sha)
    return live.phase, lambda inv: {**inv, change.name: entry}


def _update(run: _Run, change: Change) -> tuple[str, InventoryEdit]:
    live = run.grid.get_cluster(change.cluster_id or change.name)
    spec = wire.merge_for_update(live.spec, _spec_of(change), change.managed_aws_keys,
                                 _resolve(run, change),
                                 kubernetes_keys=change.managed_kubernetes_keys)
    updated = run.grid.update_cluster(live.id, change.name, spec)
    default = InventoryEntry(name=change.name)

    def edit(inv: Inventory) -> Inventory:
        return {**inv, change.name: _entry_for(inv.get(change.name, default), change,
                                               run.git_sha)}

    return updated.phase, edit


def _delete(run: _Run, change: Change) -> tuple[str, InventoryEdit]:
    # already gone: fine, the next plan sees that and drops it from the inventory
    with contextlib.suppress(GridNotFound):
        run.grid.delete_cluster(change.cluster_id or change.name, force=run.force_delete)

    def edit(inv: Inventory) -> Inventory:
        entry = inv.get(change.name)
        return inv if entry is None else {**inv, change.name: replace(entry, pending_delete=True)}

    return "", edit


def _bookkeep(run: _Run, change: Change) -> tuple[str, InventoryEdit]:
    """No Grid call: drop an entry whose cluster is gone, or refresh deletion protection so a
    merged ``deletionProtection: false`` takes effect before the cluster leaves git."""
    def edit(inv: Inventory) -> Inventory:
        entry = inv.get(change.name)
        if entry is None:
            return inv
        if is_dropped_from_inventory(change):
            return {k: v for k, v in inv.items() if k != change.name}
        if entry.deletion_protection == change.deletion_protection:
            return inv
        return {**inv, change.name: replace(entry,
                                            deletion_protection=change.deletion_protection)}

    return change.phase, edit


_STEPS: Mapping[Action, Callable[[_Run, Change], tuple[str, InventoryEdit]]] = {
    Action.CREATE: _create, Action.UPDATE: _update, Action.DELETE: _delete,
}


# --- helpers ----------------------------------------------------------------------------------

def _spec_of(change: Change) -> Mapping[str, object]:
    if change.spec is None:
        raise ConfigError(f"the plan's {change.action.value} of {change.name} has no spec",
                          hint="make a new plan with `gridops plan --out`")
    return change.spec


def _resolve(run: _Run, change: Change) -> dict[str, str]:
    return {path: run.secrets.resolve(ref, cluster=change.name)
            for path, ref in change.secrets.items()}


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
