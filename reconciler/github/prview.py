"""The pull request's own changes apart from drift.

A change is drift when the PR does not touch that cluster: its document is the same at the
PR's base and head (where in the files it sits does not matter), so the change comes from the
live state, not from this PR. ``mark_drift`` is pure; ``mark_drift_from_git`` reads both sides
through the git source and the loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from reconciler.aws.terraform import output_reader
from reconciler.errors import GitError
from reconciler.model import DesiredCluster, SourceLocation
from reconciler.plan.types import Plan
from reconciler.sources import gitsource
from reconciler.sources.loader import load_desired

_NOWHERE = SourceLocation("")


def mark_drift(plan: Plan, base_desired: Mapping[str, DesiredCluster],
               head_desired: Mapping[str, DesiredCluster]) -> Plan:
    """``plan`` with ``Change.drift`` set on every change the PR's documents do not explain."""
    def untouched(name: str) -> bool:
        return _comparable(base_desired.get(name)) == _comparable(head_desired.get(name))

    # Action.is_drift: a cluster still being created or deleted (WAIT) is not drift.
    changes = tuple(replace(c, drift=c.action.is_drift and untouched(c.name))
                    for c in plan.changes)
    return replace(plan, changes=changes)


def mark_drift_from_git(plan: Plan, repo_root: Path, *, base: str, head: str,
                        clusters_dir: str) -> Plan:
    """``mark_drift`` with both sides read from git. ``base`` is the PR's base commit; the
    comparison is made from its merge base with ``head``, as GitHub's PR diff is."""
    since = gitsource.merge_base(repo_root, base, head)
    return mark_drift(plan, desired_at(repo_root, since, clusters_dir),
                      desired_at(repo_root, head, clusters_dir))


def split_for_pull_request(plan: Plan, repo_root: Path, *, base: str | None,
                           head: str | None, clusters_dir: str) -> tuple[Plan, bool]:
    """``(plan, pr_view)`` for the comment: drift marked when both commits are known and in
    the clone; otherwise the plan as is, with a warning saying why it is not split."""
    if not base or not head:
        return plan, False
    try:
        return mark_drift_from_git(plan, repo_root, base=base, head=head,
                                   clusters_dir=clusters_dir), True
    except GitError as e:
        note = (f"this pull request's changes are not shown apart from drift: {e.message}"
                + (f" ({e.hint})" if e.hint else ""))
        return replace(plan, warnings=(*plan.warnings, note)), False


def desired_at(repo_root: Path, rev: str, clusters_dir: str) -> dict[str, DesiredCluster]:
    """The clusters that load at ``rev`` (documents that do not load count as absent, so a
    PR that fixes one shows it as its own change)."""
    clusters, _ = load_desired(gitsource.read_tree_files(repo_root, rev, clusters_dir),
                               read_output=output_reader(repo_root))
    return clusters


def _comparable(cluster: DesiredCluster | None) -> DesiredCluster | None:
    return None if cluster is None else replace(cluster, source=_NOWHERE)
