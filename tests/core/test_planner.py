from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pytest

from reconciler.errors import SecretError
from reconciler.live import wire
from reconciler.model import (
    PHASE_DELETED,
    PHASE_FAILED,
    PHASE_PENDING,
    PHASE_QUEUED,
    PHASE_RUNNING,
    PROFILE_COST_SAVING,
    TYPE_GLOBAL,
    DesiredCluster,
    Intent,
    InventoryEntry,
    LiveCluster,
    State,
)
from reconciler.plan.planner import is_dropped_from_inventory, make_plan
from reconciler.plan.types import Action, Change, FieldChange, Plan
from tests.core.factories import (
    desired_cluster,
    desired_state,
    live_cluster,
    live_spec,
    state_with,
)

NOW = "2024-05-01T12:00:00Z"
LIVE_SECRET = "ext-secret-1"


def _plan(desired: Sequence[DesiredCluster] = (), live: Sequence[LiveCluster] = (),
          state: State | None = None, *, prune: bool = True,
          secret: Callable[[DesiredCluster], str | None] = lambda c: None) -> Plan:
    return make_plan(desired_state(*desired), live, state or State.empty(),
                     resolve_secret=lambda c, ref: secret(c), prune=prune, now=NOW)


def _only(plan: Plan) -> Change:
    (change,) = plan.changes
    return change


@dataclass(frozen=True)
class Case:
    desired: tuple[DesiredCluster, ...]
    live: tuple[LiveCluster, ...]
    state: State
    action: Action
    reason: str


A = "research-use1"
CASES = {
    "create-new": Case((desired_cluster(A),), (), State.empty(), Action.CREATE, "new in git"),
    "create-deleted-out-of-band": Case((desired_cluster(A),), (), state_with(A),
                                       Action.CREATE, "deleted outside gridops"),
    "create-when-only-deleted-record": Case(
        (desired_cluster(A),), (live_cluster(A, phase=PHASE_DELETED,
                                             desired_state=PHASE_DELETED),),
        State.empty(), Action.CREATE, "new in git"),
    "noop": Case((desired_cluster(A),), (live_cluster(A),), state_with(A), Action.NOOP, ""),
    "update": Case((desired_cluster(A, region="eu-west-1"),), (live_cluster(A),), state_with(A),
                   Action.UPDATE, "differs from git"),
    "wait-queued": Case((desired_cluster(A),), (live_cluster(A, phase=PHASE_QUEUED),),
                        state_with(A), Action.WAIT, "being created"),
    "wait-pending": Case((desired_cluster(A),), (live_cluster(A, phase=PHASE_PENDING),),
                         state_with(A), Action.WAIT, "being created"),
    "wait-terminating": Case((desired_cluster(A),),
                             (live_cluster(A, desired_state=PHASE_DELETED),), state_with(A),
                             Action.WAIT, "being deleted; will be created again when gone"),
    "failed-with-reason": Case((desired_cluster(A),),
                               (live_cluster(A, phase=PHASE_FAILED,
                                             reason="vCPU quota exceeded"),),
                               state_with(A), Action.FAILED, "vCPU quota exceeded"),
    "blocked-unmanaged-name": Case((desired_cluster(A),), (live_cluster(A),), State.empty(),
                                   Action.BLOCKED, f"adopt it with `gridops import {A}`"),
    "delete-removed": Case((), (live_cluster(A),), state_with(A), Action.DELETE,
                           "removed from git"),
    "delete-retried": Case((), (live_cluster(A),), state_with(A, pending_delete=(A,)),
                           Action.DELETE, "trying again"),
    "blocked-protected-delete": Case((), (live_cluster(A),), state_with(A, protected=(A,)),
                                     Action.BLOCKED, "merge `deletionProtection: false` first"),
    "wait-stale-terminating": Case((), (live_cluster(A, desired_state=PHASE_DELETED),),
                                   state_with(A), Action.WAIT, "being deleted"),
    "already-gone": Case((), (), state_with(A, pending_delete=(A,)), Action.NOOP,
                         "already deleted; will be dropped from the inventory"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan_decides_each_cluster(case: Case) -> None:
    change = _only(_plan(case.desired, case.live, case.state))
    assert change.name == A
    assert change.action is case.action
    assert case.reason in change.reason


def test_plan_marks_gone_cluster_for_dropping_from_inventory_only() -> None:
    gone = _only(_plan((), (), state_with(A)))
    kept = _only(_plan((desired_cluster(A),), (live_cluster(A),), state_with(A)))
    assert is_dropped_from_inventory(gone) and gone.phase == PHASE_DELETED
    assert not is_dropped_from_inventory(kept)


def test_plan_create_carries_spec_secret_refs_and_ownership_details() -> None:
    c = desired_cluster(A, deletion_protection=True, aws_extra=(("fsxEnabled", True),))
    change = _only(_plan((c,)))
    assert change.spec == wire.to_wire_spec(c)
    assert change.secrets == {wire.EXTERNAL_ID_PATH: c.external_id}
    assert change.managed_aws_keys == wire.managed_aws_keys(c)
    assert change.deletion_protection is True
    assert change.source == f"clusters/{A}.yaml:1"


def test_plan_update_lists_field_changes_and_names_the_live_id() -> None:
    change = _only(_plan((desired_cluster(A, performance_profile=PROFILE_COST_SAVING),),
                         (live_cluster(A),), state_with(A)))
    assert change.cluster_id == A and change.phase == PHASE_RUNNING
    assert change.field_changes == (FieldChange("performanceProfile",
                                                "CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
                                                PROFILE_COST_SAVING),)


def test_plan_reports_a_changed_secret_without_its_value() -> None:
    plan = _plan((desired_cluster(A),), (live_cluster(A),), state_with(A),
                 secret=lambda c: "ext-secret-NEW")
    change = _only(plan)
    assert change.action is Action.UPDATE
    assert change.field_changes == (FieldChange(wire.EXTERNAL_ID_PATH, sensitive=True),)
    assert "ext-secret-NEW" not in plan.dumps() and LIVE_SECRET not in plan.dumps()


@pytest.mark.parametrize(("secret", "live_external_id"), [
    (lambda c: LIVE_SECRET, LIVE_SECRET),
    (lambda c: None, LIVE_SECRET),
    (lambda c: "ext-secret-NEW", None),
], ids=["same", "not-resolved", "redacted-live"])
def test_plan_does_not_report_an_unknown_or_equal_secret(
        secret: Callable[[DesiredCluster], str | None], live_external_id: str | None) -> None:
    live = live_cluster(A, spec=live_spec(desired_cluster(A), external_id=live_external_id))
    assert _only(_plan((desired_cluster(A),), (live,), state_with(A),
                       secret=secret)).action is Action.NOOP


def test_plan_warns_when_a_secret_cannot_be_resolved_for_comparison() -> None:
    def missing(c: DesiredCluster) -> str | None:
        raise SecretError("environment variable GRID_EXTERNAL_ID_TEST is not set")

    plan = _plan((desired_cluster(A),), (live_cluster(A),), state_with(A), secret=missing)
    assert _only(plan).action is Action.NOOP
    assert plan.warnings == (f"{A}: externalId not compared: environment variable "
                             "GRID_EXTERNAL_ID_TEST is not set",)


def test_plan_keeps_removed_clusters_when_prune_is_off() -> None:
    plan = _plan((), (live_cluster(A),), state_with(A), prune=False)
    assert plan.changes == ()
    assert plan.unmanaged == ()
    assert "prune is off" in plan.warnings[0] and A in plan.warnings[0]


def test_plan_lists_live_clusters_it_does_not_own_as_unmanaged() -> None:
    plan = _plan((desired_cluster("mine"),), (live_cluster("mine"), live_cluster("theirs")),
                 state_with("mine"))
    assert plan.unmanaged == ("theirs",)
    assert [c.name for c in plan.changes] == ["mine"]


def test_plan_never_touches_or_lists_global_clusters() -> None:
    glob = live_cluster("grid-cloud-prod", cluster_type=TYPE_GLOBAL)
    assert _plan((), (glob,)).changes == ()
    assert _plan((), (glob,)).unmanaged == ()
    # a desired cluster with a GLOBAL cluster's name is blocked, never created or changed
    change = _only(_plan((desired_cluster("grid-cloud-prod"),), (glob,)))
    assert change.action is Action.BLOCKED and "GLOBAL" in change.reason
    assert change.spec is None


def test_plan_sorts_changes_by_name_and_records_where_it_came_from() -> None:
    live = [live_cluster("b-old")]
    plan = _plan((desired_cluster("c-new"), desired_cluster("a-new")), live, state_with("b-old"))
    assert [c.name for c in plan.changes] == ["a-new", "b-old", "c-new"]
    assert plan.created_at == NOW and plan.git_sha == "a" * 40
    assert plan.live_fingerprint == wire.live_fingerprint(live)


def test_plan_survives_a_json_round_trip() -> None:
    plan = _plan((desired_cluster("new"), desired_cluster("drift", region="eu-west-1"),
                  desired_cluster("same")),
                 (live_cluster("drift"), live_cluster("same"), live_cluster("old"),
                  live_cluster("theirs")),
                 state_with("drift", "same", "old"), secret=lambda c: "other")
    assert plan.has_changes
    assert Plan.loads(plan.dumps()) == plan


def test_plan_keeps_a_deleted_cluster_with_leftovers_in_the_inventory() -> None:
    from reconciler.model import DesiredState, InventoryEntry, State
    from reconciler.plan.planner import is_dropped_from_inventory, make_plan

    state = State(inventory={"gone": InventoryEntry(name="gone", region="us-east-1",
                                                    leftovers=("arn:aws:ec2:vol-1",))})
    plan = make_plan(DesiredState(clusters={}), [], state, resolve_secret=lambda c, ref: None,
                     prune=True, now="2026-01-01T00:00:00Z")
    (change,) = plan.changes
    assert "gridops sweep gone --delete" in change.reason
    assert not is_dropped_from_inventory(change)


# --- a value gridops does not know -----------------------------------------------------------

def _unknown(name: str, *, in_git: bool) -> LiveCluster:
    live = live_cluster(name, spec=live_spec(desired_cluster(name)) if in_git else None)
    return replace(live, unknown=("status.phase 'CLUSTER_STATE_UPGRADING'",),
                   phase="CLUSTER_STATE_UPGRADING")


@pytest.mark.parametrize(("in_git", "owned"), [(True, True), (False, True), (True, False),
                                               (False, False)],
                         ids=["in-git-and-owned", "owned-left-git", "in-git-not-owned",
                              "neither"])
def test_a_cluster_with_an_unknown_value_is_shown_as_unknown_and_never_touched(
        in_git: bool, owned: bool) -> None:
    odd = _unknown("odd", in_git=in_git)
    desired = [desired_cluster("odd", region="eu-west-1")] if in_git else []
    plan = _plan([*desired, desired_cluster("fine")], [odd],
                 state_with(*(["odd"] if owned else [])))
    by_name = {c.name: c for c in plan.changes}
    assert by_name["odd"].action is Action.UNKNOWN
    assert "status.phase 'CLUSTER_STATE_UPGRADING'" in by_name["odd"].reason
    assert by_name["odd"].spec is None and by_name["odd"].field_changes == ()
    assert by_name["fine"].action is Action.CREATE  # the others are planned as usual
    assert "odd" not in plan.unmanaged
    assert plan.has_drift


def test_a_global_cluster_with_an_unknown_phase_stays_out_of_the_plan() -> None:
    odd = replace(live_cluster("grid-cloud-prod", cluster_type=TYPE_GLOBAL),
                  unknown=("status.phase 'CLUSTER_STATE_UPGRADING'",))
    assert _plan([], [odd]).changes == ()


# --- pending creates (intents recorded before Grid was asked) ---------------------------------

INTENT_AT = "2024-05-01T11:00:00Z"


def _creating(c: DesiredCluster, *, at: str = INTENT_AT, sent: DesiredCluster | None = None
              ) -> State:
    """The state a create of ``c`` leaves when its answer was lost."""
    sent_view = wire.managed_view(wire.to_wire_spec(sent or c), wire.managed_aws_keys(sent or c))
    entry = InventoryEntry(name=c.name, intent=Intent(action="create", at=at, run="run-1",
                                                      sent=sent_view))
    return State(inventory={c.name: entry})


def _made(c: DesiredCluster, created_at: str) -> LiveCluster:
    return replace(live_cluster(c.name, spec=live_spec(c)), created_at=created_at)


def test_a_cluster_a_lost_create_made_is_adopted_not_sent_to_import() -> None:
    c = desired_cluster(A)
    change = _only(_plan((c,), (_made(c, "2024-05-01T11:00:03Z"),), _creating(c),
                         secret=lambda _: "ext-secret-1"))
    assert (change.action, change.adopt) == (Action.NOOP, True)
    assert change.reason.startswith("adopted: made by the create gridops started at "
                                    f"{INTENT_AT} (run run-1)")


@pytest.mark.parametrize(("created_at", "sent", "words"), [
    ("2024-05-01T09:00:00Z", None, "it was created 2024-05-01T09:00:00Z, before the create"),
    ("2024-05-01T11:00:03Z", desired_cluster(A, region="eu-west-1"), "it differs from what"),
], ids=["predates-the-intent", "differs-from-what-was-sent"])
def test_a_same_named_cluster_that_is_not_the_intents_stays_blocked(
        created_at: str, sent: DesiredCluster | None, words: str) -> None:
    c = desired_cluster(A)
    change = _only(_plan((c,), (_made(c, created_at),), _creating(c, sent=sent)))
    assert change.action is Action.BLOCKED and not change.adopt
    assert "gridops import" in change.reason and words in change.reason


def test_a_pending_create_that_matches_nothing_is_created() -> None:
    c = desired_cluster(A)
    change = _only(_plan((c,), (), _creating(c)))
    assert change.action is Action.CREATE
    assert change.reason == f"the create gridops started at {INTENT_AT} (run run-1) is not " \
                            "in Grid (not made, or its run is still going); will be created"


def test_a_pending_create_whose_cluster_left_git_is_deleted_when_it_is_ours() -> None:
    c = desired_cluster(A)
    change = _only(_plan((), (_made(c, "2024-05-01T11:00:03Z"),), _creating(c)))
    assert (change.action, change.adopt) == (Action.DELETE, True)


@pytest.mark.parametrize("live", [(), ("2024-05-01T09:00:00Z",)], ids=["nothing-live",
                                                                        "someone-elses"])
def test_a_pending_create_that_left_git_and_is_not_ours_is_only_forgotten(
        live: tuple[str, ...]) -> None:
    c = desired_cluster(A)
    plan = _plan((), tuple(_made(c, t) for t in live), _creating(c))
    change = _only(plan)
    assert (change.action, change.forget) == (Action.NOOP, True)
    assert is_dropped_from_inventory(change)
    assert plan.unmanaged == ((A,) if live else ())


def test_a_recent_pending_create_that_left_git_is_kept_in_case_grid_makes_it_late() -> None:
    c = desired_cluster(A)
    sent = "2024-05-01T11:55:00Z"  # five minutes before NOW
    plan = _plan((), (), _creating(c, at=sent))
    change = _only(plan)
    assert (change.action, change.forget) == (Action.NOOP, False)
    assert not is_dropped_from_inventory(change)
    assert "kept until 2024-05-01T12:10:00Z in case Grid makes it late" in change.reason
    # and when Grid then lists what it sent, it is adopted and pruned, not left unmanaged
    later = _only(_plan((), (_made(c, "2024-05-01T11:56:00Z"),), _creating(c, at=sent)))
    assert (later.action, later.adopt) == (Action.DELETE, True)
