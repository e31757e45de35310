"""What the CLI calls to publish on GitHub: the plan comment (and labels) on a pull request,
the apply outcome on the pull request a commit came from, the drift issue, and the job
summary. Collaborators come in as arguments; everything written is masked first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from reconciler.errors import Finding
from reconciler.github.apply_comment import apply_marker, render_apply_comment
from reconciler.github.budget import SUMMARY_LIMIT
from reconciler.github.client import GitHubClient
from reconciler.github.comment import ARTIFACT, plan_marker, render_plan_comment
from reconciler.github.context import GitHubContext
from reconciler.github.drift_issue import (
    DRIFT_LABEL,
    DRIFT_LABEL_COLOR,
    DRIFT_LABEL_DESCRIPTION,
    drift_marker,
    drift_title,
    has_drift,
    render_drift_gone,
    render_drift_issue,
)
from reconciler.github.resources import Comment, CommentRef, Issue, IssueRef, PullRequest
from reconciler.github.rest import GitHubStatusError
from reconciler.github.summary import write_step_summary
from reconciler.plan.types import Action, ApplyResult, Plan
from reconciler.sources.secrets import Masker

#: The labels a plan may put on its pull request: (color, description) by name.
PLAN_LABELS: Mapping[str, tuple[str, str]] = {
    "gridops:create": ("2da44e", "the gridops plan creates clusters"),
    "gridops:change": ("bf8700", "the gridops plan changes clusters"),
    "gridops:delete": ("cf222e", "the gridops plan deletes clusters"),
    "gridops:no-changes": ("8c959f", "the gridops plan changes nothing"),
}
#: A step may append the plan and then the apply outcome: each gets half the 1 MiB.
SUMMARY_SHARE = SUMMARY_LIMIT // 2
SUMMARY_FULL_PLAN_AT = f"the `{ARTIFACT}` artifact of this workflow run (the plan as JSON)"


def publish_plan(client: GitHubClient, ctx: GitHubContext, plan: Plan | None, *,
                 findings: Sequence[Finding], masker: Masker, settings_file: str,
                 labels: bool, pr_view: bool = False) -> CommentRef:
    """Create or update the one plan comment on ``ctx``'s pull request (``plan`` None: the
    documents did not load; the comment shows the findings). ``pr_view``: the plan went
    through ``prview.mark_drift``."""
    number = ctx.require_pr()
    sha = ctx.head_sha or (plan.git_sha if plan else None)
    blob = f"{ctx.server_url.rstrip('/')}/{ctx.repository}/blob/{sha}" if sha else ""
    body = masker.mask(render_plan_comment(
        plan, settings_file=settings_file, findings=findings, run_url=ctx.run_url,
        planned_sha=sha, pr_view=pr_view, mask=masker.mask, blob_url=blob))
    ref = upsert_comment(client, ctx.repository, number, plan_marker(settings_file), body)
    if labels:
        sync_plan_labels(client, ctx.repository, number, plan)
    return ref


def publish_apply(client: GitHubClient, ctx: GitHubContext, result: ApplyResult,
                  plan: Plan | None, *, masker: Masker, settings_file: str,
                  self_heal: bool = True) -> CommentRef | None:
    """Post the outcome on the pull request ``ctx.head_sha`` came from (or ``ctx.pr_number``);
    None when no pull request is found (a direct push: the job summary is the record)."""
    number = ctx.pr_number or merged_pull_request(client, ctx)
    if number is None:
        return None
    body = masker.mask(render_apply_comment(
        result, plan, settings_file=settings_file, run_url=ctx.run_url,
        applied_sha=ctx.head_sha, self_heal=self_heal, mask=masker.mask))
    return upsert_comment(client, ctx.repository, number, apply_marker(settings_file), body)


def sync_drift_issue(client: GitHubClient, ctx: GitHubContext, plan: Plan, *, masker: Masker,
                     settings_file: str, self_heal: bool = True) -> IssueRef | None:
    """Keep one open drift issue while ``plan`` shows drift; close it when drift is gone.
    None when there is no drift and no issue was open."""
    marker = drift_marker(settings_file)
    issues = [i for i in client.list_issues(ctx.repository, labels=[DRIFT_LABEL])
              if marker in i.body]
    if not has_drift(plan):
        return _close_drift_issues(client, ctx, issues, masker)
    body = masker.mask(render_drift_issue(
        plan, settings_file=settings_file, run_url=ctx.run_url, checked_sha=ctx.head_sha,
        self_heal=self_heal, mask=masker.mask))
    title = drift_title(plan, settings_file)
    if not issues:
        client.ensure_label(ctx.repository, DRIFT_LABEL, color=DRIFT_LABEL_COLOR,
                            description=DRIFT_LABEL_DESCRIPTION)
        made = client.create_issue(ctx.repository, title, body, [DRIFT_LABEL])
        return IssueRef(made.number, made.html_url, "open", "opened")
    keep = issues[0]
    for extra in issues[1:]:  # two runs raced: a second open one must not stay
        _close(client, ctx.repository, extra, f"Same as #{keep.number}.", "not_planned")
    if keep.body != body or keep.title != title:
        client.update_issue(ctx.repository, keep.number, title=title, body=body)
    return IssueRef(keep.number, keep.html_url, "open", "updated")


def _close_drift_issues(client: GitHubClient, ctx: GitHubContext, issues: Sequence[Issue],
                        masker: Masker) -> IssueRef | None:
    gone = masker.mask(render_drift_gone(run_url=ctx.run_url, checked_sha=ctx.head_sha))
    for issue in issues:
        _close(client, ctx.repository, issue, gone, "completed")
    return IssueRef(issues[0].number, issues[0].html_url, "closed", "closed") if issues else None


def _close(client: GitHubClient, repo: str, issue: Issue, comment: str, reason: str) -> None:
    client.create_issue_comment(repo, issue.number, comment)
    client.update_issue(repo, issue.number, state="closed", state_reason=reason)


# --- job summary --------------------------------------------------------------------------

def summarize_plan(path: str | Path | None, plan: Plan | None, *,
                   findings: Sequence[Finding], masker: Masker, settings_file: str,
                   run_url: str = "", planned_sha: str | None = None,
                   pr_view: bool = False) -> bool:
    """Append the plan to the job summary (whole, up to the summary's 1 MiB). Outside Actions
    (no ``path``) nothing is rendered."""
    if not path:
        return False
    markdown = render_plan_comment(
        plan, settings_file=settings_file, findings=findings, run_url=run_url,
        planned_sha=planned_sha or (plan.git_sha if plan else None), pr_view=pr_view,
        limit=SUMMARY_SHARE, mask=masker.mask, full_plan_at=SUMMARY_FULL_PLAN_AT)
    return write_step_summary(path, masker.mask(markdown))


def summarize_apply(path: str | Path | None, result: ApplyResult, plan: Plan | None, *,
                    masker: Masker, settings_file: str, run_url: str = "",
                    applied_sha: str | None = None, self_heal: bool = True) -> bool:
    """Append the apply outcome to the job summary; outside Actions (no ``path``) nothing is
    rendered."""
    if not path:
        return False
    markdown = render_apply_comment(
        result, plan, settings_file=settings_file, run_url=run_url, applied_sha=applied_sha,
        self_heal=self_heal, limit=SUMMARY_SHARE, mask=masker.mask)
    return write_step_summary(path, masker.mask(markdown))


# --- building blocks --------------------------------------------------------------------------

def upsert_comment(client: GitHubClient, repo: str, number: int, marker: str,
                   body: str) -> CommentRef:
    """Update the comment that starts with ``marker`` (searching every page), or create it."""
    existing = find_marked(client.iter_issue_comments(repo, number), marker)
    if existing is None:
        try:
            return _made(client.create_issue_comment(repo, number, body), number)
        except GitHubStatusError as e:
            if e.status < 500:
                raise
            # GitHub may have made it before failing: look again rather than post twice.
            existing = find_marked(client.iter_issue_comments(repo, number), marker)
            if existing is None:
                return _made(client.create_issue_comment(repo, number, body), number)
    if existing.body != body:
        existing = client.update_issue_comment(repo, existing.id, body)
    return CommentRef(existing.id, existing.html_url, number, created=False)


def _made(comment: Comment, number: int) -> CommentRef:
    return CommentRef(comment.id, comment.html_url, number, created=True)


def find_marked(comments: Iterable[Comment], marker: str) -> Comment | None:
    """The oldest comment whose first line is ``marker``."""
    return next((c for c in comments if c.body.lstrip().startswith(marker)), None)


def merged_pull_request(client: GitHubClient, ctx: GitHubContext) -> int | None:
    """The pull request that brought ``ctx.head_sha`` to the default branch, if any."""
    pulls = client.pulls_for_commit(ctx.repository, ctx.require_head_sha())
    return _best_pull(pulls, ctx.default_branch)


def _best_pull(pulls: Sequence[PullRequest], default_branch: str | None) -> int | None:
    def rank(p: PullRequest) -> tuple[bool, bool]:
        return (not p.merged_at, bool(default_branch) and p.base_ref != default_branch)

    return min(pulls, key=rank).number if pulls else None


def wanted_labels(plan: Plan | None) -> set[str]:
    if plan is None:
        return set()
    wanted = {label for action, label in ((Action.CREATE, "gridops:create"),
                                          (Action.UPDATE, "gridops:change"),
                                          (Action.DELETE, "gridops:delete"))
              if plan.count(action)}
    return wanted or {"gridops:no-changes"}


def sync_plan_labels(client: GitHubClient, repo: str, number: int, plan: Plan | None) -> None:
    """Put the labels that say what the plan does on the PR, and take off stale ones."""
    wanted, current = wanted_labels(plan), set(client.labels_on(repo, number))
    for name in sorted(wanted - current):
        color, description = PLAN_LABELS[name]
        client.ensure_label(repo, name, color=color, description=description)
    client.add_labels(repo, number, sorted(wanted - current))
    for name in sorted((current & set(PLAN_LABELS)) - wanted):
        client.remove_label(repo, number, name)
