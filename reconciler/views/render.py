"""Every text and JSON view of plans, apply results and cluster status. Pure: values in,
strings out; the CLI decides where they go."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from reconciler.model import LiveCluster
from reconciler.plan.cost import describe_cost, describe_total
from reconciler.plan.document import format_document_value
from reconciler.plan.types import (
    Action,
    ApplyResult,
    Change,
    ChangeResult,
    FieldChange,
    Outcome,
    Plan,
)

#: Symbol and style per action, as in Terraform's plan output: + green, ~ yellow, - red,
#: blocked and failed red, waits dim.
_SYMBOL: dict[Action, tuple[str, dict[str, Any]]] = {
    Action.CREATE: ("+", {"fg": "green"}), Action.UPDATE: ("~", {"fg": "yellow"}),
    Action.DELETE: ("-", {"fg": "red"}), Action.WAIT: ("=", {"dim": True}),
    Action.FAILED: ("!", {"fg": "red", "bold": True}),
    Action.BLOCKED: ("x", {"fg": "red", "bold": True}),
    Action.UNKNOWN: ("?", {"fg": "magenta", "bold": True}), Action.NOOP: (" ", {}),
}
_DIM: dict[str, Any] = {"dim": True}
#: What each performance profile means (grid-api.md), shown under a profile change.
PROFILE_MEANING = {"default": "extra nodes, metrics and monitoring",
                   "cost-saving": "fewer nodes, no metrics or monitoring, cheaper"}
_DONE = {Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "delete requested"}
SENSITIVE = "(sensitive value changed)"
SENSITIVE_SET = "(sensitive value)"
ABSENT = "(absent)"


def paint(text: str, style: dict[str, Any], color: bool) -> str:
    """``text`` styled (click.style) when ``color``; as is otherwise."""
    return click.style(text, **style) if color and style else text


def format_value(value: Any) -> str:
    """JSON-ish: strings quoted, lists and objects inline, ``(absent)`` for a missing field."""
    if value is None:
        return ABSENT
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def format_field_change(change: FieldChange, *, creating: bool = False) -> str:
    """``path: old -> new`` in the document's words when known (``spec.performanceProfile:
    default -> cost-saving``), else the wire's; for a create only ``path: value``."""
    if change.doc_path:
        path, show = change.doc_path, format_document_value
        old, new = change.doc_old, change.doc_new
    else:
        path, show, old, new = change.path, format_value, change.old, change.new
    if change.sensitive:
        return f"{path}: {SENSITIVE_SET if creating else SENSITIVE}"
    if creating:
        return f"{path}: {show(new)}"
    return f"{path}: {show(old)} -> {show(new)}"


def field_note(change: FieldChange, *, mixed: bool) -> str:
    """Where the field is written, and ``drift`` on a drifted field of a change that is also
    a git change (``mixed``): ``(clusters/research/research-use1.yaml:9)``."""
    bits = (["drift"] if mixed and change.cause == "drift" else []) + \
        ([change.source] if change.source else [])
    return f"({'; '.join(bits)})" if bits else ""


# --- plan -------------------------------------------------------------------------------------

def render_plan_text(plan: Plan, *, color: bool = False) -> str:
    """The plan for a person: one block per cluster that is not a plain no-op, then the
    unmanaged clusters, the warnings and the summary line."""
    lines: list[str] = []
    costs = {c.name: c for c in plan.costs}
    for change in plan.changes:
        lines.extend(_change_lines(change, color))
        if change.name in costs:
            lines.append(f"    {describe_cost(costs[change.name])}")
    if plan.unmanaged:
        lines += ["", "Unmanaged clusters (live in Grid, not owned by gridops, never changed):"]
        lines += [f"  {name}" for name in plan.unmanaged]
    if plan.warnings:
        lines += ["", "Warnings:"] + [f"  {w}" for w in plan.warnings]
    if not plan.has_drift:
        lines += ["", "No changes. Live clusters match git."]
    elif not plan.has_changes:
        attention = sum(1 for c in plan.changes if c.differs)
        lines += ["", f"No changes to apply, but {attention} cluster(s) differ from git "
                      "(see above)."]
    total = describe_total(plan.costs)
    lines += ["", *([total] if total else []), summary_line(plan)]
    return "\n".join(lines).lstrip("\n") + "\n"


def profile_note(change: FieldChange) -> str:
    """What the profile a change sets means (``cost-saving: fewer nodes, ...``), or ""."""
    if change.doc_path != "spec.performanceProfile" or not isinstance(change.doc_new, str):
        return ""
    meaning = PROFILE_MEANING.get(change.doc_new)
    return f"{change.doc_new}: {meaning}" if meaning else ""


def _change_lines(change: Change, color: bool) -> list[str]:
    if change.action is Action.NOOP and not change.reason:
        return []
    symbol, style = _SYMBOL[change.action]
    header = f"{symbol} {change.name}: {change.action.value}"
    if change.reason:
        header += f" ({change.reason})"
    lines = [paint(header, style, color)]
    creating = change.action is Action.CREATE
    mixed = change.cause == "both"
    texts = [format_field_change(f, creating=creating) for f in change.field_changes]
    width = max((len(t) for t in texts), default=0)
    for text, f in zip(texts, change.field_changes, strict=True):
        note = field_note(f, mixed=mixed)
        line = f"    {text.ljust(width)}  {paint(note, _DIM, color)}" if note else f"    {text}"
        lines.append(line.rstrip())
        meaning = profile_note(f) if not creating else ""
        if meaning:
            lines.append(f"      {paint(meaning, _DIM, color)}")
    return lines


def summary_line(plan: Plan) -> str:
    """``Plan: 1 to create, 2 to change, 1 to delete; 1 blocked, 2 waiting.`` (the kinds
    after ``;`` only when there are any)."""
    return (f"Plan: {plan.count(Action.CREATE)} to create, {plan.count(Action.UPDATE)} to "
            f"change, {plan.count(Action.DELETE)} to delete"
            + _others(plan.count(Action.BLOCKED), plan.count(Action.FAILED),
                      plan.count(Action.WAIT), unknown=plan.count(Action.UNKNOWN)) + ".")


def _others(blocked: int, failed: int, waiting: int, *, failed_word: str = "failed",
            unknown: int = 0) -> str:
    parts = [f"{n} {word}" for n, word in ((blocked, "blocked"), (failed, failed_word),
                                          (waiting, "waiting"), (unknown, "unknown")) if n]
    return "; " + ", ".join(parts) if parts else ""


def render_unconverged(plan: Plan) -> str:
    """The clusters in git an apply leaves blocked or FAILED, and what to do; "" when none."""
    stuck = [c for c in plan.changes if c.source and c.action in (Action.BLOCKED, Action.FAILED)]
    if not stuck:
        return ""
    lines = [f"Not in sync with git: {len(stuck)} cluster(s) blocked or failed:"]
    for change in stuck:
        if change.action is Action.BLOCKED:
            lines.append(f"  x {change.name} ({change.source}): blocked: {change.reason}")
        else:
            lines.append(f"  ! {change.name} ({change.source}): FAILED in Grid: {change.reason}; "
                         "fix the cause, then delete it in Grid so the next apply creates it "
                         "again (see `gridops status`)")
    return "\n".join(lines) + "\n"


def plan_summary(plan: Plan) -> dict[str, Any]:
    """The plan's counts for scripts (``plan --json``'s ``summary``, the action's outputs):
    one count per action (create, update, delete, wait, failed, blocked, noop), the unmanaged
    clusters, and whether anything is to change (``hasChanges``) or differs (``hasDrift``).
    A cost estimate belongs here as ``monthlyCostDelta``: the GitHub Action's
    ``monthly-cost-delta`` output reads that key (``reconciler.github.action_outputs``)."""
    counts: dict[str, Any] = {action.value: plan.count(action) for action in Action}
    return {**counts, "unmanaged": len(plan.unmanaged), "hasChanges": plan.has_changes,
            "hasDrift": plan.has_drift}


def render_plan_json(plan: Plan) -> str:
    """The plan file's JSON plus a ``summary`` (see ``plan_summary``); ``gridops apply`` reads
    it back like a plan file and ignores the summary."""
    return json.dumps({**plan.to_json(), "summary": plan_summary(plan)}, indent=2,
                      sort_keys=True)


# --- apply ------------------------------------------------------------------------------------

def render_apply_text(result: ApplyResult, *, color: bool = False) -> str:
    """One line per cluster something happened to, then the summary line."""
    lines = [paint(_result_line(r), _SYMBOL[Action.FAILED if r.outcome is Outcome.FAILED
                                             else r.action][1], color)
             for r in result.results if _worth_a_line(r)]
    if result.error:
        lines.append(f"! apply stopped before changing anything: {result.error}")
    lines += ["", apply_summary_line(result)]
    return "\n".join(lines).lstrip("\n") + "\n"


def _worth_a_line(r: ChangeResult) -> bool:
    return r.action.changes_grid or r.outcome is Outcome.FAILED


def _result_line(r: ChangeResult) -> str:
    symbol = _SYMBOL[r.action][0]
    if r.outcome is Outcome.FAILED:
        return f"! {r.name}: {r.action.value} failed: {r.error}"
    done = _DONE.get(r.action, r.outcome.value)
    note = f" ({r.note})" if r.note else ""
    phase = f" ({short_enum(r.phase)})" if r.phase else ""
    return f"{symbol} {r.name}: {done}{note}{phase}"


def apply_summary_line(result: ApplyResult) -> str:
    def ok(action: Action) -> int:
        return sum(1 for r in result.results if r.action is action and r.outcome is Outcome.OK)

    def count(action: Action) -> int:
        return sum(1 for r in result.results if r.action is action)

    failed = sum(1 for r in result.results if r.outcome is Outcome.FAILED)
    return (f"Apply complete: {ok(Action.CREATE)} created, {ok(Action.UPDATE)} changed, "
            f"{ok(Action.DELETE)} deleted, {failed} failed"
            + _others(count(Action.BLOCKED), count(Action.FAILED), count(Action.WAIT),
                      failed_word="FAILED in Grid", unknown=count(Action.UNKNOWN)) + ".")


# --- status ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusRow:
    """One live cluster in ``gridops status``."""

    #: the Grid cluster name
    name: str
    #: the wire ClusterType enum (shown without its prefix)
    cluster_type: str
    #: the wire ClusterState of ``status.phase`` (shown without its prefix)
    phase: str
    #: True when the cluster is in gridops' inventory
    managed: bool
    #: True/False when compared with git; None when not comparable (unmanaged, not running)
    drift: bool | None
    #: why it is as it is (a FAILED reason, a wait, a blocked adoption), or ""
    reason: str = ""
    #: what an update's difference comes from (``Change.cause``: changed, drift, both, "")
    cause: str = ""
    #: when Grid created it (RFC 3339), "" when Grid did not say
    created_at: str = ""
    #: seconds since ``created_at`` when the table was made; None when unknown
    age_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": short_enum(self.cluster_type),
                "phase": short_enum(self.phase), "managed": self.managed, "drift": self.drift,
                "cause": self.cause or None,
                "reason": self.reason, "createdAt": self.created_at or None,
                "ageSeconds": None if self.age_seconds is None else int(self.age_seconds)}


def status_rows(plan: Plan, live: Sequence[LiveCluster], inventory: Collection[str], *,
                now: datetime | None = None) -> tuple[StatusRow, ...]:
    """A row per live cluster, sorted by name: owned or not (``inventory`` names), drift
    as the plan found it (an update is drift; a no-op is none; anything else is not
    comparable), and its age at ``now``."""
    changes = {c.name: c for c in plan.changes}
    rows = []
    for cluster in sorted(live, key=lambda c: c.name):
        change = changes.get(cluster.name)
        drift = None if change is None else {Action.UPDATE: True, Action.NOOP: False}.get(
            change.action)
        reason = change.reason if change else cluster.reason
        rows.append(StatusRow(name=cluster.name, cluster_type=cluster.cluster_type,
                              phase=cluster.phase, managed=cluster.name in inventory,
                              drift=drift if cluster.is_byoc else None, reason=reason,
                              cause=change.cause if change and drift else "",
                              created_at=cluster.created_at,
                              age_seconds=_age(cluster.created_at, now)))
    return tuple(rows)


def _age(created_at: str, now: datetime | None) -> float | None:
    if not created_at or now is None:
        return None
    try:
        created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return max(0.0, (now - created).total_seconds())


def format_age(seconds: float | None) -> str:
    """``45s``, ``12m``, ``3h20m``, ``5d``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d"


_STATUS_HEADER = ("NAME", "TYPE", "PHASE", "MANAGED", "DRIFT", "AGE", "REASON")
_PHASE_STYLE: dict[str, dict[str, Any]] = {
    "RUNNING": {"fg": "green"}, "FAILED": {"fg": "red", "bold": True},
    "PENDING": {"dim": True}, "QUEUED": {"dim": True}, "DELETED": {"dim": True},
}


def render_status_table(rows: Sequence[StatusRow], *, color: bool = False) -> str:
    """An aligned table, one row per cluster, in the order given; the phase and drift
    coloured when ``color`` (padding is measured on the plain text)."""
    table = [_STATUS_HEADER] + [_status_cells(r) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_STATUS_HEADER) - 1)]
    lines = []
    for n, row in enumerate(table):
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
        if n and color:
            cells[2] = paint(cells[2], _PHASE_STYLE.get(row[2].strip(), {}), color)
            cells[4] = paint(cells[4], {"fg": "yellow"} if row[4] == "yes" else {}, color)
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    if not rows:
        lines.append("(no live clusters)")
    return "\n".join(lines) + "\n"


def render_status_json(rows: Sequence[StatusRow]) -> str:
    return json.dumps({"clusters": [r.to_json() for r in rows]}, indent=2, sort_keys=True)


def _status_cells(r: StatusRow) -> tuple[str, ...]:
    """DRIFT: ``yes`` (Grid differs from git), ``git`` (only a change in git waits to be
    applied), ``no``, ``-`` (not comparable)."""
    drift = "-" if r.drift is None else (
        ("git" if r.cause == "changed" else "yes") if r.drift else "no")
    return (r.name, short_enum(r.cluster_type), short_enum(r.phase),
            "managed" if r.managed else "unmanaged", drift, format_age(r.age_seconds), r.reason)


def short_enum(value: str) -> str:
    """``CLUSTER_STATE_RUNNING`` -> ``RUNNING``; other text as is."""
    for prefix in ("CLUSTER_STATE_", "CLUSTER_TYPE_", "CLUSTER_PERFORMANCE_PROFILE_"):
        if value.startswith(prefix):
            return value[len(prefix):]
    return value
