"""The plan, made by one pure function from (desired, live, inventory).

Only BYOC clusters count: GLOBAL and LEGACY ones are never touched nor listed. Ownership comes
from the inventory alone: prune deletes only what gridops owns and git no longer holds, and a
live cluster gridops does not own is never changed. A cluster for which Grid reports a value
this gridops does not know (a new phase, type or profile) is listed as unknown and never
touched, whether git, the inventory, both or neither hold it; the others are planned as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from reconciler.errors import SecretError
from reconciler.live import wire
from reconciler.model import (
    CLUSTER_TYPES,
    PHASE_DELETED,
    PHASE_FAILED,
    DesiredCluster,
    DesiredState,
    InventoryEntry,
    LiveCluster,
    SecretRef,
    State,
)
from reconciler.plan.diff import creation_fields, diff_secret, diff_specs
from reconciler.plan.document import in_document_terms
from reconciler.plan.types import Action, Change, FieldChange, Plan

#: A secret's value for comparing (None when it is not available).
SecretLookup = Callable[[DesiredCluster, SecretRef], str | None]

UNMANAGED_REASON = ("exists in Grid but is not managed by gridops: adopt it with "
                    "`gridops import {name}`")
PROTECTED_REASON = ("removed from git while protected: merge `deletionProtection: false` "
                    "first, then remove it")
ALREADY_DELETED_REASON = "already deleted; will be dropped from the inventory"
LEFTOVERS_REASON = ("deleted, but {count} AWS resource(s) were left behind: "
                    "see `gridops sweep {name}`, remove them with `gridops sweep {name} --delete`")


def make_plan(desired: DesiredState, live: Sequence[LiveCluster], state: State, *,
              resolve_secret: SecretLookup, prune: bool, now: str) -> Plan:
    """What to do to each cluster. ``resolve_secret`` gives the value of a desired cluster's
    secret reference (or None when it is not available; then that field is not compared)."""
    present = [c for c in live if c.phase != PHASE_DELETED]
    unknown = {c.name: c for c in present if is_unreadable(c)}
    byoc = {c.name: c for c in present if c.is_byoc and c.name not in unknown}
    others = {c.name: c for c in present if not c.is_byoc and c.name not in unknown}
    inventory = state.inventory
    warnings: list[str] = []
    changes = [_unknown(unknown[name], c) if name in unknown else
               _held_by_other(c, others[name]) if name in others else
               _plan_desired(c, byoc.get(name), inventory.get(name), resolve_secret, warnings)
               for name, c in desired.clusters.items()]
    changes.extend(_unknown(c, None, inventory.get(name))
                   for name, c in sorted(unknown.items()) if name not in desired.clusters)
    stale = sorted(set(inventory) - set(desired.clusters) - set(unknown))
    if prune:
        changes.extend(_plan_stale(inventory[name], byoc.get(name), now) for name in stale)
    else:
        changes.extend(_forget(inventory[name], byoc.get(name), now) for name in stale
                       if inventory[name].creating and not made_by_intent(
                           inventory[name], byoc.get(name)))
        kept = [name for name in stale if not inventory[name].creating]
        if kept:
            warnings.append("prune is off: these clusters left git but are kept: "
                            + ", ".join(kept))
    owned = set(inventory) - {c.name for c in changes if c.forget}
    unmanaged = sorted(set(byoc) - set(desired.clusters) - owned)
    return Plan(changes=tuple(sorted(changes, key=lambda c: c.name)), created_at=now,
                git_sha=desired.git_sha, live_fingerprint=wire.live_fingerprint(live),
                desired_digest=desired.digest,
                unmanaged=tuple(unmanaged), warnings=tuple(warnings),
                inputs={c.name: dict(c.inputs) for c in desired.clusters.values() if c.inputs})


def is_unreadable(live: LiveCluster) -> bool:
    """A cluster gridops might manage (BYOC, or of a type it does not know) for which Grid
    reports a value this gridops does not know."""
    return bool(live.unknown) and (live.is_byoc or live.cluster_type not in CLUSTER_TYPES)


UNKNOWN_REASON = ("Grid reports {what}, which this gridops does not know: shown, never "
                  "touched (a newer gridops may know it)")


def _unknown(live: LiveCluster, c: DesiredCluster | None,
             entry: InventoryEntry | None = None) -> Change:
    """Shown as unknown and never touched: nothing is sent to Grid, nothing is compared."""
    protected = c.deletion_protection if c else (entry.deletion_protection if entry else False)
    return Change(name=live.name, action=Action.UNKNOWN,
                  reason=UNKNOWN_REASON.format(what=", ".join(live.unknown)),
                  cluster_id=live.id, deletion_protection=protected,
                  source=str(c.source) if c else "", phase=live.phase)


def _held_by_other(c: DesiredCluster, live: LiveCluster) -> Change:
    """A document named like a GLOBAL or LEGACY cluster: never created, never touched."""
    kind = live.cluster_type.removeprefix("CLUSTER_TYPE_")
    return _desired_change(c, Action.BLOCKED, f"the name is held by a {kind} cluster, which "
                           "gridops never manages: choose another name")


def _plan_desired(c: DesiredCluster, live: LiveCluster | None, entry: InventoryEntry | None,
                  resolve_secret: SecretLookup, warnings: list[str]) -> Change:
    if live is None:
        reason = "new in git" if entry is None else (
            f"{_intent_words(entry)} is not in Grid (not made, or its run is still going); "
            "will be created"
            if entry.creating else
            "deleted by an earlier run and back in git; will be created again"
            if entry.pending_delete else
            "owned by gridops but gone from Grid (deleted outside gridops?); "
            "will be created again")
        return _desired_change(c, Action.CREATE, reason, with_spec=True,
                               field_changes=_creation_fields(c))
    if entry is None:
        return _desired_change(c, Action.BLOCKED, UNMANAGED_REASON.format(name=c.name), live)
    if entry.creating:
        if not made_by_intent(entry, live):
            return _desired_change(c, Action.BLOCKED, UNMANAGED_REASON.format(name=c.name)
                                   + f" ({_not_ours(entry, live)})", live)
        return _adopted(entry, _owned_desired(c, live, resolve_secret, warnings))
    return _owned_desired(c, live, resolve_secret, warnings)


def _owned_desired(c: DesiredCluster, live: LiveCluster, resolve_secret: SecretLookup,
                   warnings: list[str]) -> Change:
    if live.terminating:
        return _desired_change(c, Action.WAIT, "being deleted; will be created again when gone",
                               live, field_changes=_creation_fields(c))
    if live.phase == PHASE_FAILED:
        return _desired_change(c, Action.FAILED, live.reason or "failed (no reason given)", live)
    if live.in_progress:
        compared = _compare(c, live, resolve_secret, warnings)
        if compared.action is Action.UPDATE:
            paths = ", ".join(f.path for f in compared.field_changes)
            return replace(compared, action=Action.WAIT, spec=None, secrets={},
                           managed_aws_keys=(), reason=f"being created; will then change: {paths}")
        return _desired_change(c, Action.WAIT, "being created", live)
    return _compare(c, live, resolve_secret, warnings)


#: How far Grid's clock may be behind ours when a cluster's createdAt is compared with an
#: intent's time.
CLOCK_SKEW_SECONDS = 60.0
#: how long the record of a pending create whose cluster left git, and which Grid does not
#: list, is kept in case Grid makes it late
FORGET_AFTER_SECONDS = 15 * 60.0


def made_by_intent(entry: InventoryEntry, live: LiveCluster | None) -> bool:
    """The live cluster is the one ``entry``'s pending create made: created at or after the
    intent was recorded, and holding exactly what was sent in every managed field."""
    intent = entry.intent
    if live is None or intent is None or intent.action != "create":
        return False
    created, recorded = _instant(live.created_at), _instant(intent.at)
    if created is None or recorded is None or created < recorded - CLOCK_SKEW_SECONDS:
        return False
    return wire.matches_sent(intent.sent, live.spec)


def _not_ours(entry: InventoryEntry, live: LiveCluster) -> str:
    intent = entry.intent
    created, recorded = _instant(live.created_at), _instant(intent.at if intent else "")
    if created is None or recorded is None or created < recorded - CLOCK_SKEW_SECONDS:
        return (f"it was created {live.created_at or 'at an unknown time'}, before "
                f"{_intent_words(entry)}")
    return f"it differs from what {_intent_words(entry)} sent"


def _intent_words(entry: InventoryEntry) -> str:
    intent = entry.intent
    if intent is None:
        return "gridops' create"
    run = f" (run {intent.run})" if intent.run else ""
    return f"the create gridops started at {intent.at}{run}"


def _instant(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _adopted(entry: InventoryEntry, change: Change) -> Change:
    note = f"adopted: made by {_intent_words(entry)}, whose answer was lost"
    return replace(change, adopt=True,
                   reason=f"{change.reason}; {note}" if change.reason else note)


def _forget(entry: InventoryEntry, live: LiveCluster | None, now: str) -> Change:
    """A pending create whose cluster left git: nothing of it is in Grid (or not as sent).
    With nothing of that name in Grid, the record is kept for ``FORGET_AFTER_SECONDS`` after
    the create was sent, so a cluster Grid makes late is still found, adopted and pruned
    rather than left unmanaged."""
    sent, at = _instant(entry.intent.at if entry.intent else ""), _instant(now)
    if live is None and sent is not None and at is not None \
            and at - sent < FORGET_AFTER_SECONDS:
        until = datetime.fromtimestamp(sent + FORGET_AFTER_SECONDS, UTC)
        return Change(name=entry.name, action=Action.NOOP,
                      deletion_protection=entry.deletion_protection,
                      reason=f"{_intent_words(entry)} is not in Grid and the cluster left "
                             f"git; the record is kept until "
                             f"{until.isoformat().replace('+00:00', 'Z')} in case Grid makes "
                             "it late, then dropped")
    where = "nothing of it is in Grid" if live is None else \
        f"the live cluster of that name is not its own ({_not_ours(entry, live)}), left alone"
    return Change(name=entry.name, action=Action.NOOP, forget=True,
                  cluster_id=live.id if live else None, phase=live.phase if live else "",
                  deletion_protection=entry.deletion_protection,
                  reason=f"{_intent_words(entry)} did not take effect and the cluster left "
                         f"git; {where}; the record is dropped")


def _creation_fields(c: DesiredCluster) -> tuple[FieldChange, ...]:
    """What a create sets, for review; the secret shows only as sensitive."""
    spec = wire.to_wire_spec(c)
    view = wire.managed_view(spec, wire.managed_aws_keys(c), wire.managed_kubernetes_keys(c))
    secrets = tuple(FieldChange(path=p, sensitive=True) for p in wire.secret_paths(c))
    return tuple(sorted((*creation_fields(view), *secrets), key=lambda f: f.path))


def _compare(c: DesiredCluster, live: LiveCluster, resolve_secret: SecretLookup,
             warnings: list[str]) -> Change:
    spec = wire.to_wire_spec(c)
    desired_view, live_view = wire.comparable_views(spec, live.spec, wire.managed_aws_keys(c),
                                                    wire.managed_kubernetes_keys(c))
    changes = list(diff_specs(desired_view, live_view))
    for path, ref in wire.secret_paths(c).items():
        live_secret = wire.value_at(live.spec, path)
        if isinstance(live_secret, str) and live_secret:
            secret_change = diff_secret(path, _lookup_secret(c, ref, path, resolve_secret,
                                                             warnings), live_secret)
            changes.extend([secret_change] if secret_change else [])
    if not changes:
        return _desired_change(c, Action.NOOP, "", live)
    field_changes = tuple(sorted(changes, key=lambda f: f.path))
    return _desired_change(c, Action.UPDATE, "differs from git", live, with_spec=True,
                           field_changes=field_changes)


def _lookup_secret(c: DesiredCluster, ref: SecretRef, path: str,
                   resolve_secret: SecretLookup, warnings: list[str]) -> str | None:
    try:
        return resolve_secret(c, ref)
    except SecretError as e:
        what = "externalId" if path == wire.EXTERNAL_ID_PATH else path
        warnings.append(f"{c.name}: {what} not compared: {e.message}")
        return None


def _desired_change(c: DesiredCluster, action: Action, reason: str,
                    live: LiveCluster | None = None, *, with_spec: bool = False,
                    field_changes: tuple[FieldChange, ...] = ()) -> Change:
    return Change(
        name=c.name, action=action, reason=reason,
        cluster_id=live.id if live else None,
        field_changes=tuple(in_document_terms(f, c) for f in field_changes),
        spec=wire.to_wire_spec(c) if with_spec else None,
        secrets=wire.secret_paths(c) if with_spec else {},
        managed_aws_keys=wire.managed_aws_keys(c) if with_spec else (),
        managed_kubernetes_keys=wire.managed_kubernetes_keys(c) if with_spec else (),
        deletion_protection=c.deletion_protection, source=str(c.source),
        phase=live.phase if live else "",
    )


def _plan_stale(entry: InventoryEntry, live: LiveCluster | None, now: str) -> Change:
    """An owned cluster git no longer holds (or one a pending create may have made)."""
    if entry.creating:
        if not made_by_intent(entry, live):
            return _forget(entry, live, now)
        return _adopted(entry, _plan_stale(replace(entry, intent=None), live, now))
    base = Change(name=entry.name, action=Action.NOOP, cluster_id=live.id if live else None,
                  deletion_protection=entry.deletion_protection,
                  phase=live.phase if live else PHASE_DELETED)
    if live is None and entry.leftovers:
        # kept in the inventory until the account is clean (not dropped: phase is not DELETED)
        return replace(base, phase="", reason=LEFTOVERS_REASON.format(
            count=len(entry.leftovers), name=entry.name))
    if live is None:
        return _with(base, Action.NOOP, ALREADY_DELETED_REASON)
    if live.terminating:
        return _with(base, Action.WAIT, "being deleted")
    if entry.deletion_protection:
        return _with(base, Action.BLOCKED, PROTECTED_REASON)
    reason = "delete requested earlier; trying again" if entry.pending_delete \
        else "removed from git"
    return _with(base, Action.DELETE, reason)


def _with(change: Change, action: Action, reason: str) -> Change:
    return replace(change, action=action, reason=reason)


def is_dropped_from_inventory(change: Change) -> bool:
    """The bookkeeping change of an owned cluster already gone from Grid, or of a record
    that never became a cluster."""
    return change.action is Action.NOOP and (change.phase == PHASE_DELETED or change.forget)

