"""Where a run is: the repository, the pull request or pushed commit, the workflow run.

Read from the variables GitHub Actions sets (and the event JSON at ``GITHUB_EVENT_PATH``), each
overridable by a CLI option so the same commands work outside Actions. A value that is needed
but missing is a ``ConfigError`` naming both the variable and the option.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.github.rest import DEFAULT_API_URL

DEFAULT_SERVER_URL = "https://github.com"

#: Each context value: the variable Actions sets and the CLI option that overrides it.
SOURCES: Mapping[str, tuple[str, str]] = {
    "token": ("GITHUB_TOKEN", "--github-token"),
    "repository": ("GITHUB_REPOSITORY", "--github-repository"),
    "event_path": ("GITHUB_EVENT_PATH", "--github-event-path"),
    "event_name": ("GITHUB_EVENT_NAME", "--github-event-name"),
    "api_url": ("GITHUB_API_URL", "--github-api-url"),
    "server_url": ("GITHUB_SERVER_URL", "--github-server-url"),
    "run_id": ("GITHUB_RUN_ID", "--github-run-id"),
    "head_sha": ("GITHUB_SHA", "--head-sha"),
    "step_summary": ("GITHUB_STEP_SUMMARY", "--step-summary"),
    "pr_number": ("GITHUB_EVENT_PATH (a pull_request event)", "--pr"),
    "base_sha": ("GITHUB_EVENT_PATH (a pull_request event)", "--base-sha"),
}


@dataclass(frozen=True)
class ContextOptions:
    """Values given on the command line; ``None`` means "not given, use the environment"."""

    token: str | None = None
    repository: str | None = None
    event_path: str | None = None
    event_name: str | None = None
    api_url: str | None = None
    server_url: str | None = None
    run_id: str | None = None
    pr_number: int | None = None
    base_sha: str | None = None
    head_sha: str | None = None
    step_summary: str | None = None


@dataclass(frozen=True)
class GitHubContext:
    """The run's GitHub context. ``token`` is never shown in ``repr``."""

    token: str = field(repr=False)
    #: ``owner/name``.
    repository: str
    api_url: str = DEFAULT_API_URL
    server_url: str = DEFAULT_SERVER_URL
    run_id: str = ""
    #: ``pull_request``, ``push``, ``schedule``, ``workflow_dispatch``, ...
    event_name: str = ""
    #: the pull request planned (pull_request events, or ``--pr``).
    pr_number: int | None = None
    #: the pull request's base commit (its target branch tip when the event fired).
    base_sha: str | None = None
    #: the commit planned or applied: the PR head, or the pushed commit.
    head_sha: str | None = None
    default_branch: str | None = None
    #: the job summary file to append to (``GITHUB_STEP_SUMMARY``), if any.
    step_summary: str | None = None

    @property
    def run_url(self) -> str:
        """The workflow run's page, empty outside a run."""
        if not self.run_id:
            return ""
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    def require_pr(self) -> int:
        if self.pr_number is None:
            raise _missing("pr_number", "no pull request to comment on")
        return self.pr_number

    def require_head_sha(self) -> str:
        if not self.head_sha:
            raise _missing("head_sha", "no commit to look up")
        return self.head_sha


def load_context(env: Mapping[str, str] | None = None,
                 options: ContextOptions | None = None) -> GitHubContext:
    """The context from ``options`` over ``env`` (``os.environ`` by default)."""
    source = os.environ if env is None else env
    opts = options or ContextOptions()

    def pick(name: str) -> str | None:
        given = getattr(opts, name)
        return given if given not in (None, "") else (source.get(SOURCES[name][0]) or None)

    token, repository = pick("token"), pick("repository")
    if not token:
        raise _missing("token", "no GitHub token")
    if not repository:
        raise _missing("repository", "no repository")
    event_path = pick("event_path")
    facts = read_event_facts(Path(event_path)) if event_path else {}
    return GitHubContext(
        token=token, repository=repository,
        api_url=pick("api_url") or DEFAULT_API_URL,
        server_url=pick("server_url") or DEFAULT_SERVER_URL,
        run_id=pick("run_id") or "", event_name=pick("event_name") or "",
        pr_number=opts.pr_number if opts.pr_number is not None else facts.get("pr_number"),
        base_sha=opts.base_sha or facts.get("base_sha"),
        head_sha=opts.head_sha or facts.get("head_sha") or pick("head_sha"),
        default_branch=facts.get("default_branch"),
        step_summary=pick("step_summary"),
    )


def read_event_facts(path: Path) -> dict[str, Any]:
    """What gridops needs from the event JSON: PR number, base/head sha, default branch."""
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read the event file {path}: {e.strerror}",
                          hint=f"check {_names('event_path')}") from e
    except ValueError as e:
        raise ConfigError(f"the event file {path} is not JSON: {e}") from e
    return parse_event(event, source=f"the event file {path}")


def parse_event(event: object, *, source: str = "the event") -> dict[str, Any]:
    """The facts of ``event`` (the parsed JSON). Keys may be absent; a key of the wrong shape,
    or a pull request without its number, is a ``ConfigError`` naming ``source``."""
    try:
        return _event_facts(event)
    except _Malformed as e:
        raise ConfigError(f"{source} is not a GitHub event gridops can read: {e}",
                          hint=f"{_names('event_path')} naming the event file GitHub "
                               "Actions wrote") from e


class _Malformed(ValueError):
    """What is wrong with the event's shape (turned into a ConfigError by parse_event)."""


def _event_facts(event: object) -> dict[str, Any]:
    if not isinstance(event, Mapping):
        raise _Malformed("it is not a JSON object")
    facts: dict[str, Any] = {}
    pull = event.get("pull_request")
    if pull is not None:
        facts.update(_pull_request_facts(pull))
    else:
        after = _optional(event, "after", str, "after")
        if after and set(after) != {"0"}:
            facts["head_sha"] = after  # a push (all zeros: a deleted branch)
    repository = _optional(event, "repository", Mapping, "repository")
    branch = _optional(repository or {}, "default_branch", str, "repository.default_branch")
    if branch:
        facts["default_branch"] = branch
    return facts


def _pull_request_facts(pull: object) -> dict[str, Any]:
    if not isinstance(pull, Mapping):
        raise _Malformed("pull_request is not an object")
    number = pull.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise _Malformed("pull_request.number is missing or not a positive whole number")
    base = _optional(pull, "base", Mapping, "pull_request.base") or {}
    head = _optional(pull, "head", Mapping, "pull_request.head") or {}
    return {"pr_number": number,
            "base_sha": _optional(base, "sha", str, "pull_request.base.sha") or None,
            "head_sha": _optional(head, "sha", str, "pull_request.head.sha") or None}


_KINDS: Mapping[type[Any], str] = {str: "a string", Mapping: "an object"}


def _optional(data: Mapping[str, Any], key: str, kind: type[Any], where: str) -> Any:
    """``data[key]`` when it is a ``kind``; None when absent or null; else _Malformed."""
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise _Malformed(f"{where} is not {_KINDS.get(kind, kind.__name__)}")
    return value


def _names(name: str) -> str:
    variable, option = SOURCES[name]
    return f"{variable} or pass {option}"


def _missing(name: str, what: str) -> ConfigError:
    return ConfigError(f"{what}: set {_names(name)}",
                       hint="inside GitHub Actions these are set for you; outside, give them "
                            "as options")
