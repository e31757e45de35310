"""Text tables for the AWS side: preflight checks, leftovers of a cluster, sweep outcomes.

Rendering only: every function takes values and returns a string; the CLI prints it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from reconciler.aws.checks import Check
from reconciler.aws.sweep import Leftover, SweepResult

_STATUS_MARK = {"pass": "ok", "warn": "WARN", "fail": "FAIL"}


def render_checks(checks: Sequence[Check]) -> str:
    """A table of checks (a hint on its own line below its check) and a summary line."""
    if not checks:
        return "no preflight checks ran (no clusters)"
    rows: list[list[str]] = []
    for c in checks:
        rows.append([c.cluster, c.region, c.name, _STATUS_MARK[c.status], c.message])
        if c.hint and c.status != "pass":
            rows.append(["", "", "", "", f"  hint: {c.hint}"])
    counts = Counter(c.status for c in checks)
    summary = (f"preflight: {counts['pass']} ok, {counts['warn']} warning(s), "
               f"{counts['fail']} failure(s)")
    return _table(["CLUSTER", "REGION", "CHECK", "STATUS", "MESSAGE"], rows) + "\n\n" + summary


def render_leftovers(cluster_name: str, leftovers: Sequence[Leftover]) -> str:
    """What a cluster left in the account, one resource a row."""
    if not leftovers:
        return f"no resources left behind by cluster {cluster_name}"
    rows = [[x.kind, x.name, x.id, x.region or "global"] for x in leftovers]
    return (f"{len(leftovers)} resource(s) left behind by cluster {cluster_name}:\n\n"
            + _table(["KIND", "NAME", "ID", "REGION"], rows))


def render_sweep_results(results: Sequence[SweepResult]) -> str:
    """The outcome of deleting each leftover, and a summary line."""
    if not results:
        return "nothing to delete"
    rows = [[r.leftover.kind, r.leftover.name, r.outcome, r.error] for r in results]
    deleted = sum(1 for r in results if r.ok)
    summary = f"sweep: {deleted} deleted, {len(results) - deleted} not deleted"
    return _table(["KIND", "NAME", "OUTCOME", "ERROR"], rows) + "\n\n" + summary


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers) - 1)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(w) for cell, w in zip(cells, widths, strict=False)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    return "\n".join(line(r) for r in [headers, *rows])
