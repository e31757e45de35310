"""GitHubClient: the handful of REST calls gridops makes (comments, the PRs of a commit, issues,
labels). Transport, retries and errors are ``rest.RestSession``'s; this module names the calls.

``repo`` is always ``owner/name``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from reconciler.errors import GitHubError
from reconciler.github.resources import Comment, Issue, PullRequest
from reconciler.github.rest import GitHubStatusError, RestSession

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHubClient:
    """Calls to one GitHub REST API; every failure is a ``GitHubError``."""

    def __init__(self, api_url: str, token: str, *, max_retries: int = 3,
                 backoff: float = 1.0, max_wait: float = 120.0, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._rest = RestSession(api_url, token, max_retries=max_retries, backoff=backoff,
                                 max_wait=max_wait, timeout=timeout, transport=transport,
                                 sleep=sleep)

    def close(self) -> None:
        self._rest.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- comments (a pull request's conversation is its issue's comments) ---------------------

    def iter_issue_comments(self, repo: str, number: int) -> Iterator[Comment]:
        for item in self._rest.paginate(f"{_repo(repo)}/issues/{number}/comments"):
            yield Comment.from_json(item)

    def create_issue_comment(self, repo: str, number: int, body: str) -> Comment:
        return Comment.from_json(self._post(f"{_repo(repo)}/issues/{number}/comments",
                                            {"body": body}))

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        return Comment.from_json(self._call("PATCH", f"{_repo(repo)}/issues/comments/{comment_id}",
                                            {"body": body}))

    # --- pull requests ----------------------------------------------------------------------

    def pulls_for_commit(self, repo: str, sha: str) -> list[PullRequest]:
        """The pull requests a commit belongs to (for a merge commit: the PR it merged)."""
        if not re.fullmatch(r"[0-9a-fA-F]{7,64}", sha):
            raise GitHubError(f"{sha!r} is not a commit sha")
        return [PullRequest.from_json(item)
                for item in self._rest.paginate(f"{_repo(repo)}/commits/{sha}/pulls")]

    def branch_head(self, repo: str, branch: str) -> str:
        """The commit at the tip of ``branch`` now."""
        data = self._call("GET", f"{_repo(repo)}/branches/{_seg(branch)}")
        sha = data.get("commit", {}).get("sha") if isinstance(data, dict) else None
        if not isinstance(sha, str) or not sha:
            raise GitHubError(f"GitHub's answer for branch {branch} has no commit")
        return sha

    # --- issues -----------------------------------------------------------------------------

    def list_issues(self, repo: str, *, labels: Sequence[str] = (),
                    state: str = "open") -> list[Issue]:
        """Issues (never pull requests) with every one of ``labels``, in ``state``."""
        params: dict[str, Any] = {"state": state, "sort": "created", "direction": "asc"}
        if labels:
            params["labels"] = ",".join(labels)
        issues = (Issue.from_json(x)
                  for x in self._rest.paginate(f"{_repo(repo)}/issues", params))
        return [i for i in issues if not i.is_pull_request]

    def create_issue(self, repo: str, title: str, body: str,
                     labels: Sequence[str] = ()) -> Issue:
        payload = {"title": title, "body": body, "labels": list(labels)}
        return Issue.from_json(self._post(f"{_repo(repo)}/issues", payload))

    def update_issue(self, repo: str, number: int, *, title: str | None = None,
                     body: str | None = None, state: str | None = None,
                     state_reason: str | None = None) -> Issue:
        fields = {"title": title, "body": body, "state": state, "state_reason": state_reason}
        payload = {k: v for k, v in fields.items() if v is not None}
        return Issue.from_json(self._call("PATCH", f"{_repo(repo)}/issues/{number}", payload))

    # --- labels -----------------------------------------------------------------------------

    def labels_on(self, repo: str, number: int) -> list[str]:
        return [str(x["name"])
                for x in self._rest.paginate(f"{_repo(repo)}/issues/{number}/labels")]

    def ensure_label(self, repo: str, name: str, *, color: str, description: str) -> None:
        """Create the repository label unless it exists (another run may race us: fine)."""
        try:
            self._call("GET", f"{_repo(repo)}/labels/{_seg(name)}")
            return
        except GitHubStatusError as e:
            if e.status != 404:
                raise
        try:
            self._post(f"{_repo(repo)}/labels",
                       {"name": name, "color": color, "description": description})
        except GitHubStatusError as e:
            if e.status != 422:  # already_exists: made meanwhile
                raise

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        if labels:
            # Adding a label that is already there changes nothing, so a retry is safe.
            self._rest.request("POST", f"{_repo(repo)}/issues/{number}/labels",
                               json={"labels": list(labels)}, idempotent=True)

    def remove_label(self, repo: str, number: int, label: str) -> None:
        """Remove ``label``; a label that is not there is not an error."""
        try:
            self._rest.request("DELETE", f"{_repo(repo)}/issues/{number}/labels/{_seg(label)}")
        except GitHubStatusError as e:
            if e.status != 404:
                raise

    # --- plumbing ---------------------------------------------------------------------------

    def _post(self, path: str, payload: Any) -> Any:
        return self._call("POST", path, payload)

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        response = self._rest.request(method, path, json=payload)
        try:
            return response.json()
        except ValueError as e:
            raise GitHubError(f"GitHub {method} {path} answered something that is not JSON") \
                from e


def _repo(repo: str) -> str:
    if not _REPO.match(repo) or any(part.strip(".") == "" for part in repo.split("/")):
        raise GitHubError(f"{repo!r} is not a repository name of the form owner/name")
    return f"repos/{repo}"


def _seg(text: str) -> str:
    return quote(text, safe="")
