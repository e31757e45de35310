"""The pull-request and Actions flow through the CLI: plan --comment, apply --comment,
drift --issue, against the emulator, real git repositories and the loopback GitHub stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import SECRET_A, SECRET_B, GitOpsRepo, cluster_doc
from tests.cli.test_plan_apply import _applied
from tests.github.standin import GitHubStandIn

MARKER = "<!-- gridops:plan:gridops.yaml -->"


def _actions_env(g: GitOpsRepo, standin: GitHubStandIn, tmp: Path, *, event: dict[str, object],
                 event_name: str, sha: str) -> dict[str, str]:
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event))
    return {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": standin.token,
            "GITHUB_REPOSITORY": standin.repo, "GITHUB_API_URL": standin.url,
            "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "77",
            "GITHUB_EVENT_PATH": str(event_path), "GITHUB_EVENT_NAME": event_name,
            "GITHUB_SHA": sha, "GITHUB_STEP_SUMMARY": str(tmp / "summary.md")}


def _pr_env(g: GitOpsRepo, standin: GitHubStandIn, tmp: Path, number: int,
            base: str) -> dict[str, str]:
    head = g.repo.head.commit.hexsha
    event = {"number": number, "pull_request": {
        "number": number, "base": {"sha": base, "ref": "main"}, "head": {"sha": head}},
        "repository": {"default_branch": "main"}}
    return _actions_env(g, standin, tmp, event=event, event_name="pull_request", sha=head)


def _plan_comments(standin: GitHubStandIn, number: int) -> list[dict[str, object]]:
    return [c for c in standin.comments_on(number) if MARKER in str(c["body"])]


def test_plan_comment_is_one_living_comment_updated_on_every_push(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    base = gitops.repo.head.commit.hexsha
    number = github_standin.add_pull_request(head_sha=base)
    github_standin.add_comments(number, 150)  # the marker comment lands on a later page
    gitops.write("clusters/team-c/gamma.yaml", cluster_doc("gamma"))
    gitops.commit("add gamma")
    first = gitops.gridops("plan", "--comment", env=_pr_env(gitops, github_standin, tmp_path,
                                                             number, base))
    assert first.exit_code == 0, first.output
    gitops.write("clusters/team-c/gamma.yaml", cluster_doc("gamma", profile="cost-saving"))
    gitops.commit("gamma: cost saving")
    second = gitops.gridops("plan", "--comment", env=_pr_env(gitops, github_standin, tmp_path,
                                                              number, base))
    assert second.exit_code == 0, second.output
    (comment,) = _plan_comments(github_standin, number)
    body = str(comment["body"])
    assert "gamma" in body and "cost-saving" in body
    assert gitops.repo.head.commit.hexsha[:12] in body
    assert "https://github.example/acme/cluster-config/actions/runs/77" in body
    assert "gridops:create" in github_standin.labels_of(number)
    summary = (tmp_path / "summary.md").read_text()
    assert "gamma" in summary
    received = github_standin.everything_received()
    assert SECRET_A not in received and SECRET_B not in received


def test_plan_comment_shows_the_pr_changes_apart_from_drift(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    _applied(gitops)
    live = gitops.grid.get_cluster("alpha")
    spec = json.loads(json.dumps(live.spec))
    spec["performanceProfile"] = "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    gitops.grid.update_cluster(live.id, "alpha", spec)  # drift, not from the PR
    base = gitops.repo.head.commit.hexsha
    number = github_standin.add_pull_request(head_sha=base)
    gitops.write("clusters/team-c/gamma.yaml", cluster_doc("gamma"))
    gitops.commit("add gamma")
    result = gitops.gridops("plan", "--comment", env=_pr_env(gitops, github_standin, tmp_path,
                                                              number, base))
    assert result.exit_code == 0, result.output
    body = str(_plan_comments(github_standin, number)[0]["body"])
    own, _, drift = body.partition("Drift: clusters this pull request does not touch")
    assert "gamma" in own and "alpha" not in own.split("Changes this pull request makes")[1]
    assert "alpha" in drift


def test_a_validation_failure_is_commented_and_annotated_and_exits_1(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    base = gitops.repo.head.commit.hexsha
    number = github_standin.add_pull_request(head_sha=base)
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", region="us-east-1a"))
    gitops.commit("zone by mistake")
    result = gitops.gridops("plan", "--comment", env=_pr_env(gitops, github_standin, tmp_path,
                                                              number, base))
    assert result.exit_code == 1
    assert "::error file=clusters/team-a/alpha.yaml,line=6,col=11" in result.stdout
    body = str(_plan_comments(github_standin, number)[0]["body"])
    assert "clusters/team-a/alpha.yaml" in body and "availability zone" in body


def test_apply_on_merge_posts_each_outcome_to_the_pull_request(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    sha = gitops.repo.head.commit.hexsha
    number = github_standin.add_pull_request(merge_sha=sha, merged=True)
    env = _actions_env(gitops, github_standin, tmp_path, event={"after": sha},
                       event_name="push", sha=sha)
    result = gitops.gridops("apply", "--auto-approve", "--comment", env=env)
    assert result.exit_code == 0, result.output
    bodies = " ".join(str(c["body"]) for c in github_standin.comments_on(number))
    assert "alpha" in bodies and "beta" in bodies
    assert "alpha" in (tmp_path / "summary.md").read_text()
    assert SECRET_A not in github_standin.everything_received()


def test_a_failed_apply_says_what_failed_and_that_the_next_run_retries(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    sha = gitops.repo.head.commit.hexsha
    number = github_standin.add_pull_request(merge_sha=sha, merged=True)
    gitops.sim.inject_faults(500, method="POST")  # the first create fails
    env = _actions_env(gitops, github_standin, tmp_path, event={"after": sha},
                       event_name="push", sha=sha)
    result = gitops.gridops("apply", "--auto-approve", "--comment", env=env)
    assert result.exit_code == 1
    body = " ".join(str(c["body"]) for c in github_standin.comments_on(number))
    assert "Failed (1)" in body and "next scheduled reconcile run will try again" in body


def test_drift_issue_opens_updates_and_closes(gitops: GitOpsRepo, github_standin: GitHubStandIn,
                                             tmp_path: Path) -> None:
    _applied(gitops)
    sha = gitops.repo.head.commit.hexsha
    env = _actions_env(gitops, github_standin, tmp_path, event={}, event_name="schedule",
                       sha=sha)
    assert gitops.gridops("drift", "--issue", env=env).exit_code == 0
    assert github_standin.plain_issues() == []  # no drift, no issue
    live = gitops.grid.get_cluster("alpha")
    spec = json.loads(json.dumps(live.spec))
    spec["performanceProfile"] = "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    gitops.grid.update_cluster(live.id, "alpha", spec)
    assert gitops.gridops("drift", "--issue", env=env).exit_code == 2
    (issue,) = github_standin.plain_issues()
    assert issue["state"] == "open" and "alpha" in issue["body"]
    spec["driver"]["kubernetes"]["aws"]["instanceTypes"] = [{"name": "m5.large"}]
    gitops.grid.update_cluster(live.id, "alpha", spec)
    assert gitops.gridops("drift", "--issue", env=env).exit_code == 2
    (issue,) = github_standin.plain_issues()
    assert "m5.large" in issue["body"]
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0  # self-heal
    gitops.wait_running("alpha")
    assert gitops.gridops("drift", "--issue", env=env).exit_code == 0
    (issue,) = github_standin.plain_issues()
    assert issue["state"] == "closed"


def test_apply_if_self_heal_does_nothing_when_self_heal_is_off(gitops: GitOpsRepo) -> None:
    gitops.write("gridops.yaml", (gitops.root / "gridops.yaml").read_text()
                 + "selfHeal: false\n")
    gitops.commit("report only")
    result = gitops.gridops("apply", "--auto-approve", "--if-self-heal")
    assert result.exit_code == 0 and "selfHeal is false" in result.stdout
    assert "alpha" not in gitops.live()


def test_comment_without_a_github_token_is_a_clear_error(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("plan", "--comment")
    assert result.exit_code == 1
    assert "GITHUB_TOKEN" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("flag", ["--github-token", "--github-repository", "--pr"], ids=str)
def test_github_values_can_be_given_as_options(flag: str) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    assert flag in CliRunner().invoke(main, ["plan", "--help"]).output




def test_apply_with_nothing_to_do_still_tells_the_pull_request(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    _applied(gitops)
    sha = gitops.repo.head.commit.hexsha
    number = github_standin.add_pull_request(merge_sha=sha, merged=True)
    env = _actions_env(gitops, github_standin, tmp_path, event={"after": sha},
                       event_name="push", sha=sha)
    result = gitops.gridops("apply", "--auto-approve", "--comment", env=env)
    assert result.exit_code == 0, result.output
    bodies = " ".join(str(c["body"]) for c in github_standin.comments_on(number))
    assert "Nothing to apply" in bodies


def test_an_apply_that_stops_before_any_cluster_still_tells_the_pull_request(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    sha = gitops.repo.head.commit.hexsha
    number = github_standin.add_pull_request(merge_sha=sha, merged=True)
    env = _actions_env(gitops, github_standin, tmp_path, event={"after": sha},
                       event_name="push", sha=sha)
    env["GRID_EXTERNAL_ID_B"] = ""  # a secret missing in CI
    result = gitops.gridops("apply", "--auto-approve", "--comment", env=env)
    assert result.exit_code == 1
    body = " ".join(str(c["body"]) for c in github_standin.comments_on(number))
    assert "stopped before changing anything" in body and "GRID_EXTERNAL_ID_B" in body
    assert "stopped before changing anything" in (tmp_path / "summary.md").read_text()
    assert not {"alpha", "beta"} & set(gitops.live())


def test_only_if_latest_skips_a_commit_that_is_no_longer_the_tip(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    old = gitops.repo.head.commit.hexsha
    gitops.write("clusters/team-c/gamma.yaml", cluster_doc("gamma"))
    new = gitops.commit("add gamma")
    github_standin.branches["main"] = new
    gitops.repo.git.checkout(old)  # a re-run of the older commit's apply job
    env = _actions_env(gitops, github_standin, tmp_path,
                       event={"after": old, "repository": {"default_branch": "main"}},
                       event_name="push", sha=old)
    skipped = gitops.gridops("apply", "--auto-approve", "--only-if-latest", env=env)
    assert skipped.exit_code == 0, skipped.output
    assert "no longer the tip" in skipped.stdout and "alpha" not in gitops.live()
    gitops.repo.git.checkout(new)
    env = _actions_env(gitops, github_standin, tmp_path,
                       event={"after": new, "repository": {"default_branch": "main"}},
                       event_name="push", sha=new)
    applied = gitops.gridops("apply", "--auto-approve", "--only-if-latest", env=env)
    assert applied.exit_code == 0, applied.output
    assert {"alpha", "beta", "gamma"} <= set(gitops.live())


def test_drift_writes_the_job_summary_and_the_plan_file(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    env = _actions_env(gitops, github_standin, tmp_path, event={}, event_name="schedule",
                       sha=gitops.repo.head.commit.hexsha)
    result = gitops.gridops("drift", "--issue", "--out", str(tmp_path / "plan.json"), env=env)
    assert result.exit_code == 2
    assert json.loads((tmp_path / "plan.json").read_text())["changes"]
    assert "alpha" in (tmp_path / "summary.md").read_text()
