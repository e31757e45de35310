"""Safety guards on a plan, checked before anything is applied. Pure: raise or return."""

from __future__ import annotations

from reconciler.errors import PlanRefused
from reconciler.plan.types import Action, Plan


def check_guards(plan: Plan, *, max_deletes: int, desired_count: int, inventory_count: int,
                 allow_empty: bool) -> None:
    """Refuse a plan that deletes more than ``max_deletes`` clusters, or one made from an
    empty desired set while gridops owns clusters (a wrong folder must never prune them)."""
    if desired_count == 0 and inventory_count > 0 and not allow_empty:
        raise PlanRefused(
            f"no cluster documents were found, but gridops owns {inventory_count} cluster(s): "
            "refusing to treat that as 'delete everything'",
            hint="check clustersDir in gridops.yaml; if you really mean to remove every "
                 "cluster, run again with --allow-empty")
    deletes = [c.name for c in plan.changes if c.action is Action.DELETE]
    if len(deletes) > max_deletes:
        raise PlanRefused(
            f"the plan deletes {len(deletes)} clusters ({', '.join(deletes)}) but maxDeletes "
            f"allows {max_deletes}",
            hint="raise maxDeletes in gridops.yaml for this change, or split it into smaller "
                 "commits that each remove fewer clusters")
