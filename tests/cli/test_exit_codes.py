"""Exit codes nobody can confuse: a usage error is never 2, which means only "live differs
from git"."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.errors import EXIT_CHANGES, EXIT_CODES, EXIT_USAGE, describe_exit_codes
from tests.cli.conftest import GitOpsRepo


@pytest.mark.parametrize("args", [
    ["--bogus", "plan"],
    ["plan", "--bogus"],
    ["plan", "--detailed-exitcode", "--bogus"],
    ["drift", "--no-such-flag"],
    ["apply", "--timeout", "soon"],
    ["--log-format", "xml", "plan"],
    ["status", "unexpected-argument"],
    ["no-such-command"],
    ["sim", "serve", "--port", "eighty"],
], ids=["unknown-global-option", "unknown-plan-option", "unknown-option-beside-detailed-exitcode",
        "unknown-drift-option", "bad-number", "bad-choice", "extra-argument", "unknown-command",
        "bad-subgroup-option"])
def test_a_usage_error_exits_with_the_usage_code_never_2(
        gitops: GitOpsRepo, args: list[str]) -> None:
    result = gitops.gridops(*args)
    assert result.exit_code == EXIT_USAGE != EXIT_CHANGES, result.output
    assert "Usage:" in result.stderr or "Error:" in result.stderr
    assert "Traceback" not in result.output


def test_drift_still_exits_2_when_live_differs(gitops: GitOpsRepo) -> None:
    assert gitops.gridops("drift").exit_code == EXIT_CHANGES  # the two clusters are missing


def test_help_and_version_exit_0() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--help"]).exit_code == 0
    assert runner.invoke(main, ["plan", "--help"]).exit_code == 0
    assert runner.invoke(main, ["--version"]).exit_code == 0


def test_the_exit_code_table_names_each_code_once() -> None:
    codes = [code for code, _ in EXIT_CODES]
    assert len(codes) == len(set(codes)) and {0, 1, 2} <= set(codes)
    text = describe_exit_codes()
    assert all(f"  {code} " in text for code in codes)
    assert "usage error" in dict(EXIT_CODES)[EXIT_USAGE]
