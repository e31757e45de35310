"""The GitHub side of the CLI beyond tests/cli/test_github_flow.py: every value given as an
option instead of the environment, the job summary without a comment (fork pull requests),
masking of GRIDOPS_MASK_* values end to end, GitHub refusing the token, a base commit missing
from the clone, and the scheduled self-heal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import GitOpsRepo, cluster_doc, gitops
from tests.github.standin import GitHubStandIn

__all__ = ["gitops"]  # the CLI tests' repository fixture, used here too

MARKER = "<!-- gridops:plan:gridops.yaml -->"
ACCOUNT = "123456789012"  # in every test document's roleArn


def _pr_env(standin: GitHubStandIn, tmp_path: Path, *, number: int, base: str,
            head: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": number, "base": {"sha": base},
                                                  "head": {"sha": head}},
                                 "repository": {"default_branch": "main"}}))
    return {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": standin.token,
            "GITHUB_REPOSITORY": standin.repo, "GITHUB_API_URL": standin.url,
            "GITHUB_RUN_ID": "808", "GITHUB_EVENT_PATH": str(event),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}


def _add_gamma(g: GitOpsRepo) -> tuple[str, str]:
    base = g.repo.head.commit.hexsha
    g.write("clusters/team-c/gamma.yaml", cluster_doc("gamma"))
    return base, g.commit("add gamma")


def test_every_github_value_can_come_from_options_alone(
        gitops: GitOpsRepo, github_standin: GitHubStandIn) -> None:
    _, head = _add_gamma(gitops)
    number = github_standin.add_pull_request(head_sha=head)

    result = gitops.gridops("plan", "--comment", "--no-preflight",
                            "--github-token", github_standin.token,
                            "--github-repository", github_standin.repo,
                            "--github-api-url", github_standin.url,
                            "--pr", str(number), "--head-sha", head)

    assert result.exit_code == 0, result.output
    (comment,) = github_standin.comments_on(number)
    assert comment["body"].startswith(MARKER) and f"`{head[:12]}`" in comment["body"]


def test_plan_without_comment_inside_actions_writes_only_the_job_summary(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"

    result = gitops.gridops("plan", "--no-preflight", env={"GITHUB_ACTIONS": "true",
                                         "GITHUB_STEP_SUMMARY": str(summary)})

    assert result.exit_code == 0, result.output
    assert summary.read_text().startswith(MARKER) and "alpha" in summary.read_text()
    assert github_standin.requests == []


def test_gridops_mask_values_never_reach_github(gitops: GitOpsRepo,
                                                github_standin: GitHubStandIn,
                                                tmp_path: Path) -> None:
    base, head = _add_gamma(gitops)
    number = github_standin.add_pull_request(head_sha=head)
    env = {**_pr_env(github_standin, tmp_path, number=number, base=base, head=head),
           "GRIDOPS_MASK_AWS_ACCOUNT": ACCOUNT}

    result = gitops.gridops("plan", "--comment", "--no-preflight", env=env)

    assert result.exit_code == 0, result.output
    assert ACCOUNT not in github_standin.everything_received()
    assert "arn:aws:iam::***:role/grid-byoc" in github_standin.comments_on(number)[0]["body"]
    assert ACCOUNT not in (tmp_path / "summary.md").read_text()


def test_github_refusing_the_token_is_a_clear_error_after_the_job_summary(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    base, head = _add_gamma(gitops)
    number = github_standin.add_pull_request(head_sha=head)
    env = {**_pr_env(github_standin, tmp_path, number=number, base=base, head=head),
           "GITHUB_TOKEN": "ghs_revoked_token_000"}

    result = gitops.gridops("plan", "--comment", "--no-preflight", env=env)

    assert result.exit_code == 1
    assert "the token was refused (401 Bad credentials)" in result.stderr
    assert "GITHUB_TOKEN" in result.stderr and "ghs_revoked_token_000" not in result.output
    assert "Traceback" not in result.output
    assert "gamma" in (tmp_path / "summary.md").read_text()


def test_a_base_commit_missing_from_the_clone_still_comments_with_a_warning(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    _, head = _add_gamma(gitops)
    number = github_standin.add_pull_request(head_sha=head)
    env = _pr_env(github_standin, tmp_path, number=number, base="f" * 40, head=head)

    result = gitops.gridops("plan", "--comment", "--no-preflight", env=env)

    assert result.exit_code == 0, result.output
    body = github_standin.comments_on(number)[0]["body"]
    assert "#### Changes (3)" in body
    assert "not shown apart from drift" in body and "fetch-depth: 0" in body


@pytest.mark.parametrize(("setting", "applied"), [("", True), ("selfHeal: true\n", True),
                                                  ("selfHeal: false\n", False)],
                         ids=["default", "on", "off"])
def test_scheduled_apply_heals_only_when_the_settings_allow(gitops: GitOpsRepo, setting: str,
                                                            applied: bool) -> None:
    gitops.write("gridops.yaml", (gitops.root / "gridops.yaml").read_text() + setting)
    gitops.commit("selfHeal setting")

    result = gitops.gridops("apply", "--auto-approve", "--if-self-heal")

    assert result.exit_code == 0, result.output
    assert ("alpha" in gitops.live()) is applied
    assert ("selfHeal is false" in result.stdout) is not applied
