"""What a plan costs: the monthly change in warm on-demand instances.

Instances kept warm (``overprovisionedOnDemand``) are billed around the clock: a change costs
(new count - old count) x the on-demand hourly price from Grid's instance-types answer x 730
hours. Pure: the prices are fetched by the caller (``run.price_plan``), once per cluster and
only when a change moves a warm count. A price Grid did not give is never guessed: the
cluster's figure is then unknown and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.live import wire
from reconciler.model import DesiredCluster, LiveCluster
from reconciler.plan.types import Action, Change, ClusterCost, WarmChange

#: hourly on-demand price per instance type, as one cluster's instance-types answer gives it
Prices = Mapping[str, float]


def warm_desired(cluster: DesiredCluster | None) -> dict[str, int]:
    if cluster is None:
        return {}
    return {i.name: i.overprovisioned_on_demand for i in cluster.instance_types
            if i.overprovisioned_on_demand}


def warm_live(cluster: LiveCluster | None) -> dict[str, int]:
    if cluster is None:
        return {}
    view = wire.managed_view(cluster.spec, ())
    types = view["driver"]["kubernetes"]["aws"]["instanceTypes"]
    counts = {name: entry.get("overprovisionedOndemandCount", 0) for name, entry in types.items()}
    return {n: c for n, c in counts.items() if isinstance(c, int) and c}


def warm_changes(change: Change, desired: DesiredCluster | None,
                 live: LiveCluster | None) -> dict[str, tuple[int, int]]:
    """The instance types whose warm count ``change`` moves: ``{type: (old, new)}``."""
    if not change.action.changes_grid:
        return {}
    old = warm_live(live) if change.action is not Action.CREATE else {}
    new = warm_desired(desired) if change.action is not Action.DELETE else {}
    return {t: (old.get(t, 0), new.get(t, 0)) for t in sorted(set(old) | set(new))
            if old.get(t, 0) != new.get(t, 0)}


def price_changes(plan_changes: Sequence[Change], desired: Mapping[str, DesiredCluster],
                  live: Mapping[str, LiveCluster],
                  prices: Mapping[str, Prices | None]) -> tuple[ClusterCost, ...]:
    """A ``ClusterCost`` per change that moves a warm count; ``prices`` by cluster name
    (None or a missing type: not available)."""
    costs = []
    for change in plan_changes:
        moves = warm_changes(change, desired.get(change.name), live.get(change.name))
        if not moves:
            continue
        known = prices.get(change.name) or {}
        costs.append(ClusterCost(name=change.name, action=change.action, warm=tuple(
            WarmChange(t, old, new, known.get(t)) for t, (old, new) in moves.items())))
    return tuple(costs)


def on_demand_prices(answer: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The on-demand hourly price per type of an instance-types answer (spot entries and
    entries without a usable price left out)."""
    found: dict[str, float] = {}
    for item in answer:
        price = item.get("hourlyCost")
        if item.get("spot") or isinstance(price, bool) or not isinstance(price, (int, float)):
            continue
        if price > 0:
            found[str(item["name"])] = float(price)
    return found


def total_monthly(costs: Sequence[ClusterCost]) -> float | None:
    figures = [c.monthly for c in costs]
    return None if any(f is None for f in figures) else sum(f or 0.0 for f in figures)


def format_money(value: float) -> str:
    """``+$767.96``, ``-$384.00``, ``$0.00``."""
    sign = "+" if value > 0.004 else "-" if value < -0.004 else ""
    return f"{sign}${abs(value):,.2f}"


def describe_cost(cost: ClusterCost) -> str:
    """``cost: +$767.96/month (g4dn.xlarge: 1 -> 3 warm at $0.526/h)``; a delete's saving
    reads as such; a missing price says so."""
    parts = [f"{w.instance_type}: {w.old} -> {w.new} warm"
             + (f" at ${w.hourly:g}/h" if w.hourly is not None else " (no price)")
             for w in cost.warm]
    detail = ", ".join(parts)
    if cost.monthly is None:
        return f"cost: prices not available from Grid ({detail})"
    label = "saves" if cost.monthly < 0 and cost.action is Action.DELETE else "cost"
    figure = f"${-cost.monthly:,.2f}" if label == "saves" else format_money(cost.monthly)
    return f"{label}: {figure}/month ({detail})"


def describe_total(costs: Sequence[ClusterCost]) -> str:
    """The plan's total line, "" when nothing changes a warm count."""
    if not costs:
        return ""
    total = total_monthly(costs)
    if total is None:
        known = [c for c in costs if c.monthly is not None]
        part = f"{format_money(total_monthly(known) or 0.0)}/month known; " if known else ""
        return (f"Cost: {part}prices not available from Grid for "
                + ", ".join(c.name for c in costs if c.monthly is None) + ".")
    return f"Cost: {format_money(total)}/month in warm on-demand instances."
