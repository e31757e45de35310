"""GitHub in the command line: the options every GitHub-aware command takes, and publishing
the plan and apply outcome (the comment, the job summary, annotations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler import run
from reconciler.cli.app import App, log
from reconciler.errors import (
    ConfigError,
    GridopsError,
)

if TYPE_CHECKING:
    from reconciler.plan.types import ApplyResult, Plan

_F = TypeVar("_F", bound=Callable[..., Any])

_GITHUB_OPTIONS = [
    ("--github-token", "token", "The token (default: GITHUB_TOKEN)."),
    ("--github-repository", "repository", "owner/name (default: GITHUB_REPOSITORY)."),
    ("--github-event-path", "event_path", "The event JSON (default: GITHUB_EVENT_PATH)."),
    ("--github-api-url", "api_url", "The REST API (default: GITHUB_API_URL)."),
    ("--github-server-url", "server_url", "For links (default: GITHUB_SERVER_URL)."),
    ("--github-run-id", "run_id", "The workflow run (default: GITHUB_RUN_ID)."),
    ("--base-sha", "base_sha", "The PR's base commit (default: from the event)."),
    ("--head-sha", "head_sha", "The commit planned or applied (default: the event, GITHUB_SHA)."),
    ("--step-summary", "step_summary", "The job summary file (default: GITHUB_STEP_SUMMARY)."),
]


def github_options(fn: _F) -> _F:
    """The GitHub context, each value also settable from the environment as Actions does."""
    for flag, name, help_text in reversed(_GITHUB_OPTIONS):
        fn = click.option(flag, "gh_" + name, help=help_text)(fn)
    return click.option("--pr", "gh_pr_number", type=int,
                        help="The pull request (default: from the event).")(fn)


def github_context(app: App, values: dict[str, Any]) -> Any:
    from reconciler.github.context import ContextOptions, load_context

    options = ContextOptions(**{k[3:]: v for k, v in values.items() if k.startswith("gh_")})
    return load_context(app.env, options)


def _github_client(ctx: Any) -> Any:
    from reconciler.github.client import GitHubClient

    return GitHubClient(ctx.api_url, ctx.token)


def annotate(app: App, findings: Any) -> None:
    """Findings as workflow annotations on the file and line, inside GitHub Actions."""
    from reconciler.github.annotations import annotation_lines, in_github_actions

    if in_github_actions(app.env):
        for line in annotation_lines(findings, mask=app.masker.mask):
            app.out(line)


def publish_plan_comment(app: App, gh: Any, the_plan: Plan | None, findings: list[Any], *,
                  ws: run.Workspace | None = None, error: GridopsError | None = None) -> None:
    """The plan comment (with --comment) and the job summary (inside Actions)."""
    summary = gh.step_summary if gh else app.env.get("GITHUB_STEP_SUMMARY")
    if not summary and gh is None:
        return
    from reconciler.github.prview import split_for_pull_request
    from reconciler.github.publish import publish_plan, summarize_plan

    settings_file = ws.settings.file if ws else app.settings_file
    if error is not None and the_plan is None:
        from reconciler.errors import Finding

        findings = [Finding(file=settings_file, line=0, col=0, message=f"gridops could not "
                            f"plan: {error}")]
    pr_view = False
    if the_plan is not None and ws is not None and gh is not None:
        the_plan, pr_view = split_for_pull_request(
            the_plan, app.root, base=gh.base_sha, head=gh.head_sha or ws.desired.git_sha,
            clusters_dir=ws.settings.clusters_dir)
    summarize_plan(summary, the_plan, findings=findings, masker=app.masker,
                   settings_file=settings_file, run_url=gh.run_url if gh else "",
                   pr_view=pr_view)
    if gh is None:
        return
    with _github_client(gh) as client:
        ref = publish_plan(client, gh, the_plan, findings=findings, masker=app.masker,
                           settings_file=settings_file,
                           labels=ws.settings.github_labels if ws else False, pr_view=pr_view)
    log.info("github.plan_comment", url=ref.html_url, created=ref.created)


def publish_apply_outcome(app: App, gh: Any, ws: run.Workspace | run.Configured | None,
                          result: ApplyResult, the_plan: Plan | None) -> None:
    """The apply outcome in the job summary (inside Actions) and, with --comment, on the pull
    request the commit came from. ``ws``: the repository as far as apply read it (only its
    settings when it stopped before the cluster files; None before even those)."""
    summary = gh.step_summary if gh else app.env.get("GITHUB_STEP_SUMMARY")
    if not summary and gh is None:
        return
    from reconciler.github.publish import publish_apply, summarize_apply

    settings_file = ws.settings.file if ws else app.settings_file
    self_heal = ws.settings.self_heal if ws else True
    if isinstance(ws, run.Workspace):
        sha = ws.desired.git_sha
    else:
        sha = ws.sha if ws else (gh.head_sha if gh else None)
    summarize_apply(summary, result, the_plan, masker=app.masker, settings_file=settings_file,
                    run_url=gh.run_url if gh else "", applied_sha=sha, self_heal=self_heal)
    if gh is None:
        return
    with _github_client(gh) as client:
        publish_apply(client, gh, result, the_plan, masker=app.masker,
                      settings_file=settings_file, self_heal=self_heal)


def is_latest(app: App, gh: Any, sha: str | None) -> tuple[bool, str]:
    """Whether ``sha`` is still the tip of the default branch, and that tip."""
    branch = gh.default_branch or app.env.get("GITHUB_REF_NAME", "")
    if not branch:
        raise ConfigError("--only-if-latest needs the default branch",
                          hint="run it on a push event (its payload names the default branch)")
    with _github_client(gh) as client:
        tip = client.branch_head(gh.repository, branch)
    return tip == sha, tip


def publish_drift_issue(app: App, gh: Any, ws: run.Workspace, the_plan: Plan) -> None:
    """One open drift issue while drift exists; closed when it is gone."""
    from reconciler.github.publish import sync_drift_issue

    with _github_client(gh) as client:
        ref = sync_drift_issue(client, gh, the_plan, masker=app.masker,
                               settings_file=ws.settings.file, self_heal=ws.settings.self_heal)
    if ref is not None:
        app.err(f"drift issue #{ref.number}: {ref.state} ({ref.action})")
