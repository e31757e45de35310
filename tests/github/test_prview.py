from __future__ import annotations

from pathlib import Path

import git
import pytest

from reconciler.github.prview import (
    desired_at,
    mark_drift,
    mark_drift_from_git,
    split_for_pull_request,
)
from reconciler.plan.types import Action
from tests.github.plans import change, create, delete, plan_of, update


def _doc(name: str, region: str = "us-east-1", *, comment: str = "") -> str:
    return (f"{comment}apiVersion: gridops/v1\nkind: GridCluster\nmetadata:\n  name: {name}\n"
            f"spec:\n  region: {region}\n  roleArn: arn:aws:iam::123456789012:role/grid-byoc\n"
            f"  externalId: {{fromEnv: GRID_EXTERNAL_ID}}\n  performanceProfile: default\n"
            f"  instanceTypes: [t3.large]\n")


def _commit(repo: git.Repo, files: dict[str, str | None], message: str) -> str:
    root = Path(str(repo.working_tree_dir))
    for path, text in files.items():
        target = root / path
        if text is None:
            repo.index.remove([path], working_tree=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        repo.index.add([path])
    return repo.index.commit(message).hexsha


@pytest.fixture
def pr_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """main: a, b, gone; the PR changes a's region, adds c, moves b down a file (same
    document); meanwhile main moves on (adds e), so base and fork point differ."""
    repo = git.Repo.init(tmp_path / "repo", initial_branch="main")
    _commit(repo, {"clusters/a.yaml": _doc("a"), "clusters/b.yaml": _doc("b")}, "start")
    fork = repo.create_head("pr")
    _commit(repo, {"clusters/e.yaml": _doc("e")}, "main moves on")
    base = repo.head.commit.hexsha
    repo.head.reference = fork
    repo.head.reset(index=True, working_tree=True)
    head = _commit(repo, {"clusters/a.yaml": _doc("a", "us-west-2"),
                          "clusters/c.yaml": _doc("c"),
                          "clusters/b.yaml": _doc("b", comment="# moved down\n\n")}, "the PR")
    return tmp_path / "repo", base, head


def test_changes_the_pr_makes_are_not_drift_and_the_rest_are(
        pr_repo: tuple[Path, str, str]) -> None:
    root, base, head = pr_repo
    plan = plan_of(update("a"), update("b"), create("c"), delete("gone"),
                   change("same", Action.NOOP))

    marked = mark_drift_from_git(plan, root, base=base, head=head, clusters_dir="clusters")

    assert {c.name: c.drift for c in marked.changes} == {
        "a": False, "b": True, "c": False, "gone": True, "same": False}


def test_the_pr_is_compared_from_its_fork_point_not_the_moved_base(
        pr_repo: tuple[Path, str, str]) -> None:
    root, base, head = pr_repo
    plan = plan_of(create("e"))  # e came to main after the PR forked; the PR does not add it

    marked = mark_drift_from_git(plan, root, base=base, head=head, clusters_dir="clusters")

    assert marked.changes[0].drift is True


def test_desired_at_reads_the_documents_of_a_revision(pr_repo: tuple[Path, str, str]) -> None:
    root, base, head = pr_repo
    assert sorted(desired_at(root, base, "clusters")) == ["a", "b", "e"]
    assert desired_at(root, head, "clusters")["a"].region == "us-west-2"


@pytest.mark.parametrize(("action", "drift"), [
    (Action.UPDATE, True), (Action.FAILED, True), (Action.BLOCKED, True),
    (Action.WAIT, False), (Action.NOOP, False),
], ids=["update", "failed", "blocked", "wait-being-created", "noop"])
def test_an_untouched_cluster_is_drift_only_when_live_differs_from_git(
        action: Action, drift: bool) -> None:
    marked = mark_drift(plan_of(change("a", action)), {}, {})
    assert marked.changes[0].drift is drift


def test_mark_drift_keeps_everything_but_the_flag() -> None:
    plan = plan_of(update("a"), warnings=("w",))
    marked = mark_drift(plan, {}, {})
    assert marked.changes[0].drift is True
    assert marked.warnings == plan.warnings and marked.git_sha == plan.git_sha


def test_split_for_pull_request_marks_drift_when_both_commits_are_known(
        pr_repo: tuple[Path, str, str]) -> None:
    root, base, head = pr_repo
    plan, pr_view = split_for_pull_request(plan_of(update("b")), root, base=base, head=head,
                                           clusters_dir="clusters")
    assert pr_view is True and plan.changes[0].drift is True


@pytest.mark.parametrize(("base", "head"), [(None, "HEAD"), ("0" * 40, "HEAD")],
                         ids=["not-a-pull-request", "base-not-fetched"])
def test_split_for_pull_request_falls_back_to_one_list(pr_repo: tuple[Path, str, str],
                                                       base: str | None, head: str) -> None:
    root, _, _ = pr_repo
    plan, pr_view = split_for_pull_request(plan_of(update("b")), root, base=base, head=head,
                                           clusters_dir="clusters")
    assert pr_view is False and plan.changes[0].drift is False
    assert bool(plan.warnings) is (base is not None)
