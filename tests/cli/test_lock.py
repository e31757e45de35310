"""The apply lock through the CLI: who holds it, waiting for it, and force-unlock refusing a
holder that is alive."""

from __future__ import annotations

import threading
from pathlib import Path

from reconciler.ports import LockInfo
from reconciler.state import LocalStateBackend
from tests.cli.conftest import GitOpsRepo

HOLDER = LockInfo(id="live0001", who="alice@laptop", when="2026-11-30T09:15:00Z",
                  run="acme/clusters run 12")


def _backend(g: GitOpsRepo) -> LocalStateBackend:
    return LocalStateBackend(g.root / ".gridops" / "state.json")


def test_apply_names_the_holder_and_suggests_lock_wait(gitops: GitOpsRepo) -> None:
    with _backend(gitops).lock(HOLDER):
        result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "locked by alice@laptop since 2026-11-30T09:15:00Z (run acme/clusters run 12)" \
        in result.stderr
    assert "--lock-wait SECONDS" in result.stderr
    assert "alpha" not in gitops.live()


def test_force_unlock_refuses_while_the_holder_is_alive_and_apply_then_goes_through(
        gitops: GitOpsRepo) -> None:
    with _backend(gitops).lock(HOLDER):
        refused = gitops.gridops("force-unlock", "live0001", "--force")
        assert refused.exit_code == 1
        assert "held by a live process: alice@laptop" in refused.stderr
        assert "nothing was released" in refused.stderr
    applied = gitops.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output


def test_a_wait_for_the_lock_says_who_holds_it_then_applies_once_free(
        gitops: GitOpsRepo) -> None:
    held = _backend(gitops).lock(HOLDER)
    held.__enter__()
    releaser = threading.Timer(0.5, lambda: held.__exit__(None, None, None))
    releaser.start()
    try:
        result = gitops.gridops("apply", "--auto-approve", "--lock-wait", "20")
    finally:
        releaser.join()
    assert result.exit_code == 0, result.output
    waits = [line for line in result.stderr.splitlines() if line.startswith("waiting for")]
    assert waits == ["waiting for the state lock held by alice@laptop (run acme/clusters "
                     "run 12) since 2026-11-30T09:15:00Z (0s of 20s)"]
    assert set(gitops.inventory()) == {"alpha", "beta"}


def test_apply_reads_the_commit_from_git_while_it_waits_for_the_lock(
        gitops: GitOpsRepo, tmp_path: Path) -> None:
    # git reads the commit's files and the working tree's status on the other core while the
    # run makes ready (or here, waits for) the lock; they are parsed under it
    trace = tmp_path / "git-trace.txt"
    held = _backend(gitops).lock(HOLDER)
    held.__enter__()
    seen_while_held: list[str] = []

    def release() -> None:
        seen_while_held.append(trace.read_text() if trace.exists() else "")
        held.__exit__(None, None, None)

    releaser = threading.Timer(1.5, release)
    releaser.start()
    try:
        result = gitops.gridops("apply", "--auto-approve", "--lock-wait", "20",
                                env={"GIT_TRACE": str(trace)})
    finally:
        releaser.join()
    assert result.exit_code == 0, result.output
    assert "git ls-tree" in seen_while_held[0] and "git cat-file --batch" in seen_while_held[0]
    assert "git status" in seen_while_held[0]
    assert set(gitops.inventory()) == {"alpha", "beta"}
