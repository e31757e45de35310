"""The Grid call of each change, run in a worker thread, and the read-back after a lost answer.

A step returns ``Done`` (the phase Grid reported, and a note when the answer had to be read
back) or raises: a ``GridopsError`` when the record is to stay as it was (the change did
not happen, or an update or delete Grid does not show: the next plan compares again),
``Unsettled`` when the intent must stay (the answer was lost and reading it back failed, or
a lost create is not listed). Steps touch
only Grid: what the inventory records is decided by the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler.errors import (
    GridAnswerLost,
    GridAPIError,
    GridConflict,
    GridNotFound,
    GridopsError,
)
from reconciler.live import wire
from reconciler.model import PHASE_DELETED, InventoryEntry, LiveCluster
from reconciler.plan.planner import made_by_intent
from reconciler.plan.types import Action, Change
from reconciler.ports import GridAPI

#: The note on a change whose answer was lost, confirmed by reading the cluster back.
READ_BACK_NOTE = "the answer was lost; confirmed by reading it back"


@dataclass(frozen=True)
class Done:
    """A change Grid made."""

    phase: str
    note: str = ""


class Unsettled(GridopsError):
    """The answer was lost and what Grid did cannot be told yet: the intent stays for the
    next plan to settle."""

    reason = "unsettled"


@dataclass(frozen=True)
class Call:
    """What one step needs: the change, its resolved secrets, the intent recorded for it."""

    change: Change
    #: wire path -> value (never printed)
    secrets: Mapping[str, str] = field(repr=False)
    intent: InventoryEntry | None = None
    force_delete: bool = False


def run_step(grid: GridAPI, call: Call) -> Done:
    return _STEPS[call.change.action](grid, call)


def _create(grid: GridAPI, call: Call) -> Done:
    name = call.change.name
    try:
        spec = wire.put_secrets(call.change.spec or {}, call.secrets)
        return Done(grid.create_cluster(name, spec).phase)
    except GridopsError as e:
        if not _maybe_done(e):
            raise
        lost = e
    found = _read_back(grid, name, lost)
    if found is not None and call.intent is not None and made_by_intent(call.intent, found):
        return Done(found.phase, READ_BACK_NOTE)
    if found is not None:
        raise GridConflict(f"{name} already exists in Grid (made outside this plan)",
                           hint=f"adopt it with `gridops import {name}`") from lost
    if isinstance(lost, GridConflict):
        raise lost
    raise _unsettled("create", name, lost) from lost


def _update(grid: GridAPI, call: Call) -> Done:
    change = call.change
    live = grid.get_cluster(change.cluster_id or change.name)
    spec = wire.merge_for_update(live.spec, change.spec or {}, change.managed_aws_keys,
                                 call.secrets, kubernetes_keys=change.managed_kubernetes_keys)
    try:
        return Done(grid.update_cluster(live.id, change.name, spec).phase)
    except GridAnswerLost as e:
        lost = e
    found = _read_back(grid, live.id, lost)
    sent = call.intent.intent.sent if call.intent and call.intent.intent else {}
    # a change the read-back cannot show (a secret, a field the sent view leaves out) would
    # look made whether or not it was: the cluster matched what was sent before the PUT
    if found is not None and sent and wire.matches_sent(sent, found.spec) \
            and not wire.matches_sent(sent, live.spec):
        return Done(found.phase, READ_BACK_NOTE)
    raise _not_shown("update", lost) from lost


def _delete(grid: GridAPI, call: Call) -> Done:
    change = call.change
    target = change.cluster_id or change.name
    try:
        grid.delete_cluster(target, force=call.force_delete)
        return Done("")
    except GridNotFound:  # already gone: the next plan sees that and drops it
        return Done("")
    except GridAnswerLost as e:
        lost = e
    found = _read_back(grid, target, lost)
    if found is None or found.terminating:
        return Done(found.phase if found else "", READ_BACK_NOTE)
    raise _not_shown("delete", lost) from lost


_STEPS: Mapping[Action, Callable[[GridAPI, Call], Done]] = {
    Action.CREATE: _create, Action.UPDATE: _update, Action.DELETE: _delete,
}


def _unsettled(action: str, name: str, lost: GridopsError) -> Unsettled:
    """A lost create answer with no cluster to read back: not listed now is not never (Grid
    may still be making it), so its intent stays for the next plan to adopt or retry."""
    return Unsettled(f"the answer to the {action} of {name} was lost ({lost.message}) and "
                     "Grid does not list it: gridops cannot tell whether Grid will still do "
                     "it", hint="the next plan creates it, or adopts it if Grid made it after all")


def _not_shown(action: str, lost: GridopsError) -> GridAPIError:
    """A lost update or delete answer whose change the read-back does not show. The record
    stays as it was, which is right either way: the next plan compares with what Grid then
    has and sends again what is still to do."""
    return GridAPIError(f"the answer to the {action} was lost ({lost.message}) and Grid does "
                        "not show the change; the next run tries again")


def _maybe_done(error: GridopsError) -> bool:
    """A create Grid may have made although it said otherwise: the answer was lost (the
    client says so for every unclear answer to a change, a 5xx included), or the name is
    taken. A refusal, a 429 or a request that never left did nothing."""
    return isinstance(error, (GridAnswerLost, GridConflict))


def _read_back(grid: GridAPI, cluster_id: str, lost: GridopsError) -> LiveCluster | None:
    """The cluster as Grid has it now (None when it does not exist)."""
    try:
        found = grid.get_cluster(cluster_id)
    except GridNotFound:
        return None
    except GridopsError as e:
        raise Unsettled(f"{lost.message}; reading it back failed too ({e.message})",
                        hint="the next plan finds out what happened and carries on") from e
    return None if found.phase == PHASE_DELETED else found
