from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import Finding
from reconciler.github.client import GitHubClient
from reconciler.github.context import GitHubContext
from reconciler.github.publish import (
    publish_apply,
    publish_plan,
    summarize_plan,
    sync_drift_issue,
)
from reconciler.model import SecretRef
from reconciler.plan.types import Action, ApplyResult, Change, ChangeResult, FieldChange, Outcome
from reconciler.sources.secrets import Masker, Resolver, env_provider
from tests.github.plans import change, create, delete, plan_of, update
from tests.github.standin import GitHubStandIn

MARKER = "<!-- gridops:plan:gridops.yaml -->"
MERGE_SHA = "5eed" * 10


def _ctx(standin: GitHubStandIn, *, pr: int | None = None, sha: str = MERGE_SHA,
         branch: str = "main") -> GitHubContext:
    return GitHubContext(token=standin.token, repository=standin.repo, api_url=standin.url,
                         run_id="4711", pr_number=pr, head_sha=sha, default_branch=branch)


def _publish(client: GitHubClient, standin: GitHubStandIn, pr: int, *changes: Change,
             labels: bool = False, masker: Masker | None = None) -> int:
    ref = publish_plan(client, _ctx(standin, pr=pr), plan_of(*changes), findings=(),
                       masker=masker or Masker(env={}), settings_file="gridops.yaml",
                       labels=labels)
    return ref.id


# --- the plan comment -------------------------------------------------------------------------

def test_marker_comment_on_a_later_page_is_updated_not_duplicated_across_runs(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    pr = github_standin.add_pull_request()
    github_standin.add_comments(pr, 150)
    github_standin.add_comments(pr, 1, body=f"{MARKER}\nan old plan")
    github_standin.add_comments(pr, 20)
    existing = github_standin.comments_on(pr)[150]["id"]

    ids = [_publish(client, github_standin, pr, create(f"run-{i}")) for i in range(3)]

    comments = github_standin.comments_on(pr)
    assert ids == [existing] * 3 and len(comments) == 171
    assert [c for c in comments if c["body"].startswith(MARKER)] == [comments[150]]
    assert "run-2" in comments[150]["body"]
    assert not [r for r in github_standin.writes() if r.method == "POST"]


def test_first_run_creates_one_comment_and_an_unchanged_plan_writes_nothing(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    pr = github_standin.add_pull_request()
    first = _publish(client, github_standin, pr, create("a"))
    writes = len(github_standin.writes())
    second = _publish(client, github_standin, pr, create("a"))

    assert first == second and len(github_standin.comments_on(pr)) == 1
    assert len(github_standin.writes()) == writes == 1


@pytest.mark.parametrize("made_anyway", [False, True], ids=["not-made", "made-before-502"])
def test_server_error_while_creating_the_comment_never_leaves_two(
        client: GitHubClient, github_standin: GitHubStandIn, made_anyway: bool) -> None:
    pr = github_standin.add_pull_request()
    github_standin.fail_next(1, 502, method="POST", after=made_anyway)

    _publish(client, github_standin, pr, create("a"))

    (comment,) = github_standin.comments_on(pr)
    assert comment["body"].startswith(MARKER)
    posts = [r for r in github_standin.requests if r.method == "POST"]
    assert len(posts) == (1 if made_anyway else 2)


def test_huge_plan_posts_within_githubs_limit(client: GitHubClient,
                                              github_standin: GitHubStandIn) -> None:
    pr = github_standin.add_pull_request()
    changes = [update(f"cluster-{i:05d}", 40, width=60) for i in range(3000)]
    _publish(client, github_standin, pr, *changes)

    (comment,) = github_standin.comments_on(pr)
    assert len(comment["body"]) <= 65536
    assert "**Plan: 0 to create, 3000 to change, 0 to delete.**" in comment["body"]


@pytest.mark.parametrize(("changes", "expected"), [
    ((create("a"), delete("b")), ["gridops:create", "gridops:delete", "team:research"]),
    ((update("a"),), ["gridops:change", "team:research"]),
    ((change("a", Action.NOOP),), ["gridops:no-changes", "team:research"]),
], ids=["create-and-delete", "change", "no-changes"])
def test_labels_say_what_the_plan_does_and_stale_ones_go(
        client: GitHubClient, github_standin: GitHubStandIn, changes: tuple[Change, ...],
        expected: list[str]) -> None:
    pr = github_standin.add_pull_request()
    client.add_labels(github_standin.repo, pr, ["team:research", "gridops:no-changes"])
    _publish(client, github_standin, pr, update("x"), labels=True)

    _publish(client, github_standin, pr, *changes, labels=True)

    assert sorted(github_standin.labels_of(pr)) == expected
    assert github_standin.labels["gridops:change"]["description"]


def test_rate_limited_publish_waits_and_still_posts_once(
        client: GitHubClient, github_standin: GitHubStandIn, sleeps: list[float]) -> None:
    pr = github_standin.add_pull_request()
    github_standin.rate_limit_next(2, kind="429", wait=3)
    _publish(client, github_standin, pr, create("a"))
    assert sleeps == [3.0, 3.0] and len(github_standin.comments_on(pr)) == 1


def test_no_secret_value_ever_reaches_github(client: GitHubClient,
                                             github_standin: GitHubStandIn) -> None:
    external_id = "ext-8c1f-4b7e-secret"
    masked_env = "hunter2-api-key-value"
    resolver = Resolver({"fromEnv": env_provider({"GRID_EXTERNAL_ID_A": external_id})})
    resolver.resolve(SecretRef("fromEnv", (("name", "GRID_EXTERNAL_ID_A"),)), cluster="a")
    masker = Masker(resolver, env={"GRIDOPS_MASK_GRID_API_KEY": masked_env})
    leaky = Change(name="a", action=Action.UPDATE, reason=f"saw {external_id}",
                   field_changes=(FieldChange("tags.note", masked_env, external_id),
                                  FieldChange("tags.long", "x" * 590 + external_id, "y")))
    plan = plan_of(leaky, change("f", Action.FAILED, f"role {external_id} refused"),
                   warnings=(f"key {masked_env}",))
    findings = [Finding("clusters/a.yaml", 1, 1, f"not {masked_env}")]
    pr = github_standin.add_pull_request(merge_sha=MERGE_SHA, merged=True)

    publish_plan(client, _ctx(github_standin, pr=pr), plan, findings=findings, masker=masker,
                 settings_file="gridops.yaml", labels=True)
    result = ApplyResult((ChangeResult("a", Action.UPDATE, Outcome.FAILED,
                                       error=f"Grid refused {external_id} / {masked_env}"),))
    publish_apply(client, _ctx(github_standin), result, plan, masker=masker,
                  settings_file="gridops.yaml")
    sync_drift_issue(client, _ctx(github_standin), plan, masker=masker,
                     settings_file="gridops.yaml")

    received = github_standin.everything_received()
    assert len(github_standin.writes()) >= 4
    for secret in (external_id, masked_env):
        assert secret not in received and secret[:10] not in received
    assert "***" in received


# --- apply on merge ---------------------------------------------------------------------------

def test_apply_outcome_goes_to_the_pull_request_the_commit_came_from(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    github_standin.add_pull_request(head_sha="0ld0" * 10)
    pr = github_standin.add_pull_request(merge_sha=MERGE_SHA, merged=True)
    result = ApplyResult((ChangeResult("a", Action.CREATE, Outcome.OK),
                          ChangeResult("b", Action.UPDATE, Outcome.FAILED, error="quota")))

    ref = publish_apply(client, _ctx(github_standin), result, plan_of(create("a")),
                        masker=Masker(env={}), settings_file="gridops.yaml")
    again = publish_apply(client, _ctx(github_standin), result, plan_of(create("a")),
                          masker=Masker(env={}), settings_file="gridops.yaml")

    assert ref is not None and again is not None and ref.number == pr and again.id == ref.id
    (comment,) = github_standin.comments_on(pr)
    assert comment["body"].startswith("<!-- gridops:apply:gridops.yaml -->")
    assert "**update failed** `b`: quota" in comment["body"]
    assert "The next scheduled reconcile run will try again" in comment["body"]


def test_apply_of_a_commit_without_a_pull_request_writes_nothing_to_github(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    result = ApplyResult((ChangeResult("a", Action.CREATE, Outcome.OK),))
    ref = publish_apply(client, _ctx(github_standin, sha="abc1234"), result, None,
                        masker=Masker(env={}), settings_file="gridops.yaml")
    assert ref is None and github_standin.writes() == []


# --- the drift issue --------------------------------------------------------------------------

def _drift(client: GitHubClient, standin: GitHubStandIn, *changes: Change) -> str | None:
    ref = sync_drift_issue(client, _ctx(standin), plan_of(*changes), masker=Masker(env={}),
                           settings_file="gridops.yaml")
    return None if ref is None else f"{ref.action} #{ref.number}"


def test_drift_issue_opens_updates_and_closes_and_never_has_a_second_open_one(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    steps = [
        _drift(client, github_standin, change("a", Action.NOOP)),
        _drift(client, github_standin, update("a")),
        _drift(client, github_standin, update("a"), delete("b")),
        _drift(client, github_standin, change("a", Action.NOOP)),
        _drift(client, github_standin, change("a", Action.NOOP)),
        _drift(client, github_standin, update("c")),
    ]

    assert steps == [None, "opened #1", "updated #1", "closed #1", None, "opened #2"]
    first, second = github_standin.plain_issues()
    assert first["state"] == "closed" and first["state_reason"] == "completed"
    assert "match git again" in github_standin.comments_on(1)[0]["body"]
    assert second["state"] == "open" and [x["name"] for x in second["labels"]] == [
        "gridops:drift"]
    assert "`c`" in second["body"] or "<code>c</code>" in second["body"]


def test_drift_issue_body_follows_the_drift(client: GitHubClient,
                                            github_standin: GitHubStandIn) -> None:
    _drift(client, github_standin, update("a"))
    _drift(client, github_standin, update("a"), delete("b"))

    (issue,) = github_standin.plain_issues()
    assert issue["body"].startswith("<!-- gridops:drift:gridops.yaml -->")
    assert "**This plan deletes 1 cluster in Grid:** `b`" in issue["body"]
    assert issue["title"] == "gridops: 2 cluster(s) differ from git (gridops.yaml)"


def test_a_second_open_drift_issue_left_by_a_race_is_closed(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    for _ in range(2):
        github_standin.add_issue("drift", "<!-- gridops:drift:gridops.yaml -->\nold",
                                 ["gridops:drift"])

    assert _drift(client, github_standin, update("a")) == "updated #1"
    assert [i["state"] for i in github_standin.plain_issues()] == ["open", "closed"]


def test_drift_issues_of_another_settings_file_are_left_alone(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    other = github_standin.add_issue("drift", "<!-- gridops:drift:staging.yaml -->",
                                     ["gridops:drift"])
    assert _drift(client, github_standin, change("a", Action.NOOP)) is None
    assert github_standin.issues[other]["state"] == "open"


# --- the job summary --------------------------------------------------------------------------

def test_job_summary_gets_the_whole_plan(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    changes = [update(f"cluster-{i:04d}", 40, width=60) for i in range(60)]
    summarize_plan(path, plan_of(*changes), findings=(), masker=Masker(env={}),
                   settings_file="gridops.yaml")

    text = path.read_text()
    assert text.startswith(MARKER) and len(text) > 65536
    assert "Shortened" not in text and text.count("<details>") == 60
