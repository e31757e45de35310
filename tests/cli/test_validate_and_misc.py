"""validate, status, logs, help and version through the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.cli.conftest import GitOpsRepo, cluster_doc


def test_validate_passes_on_a_good_repository(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("validate")
    assert result.exit_code == 0, result.output
    assert "2 cluster(s) valid." in result.stdout


def test_validate_reports_every_finding_with_file_line_and_col(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", region="us-east-1a"))
    gitops.write("clusters/team-b/beta.yaml", cluster_doc("Beta_1").replace(
        "  region:", "  regoin: us-east-1\n  region:"))
    result = gitops.gridops("validate")
    assert result.exit_code == 1
    out = result.stdout
    assert "clusters/team-a/alpha.yaml:6:11: " in out and "availability zone" in out
    assert "clusters/team-b/beta.yaml:" in out and "did you mean 'region'" in out
    assert "Traceback" not in result.output
    assert "problem(s) found" in result.stderr


def test_validate_refuses_a_plain_string_external_id_showing_the_reference_form(
        gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha").replace(
        "{fromEnv: GRID_EXTERNAL_ID_A}", "plain-text-id"))
    result = gitops.gridops("validate")
    assert result.exit_code == 1
    assert "fromEnv" in result.stdout and "plain-text-id" not in result.stdout


def test_validate_of_a_subfolder_uses_parent_defaults_and_reports_only_that_folder(
        gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-c/_defaults.yaml", """\
apiVersion: gridops/v1
kind: GridClusterDefaults
spec:
  region: eu-west-1
  roleArn: arn:aws:iam::123456789012:role/grid-byoc
  externalId: {fromEnv: GRID_EXTERNAL_ID_A}
""")
    gitops.write("clusters/team-c/sub/gamma.yaml", """\
apiVersion: gridops/v1
kind: GridCluster
metadata: {name: gamma}
spec:
  instanceTypes: [t3.large]
""")
    gitops.write("clusters/team-a/alpha.yaml", "broken: [")
    result = gitops.gridops("validate", str(gitops.root / "clusters/team-c/sub"))
    assert result.exit_code == 0, result.output
    assert "1 cluster(s) valid." in result.stdout
    assert gitops.gridops("validate").exit_code == 1


def test_plan_stops_on_any_validation_error_and_changes_nothing(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", instance_types=["m6g.large"]))
    gitops.commit("arm64")
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "clusters/team-a/alpha.yaml:" in result.stderr and "arm64" in result.stderr
    assert not {"alpha", "beta"} & set(gitops.live())


def test_a_broken_settings_file_names_the_file_and_line(gitops: GitOpsRepo) -> None:
    gitops.write("gridops.yaml", "apiVersion: gridops/v1\nkind: Settings\nmaxDeletes: -1\n")
    result = gitops.gridops("plan")
    assert result.exit_code == 1
    assert "gridops.yaml:3" in result.stderr


def test_wrong_grid_credentials_give_a_clear_error(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("plan", env={"GRID_API_KEY": "wrong-key-123"})
    assert result.exit_code == 1
    assert "GRID_API_KEY" in result.stderr and "wrong-key-123" not in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_grid_is_a_clear_error(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("--grid-url", "http://127.0.0.1:9", "plan")
    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.stderr and "Traceback" not in result.output


def test_logs_are_json_on_stderr_in_ci(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("-vv", "plan", env={"CI": "true"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(json.loads(line)["event"] for line in lines)
    assert "Plan:" in result.stdout and "Plan:" not in result.stderr


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "status", "import", "drift",
                                     "force-unlock", "sim"], ids=str)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "gridops, version" in result.output


def test_force_unlock_of_an_unknown_lock_is_a_clear_error(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("force-unlock", "nope")
    assert result.exit_code == 1 and "nope" in result.stderr


def _sparse(path: object, size: int) -> None:
    """A file of ``size`` bytes that takes no disk space (a hole)."""
    with open(str(path), "wb") as f:
        f.truncate(size)


@pytest.mark.parametrize(("settings_line", "size", "limit_text"), [
    ("", 50 * 1024 * 1024, "more than the 1,048,576 bytes (1.0 MiB) one file may hold"),
    ("maxFileBytes: 4096\n", 5000, "more than the 4,096 bytes (4.0 KiB) one file may hold"),
], ids=["50-MB-against-the-default", "over-a-configured-limit"])
def test_validate_refuses_a_file_over_the_size_limit_without_reading_it(
        gitops: GitOpsRepo, settings_line: str, size: int, limit_text: str) -> None:
    if settings_line:
        gitops.write("gridops.yaml", (gitops.root / "gridops.yaml").read_text() + settings_line)
    _sparse(gitops.root / "clusters/team-a/huge.yaml", size)

    result = gitops.gridops("validate")

    assert result.exit_code == 1, result.output
    assert f"clusters/team-a/huge.yaml:1:1: the file is {size:,} bytes" in result.stdout
    assert limit_text in result.stdout and "raise maxFileBytes" in result.stdout
    assert "Traceback" not in result.output


def test_apply_refuses_a_committed_file_over_the_size_limit_and_changes_nothing(
        gitops: GitOpsRepo) -> None:
    gitops.write("gridops.yaml", (gitops.root / "gridops.yaml").read_text()
                 + "maxFileBytes: 4096\n")
    gitops.write("clusters/team-a/gamma.yaml", cluster_doc("gamma") + "#" * 5000)
    gitops.commit("an oversized cluster file")
    size = len((gitops.root / "clusters/team-a/gamma.yaml").read_bytes())

    result = gitops.gridops("apply", "--auto-approve")

    assert result.exit_code == 1, result.output
    assert f"clusters/team-a/gamma.yaml:1:1: the file is {size:,} bytes" in result.output
    assert "more than the 4,096 bytes (4.0 KiB) one file may hold" in result.output
    assert "Traceback" not in result.output
    assert gitops.live().keys() <= {"grid-cloud-prod"}, "nothing may be created"


def test_apply_names_a_cluster_file_missing_from_the_git_objects(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-a/gamma.yaml", cluster_doc("gamma"))
    gitops.commit("gamma")
    sha = gitops.repo.git.rev_parse("HEAD:clusters/team-a/gamma.yaml")
    (gitops.root / ".git" / "objects" / sha[:2] / sha[2:]).unlink()  # as a broken clone

    result = gitops.gridops("apply", "--auto-approve")

    assert result.exit_code == 1, result.output
    assert f"git object {sha} is missing from the repository" in result.output
    assert "git fsck" in result.output and "Traceback" not in result.output
    assert gitops.live().keys() <= {"grid-cloud-prod"}, "nothing may be created"


def test_a_raised_size_limit_reads_the_larger_file(gitops: GitOpsRepo) -> None:
    doc = cluster_doc("gamma") + "#" * (1024 * 1024)
    gitops.write("clusters/team-a/gamma.yaml", doc)
    assert gitops.gridops("validate").exit_code == 1

    gitops.write("gridops.yaml", (gitops.root / "gridops.yaml").read_text()
                 + "maxFileBytes: 2097152\n")

    result = gitops.gridops("validate")
    assert result.exit_code == 0, result.output
    assert "3 cluster(s) valid." in result.stdout


@pytest.mark.parametrize("value", ["12", "100000000", "'big'"],
                         ids=["below-minimum", "above-maximum", "not-a-number"])
def test_an_out_of_range_size_limit_is_a_settings_finding(gitops: GitOpsRepo,
                                                          value: str) -> None:
    gitops.write("gridops.yaml", (gitops.root / "gridops.yaml").read_text()
                 + f"maxFileBytes: {value}\n")

    result = gitops.gridops("validate")

    assert result.exit_code == 1
    assert "gridops.yaml:" in result.output and "maxFileBytes" in result.output
    assert "Traceback" not in result.output


def test_an_oversized_settings_file_is_refused_before_it_is_read(gitops: GitOpsRepo) -> None:
    _sparse(gitops.root / "gridops.yaml", 50 * 1024 * 1024)

    result = gitops.gridops("validate")

    assert result.exit_code == 1
    assert "gridops.yaml:1:1: the file is 52,428,800 bytes" in result.output
    assert "Traceback" not in result.output
