"""apply at a real terminal (a pseudo-terminal): it shows the plan and asks before changing
anything."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from tests.cli.conftest import GitOpsRepo
from tests.cli.terminal import screen_of


def run_at_terminal(g: GitOpsRepo, answer: str | None, *args: str,
                    env: dict[str, str] | None = None,
                    prompt: bytes = b"Apply these changes?") -> tuple[int, str]:
    """Run gridops at a pseudo-terminal, typing ``answer`` at ``prompt``; the exit code and
    everything the terminal showed."""
    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "--repo", str(g.root), *args],
                            stdin=slave, stdout=slave, stderr=slave,
                            env={**environ, **(env or {})}, close_fds=True)
    os.close(slave)
    seen = screen_of(master, proc, seconds=30, prompt=prompt, answer=answer)
    code = proc.wait(timeout=10)
    os.close(master)
    return code, seen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "code", "created"), [("y", 0, True), ("n", 1, False)],
                         ids=["yes-applies", "no-changes-nothing"])
def test_apply_at_a_terminal_asks_before_changing_anything(
        gitops: GitOpsRepo, answer: str, code: int, created: bool) -> None:
    exit_code, screen = run_at_terminal(gitops, answer, "apply")
    assert "Plan: 2 to create" in screen
    assert exit_code == code, screen
    assert ("alpha" in gitops.live()) is created


def _ready_to_delete_alpha(g: GitOpsRepo) -> None:
    result = g.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                       "--timeout", "20")
    assert result.exit_code == 0, result.output
    g.remove("clusters/team-a/alpha.yaml")
    g.commit("drop alpha")


@pytest.mark.parametrize(("answer", "code", "deleted"), [
    ("yes", 0, True), ("y", 1, False), ("YES please", 1, False), ("", 1, False)],
    ids=["typed-yes-deletes", "y-is-not-enough", "anything-else-refused", "empty-refused"])
def test_a_destructive_apply_at_a_terminal_needs_yes_typed_out(
        gitops: GitOpsRepo, answer: str, code: int, deleted: bool) -> None:
    _ready_to_delete_alpha(gitops)
    exit_code, screen = run_at_terminal(gitops, answer, "apply",
                                        prompt=b"only 'yes' will be accepted")
    assert "- alpha: delete (removed from git)" in screen
    assert exit_code == code, screen
    alpha = gitops.live().get("alpha")
    assert (alpha is None or alpha.desired_state == "CLUSTER_STATE_DELETED") is deleted
    if not deleted:
        assert "nothing was changed" in screen
