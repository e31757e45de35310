from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.github.context import ContextOptions, load_context

BASE_ENV = {"GITHUB_TOKEN": "ghs_env_token", "GITHUB_REPOSITORY": "acme/cluster-config",
            "GITHUB_RUN_ID": "987", "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_API_URL": "https://github.example/api/v3", "GITHUB_EVENT_NAME": "push",
            "GITHUB_SHA": "1" * 40}

PULL_EVENT = {"pull_request": {"number": 12, "base": {"sha": "b" * 40},
                               "head": {"sha": "h" * 40}},
              "repository": {"default_branch": "main"}}
PUSH_EVENT = {"after": "a" * 40, "before": "0" * 40, "repository": {"default_branch": "trunk"}}


def _event(tmp_path: Path, event: Mapping[str, object]) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return str(path)


def test_pull_request_event_gives_number_base_and_head(tmp_path: Path) -> None:
    ctx = load_context({**BASE_ENV, "GITHUB_EVENT_PATH": _event(tmp_path, PULL_EVENT)})

    assert (ctx.pr_number, ctx.base_sha, ctx.head_sha) == (12, "b" * 40, "h" * 40)
    assert ctx.default_branch == "main"
    assert ctx.api_url == "https://github.example/api/v3"
    assert ctx.run_url == "https://github.example/acme/cluster-config/actions/runs/987"


def test_push_event_gives_the_pushed_commit_and_default_branch(tmp_path: Path) -> None:
    ctx = load_context({**BASE_ENV, "GITHUB_EVENT_PATH": _event(tmp_path, PUSH_EVENT)})
    assert (ctx.pr_number, ctx.head_sha, ctx.default_branch) == (None, "a" * 40, "trunk")


def test_options_win_over_the_environment(tmp_path: Path) -> None:
    options = ContextOptions(token="ghs_option", repository="other/repo", pr_number=5,
                             head_sha="c" * 40, api_url="http://127.0.0.1:1")
    ctx = load_context({**BASE_ENV, "GITHUB_EVENT_PATH": _event(tmp_path, PULL_EVENT)},
                       options)
    assert (ctx.token, ctx.repository, ctx.pr_number, ctx.head_sha, ctx.api_url) == (
        "ghs_option", "other/repo", 5, "c" * 40, "http://127.0.0.1:1")


def test_defaults_outside_actions_point_at_github_com() -> None:
    ctx = load_context({}, ContextOptions(token="t", repository="a/b"))
    assert (ctx.api_url, ctx.server_url, ctx.run_url) == ("https://api.github.com",
                                                          "https://github.com", "")


@pytest.mark.parametrize(("env", "names"), [
    ({"GITHUB_REPOSITORY": "a/b"}, ("GITHUB_TOKEN", "--github-token")),
    ({"GITHUB_TOKEN": "t"}, ("GITHUB_REPOSITORY", "--github-repository")),
], ids=["no-token", "no-repository"])
def test_missing_value_is_a_config_error_naming_variable_and_option(
        env: dict[str, str], names: tuple[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_context(env)
    assert all(n in info.value.message for n in names)


def test_comment_without_a_pull_request_says_to_pass_pr() -> None:
    ctx = load_context(BASE_ENV)
    with pytest.raises(ConfigError, match="--pr"):
        ctx.require_pr()


@pytest.mark.parametrize("content", [None, "{not json"], ids=["missing-file", "not-json"])
def test_unreadable_event_file_is_a_config_error(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match="event file"):
        load_context({**BASE_ENV, "GITHUB_EVENT_PATH": str(path)})


@pytest.mark.parametrize(("event", "problem"), [
    ({"pull_request": {"base": {"sha": "b" * 40}}}, "pull_request.number is missing"),
    ({"pull_request": {"number": "12"}}, "pull_request.number is missing"),
    ({"pull_request": {"number": True}}, "pull_request.number is missing"),
    ({"pull_request": ["12"]}, "pull_request is not an object"),
    ({"pull_request": {"number": 12, "base": "main"}}, "pull_request.base is not an object"),
    ({"pull_request": {"number": 12, "head": {"sha": 7}}}, "pull_request.head.sha is not a string"),
    ({"after": ["a"]}, "after is not a string"),
    ({"repository": "acme/x"}, "repository is not an object"),
    ({"repository": {"default_branch": 1}}, "repository.default_branch is not a string"),
    (["not", "an", "object"], "it is not a JSON object"),
], ids=["pr-without-number", "number-as-text", "number-as-bool", "pr-not-object",
        "base-not-object", "head-sha-not-text", "after-not-text", "repository-not-object",
        "default-branch-not-text", "event-not-object"])
def test_malformed_event_is_a_config_error_naming_the_event_file(
        tmp_path: Path, event: object, problem: str) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    with pytest.raises(ConfigError) as info:
        load_context({**BASE_ENV, "GITHUB_EVENT_PATH": str(path)})
    assert f"the event file {path}" in info.value.message and problem in info.value.message


def test_event_without_pull_request_or_push_facts_gives_none(tmp_path: Path) -> None:
    ctx = load_context({**BASE_ENV, "GITHUB_EVENT_PATH": _event(tmp_path, {"schedule": "x"})})
    assert (ctx.pr_number, ctx.base_sha, ctx.default_branch) == (None, None, None)
    assert ctx.head_sha == "1" * 40  # GITHUB_SHA


def test_token_is_not_in_the_context_repr() -> None:
    ctx = load_context(BASE_ENV)
    assert "ghs_env_token" not in repr(ctx)
