"""The apply lock through the CLI: who holds it, waiting for it, and force-unlock refusing a
holder that is alive."""

from __future__ import annotations

import threading

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
