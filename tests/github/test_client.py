from __future__ import annotations

import time

import httpx
import pytest

from reconciler.errors import GitHubError
from reconciler.github.client import GitHubClient
from tests.github.standin import GitHubStandIn


def test_client_sends_bearer_token_and_the_api_headers_github_asks_for(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    number = github_standin.add_pull_request()
    client.create_issue_comment(github_standin.repo, number, "hello")

    headers = github_standin.requests[-1].headers
    assert headers["Authorization"] == f"Bearer {github_standin.token}"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"


def test_comments_are_read_across_every_page_by_following_link_headers(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    number = github_standin.add_pull_request()
    github_standin.add_comments(number, 250)

    comments = list(client.iter_issue_comments(github_standin.repo, number))

    assert [c.body for c in comments] == [f"looks good #{i}" for i in range(250)]
    gets = [r for r in github_standin.requests if r.method == "GET"]
    assert [r.query.get("page", ["1"])[0] for r in gets] == ["1", "2", "3"]
    assert all(r.query["per_page"] == ["100"] for r in gets)


def test_standin_pages_by_thirty_when_per_page_is_not_given(
        github_standin: GitHubStandIn) -> None:
    number = github_standin.add_pull_request()
    github_standin.add_comments(number, 31)
    response = httpx.get(f"{github_standin.url}/repos/{github_standin.repo}/issues/{number}"
                         "/comments", headers={"Authorization": f"Bearer {github_standin.token}"})

    assert len(response.json()) == 30
    assert response.links["next"]["url"].endswith("page=2")
    assert response.links["last"]["url"].endswith("page=2")


@pytest.mark.parametrize("token", ["", "ghs_wrong_token_1234"], ids=["missing", "wrong"])
def test_refused_token_becomes_a_github_error_that_names_the_variable_not_the_token(
        github_standin: GitHubStandIn, token: str) -> None:
    number = github_standin.add_pull_request()
    with pytest.raises(GitHubError) as info, \
            GitHubClient(github_standin.url, token, sleep=lambda s: None) as c:
        c.create_issue_comment(github_standin.repo, number, "hi")

    assert "GITHUB_TOKEN" in str(info.value)
    if token:
        assert "401" in str(info.value) and "Bad credentials" in str(info.value)
        assert token not in str(info.value)


def test_body_over_the_limit_becomes_a_github_error_with_githubs_own_message(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    number = github_standin.add_pull_request()
    with pytest.raises(GitHubError) as info:
        client.create_issue_comment(github_standin.repo, number, "x" * 65537)

    assert "422" in str(info.value)
    assert "body is too long (maximum is 65536 characters)" in str(info.value)
    assert github_standin.comments_on(number) == []


def test_missing_pull_request_is_a_not_found_error_with_a_hint(client: GitHubClient,
                                                               github_standin: GitHubStandIn
                                                               ) -> None:
    with pytest.raises(GitHubError) as info:
        client.create_issue_comment(github_standin.repo, 77, "hi")
    assert "404" in info.value.message and info.value.hint


@pytest.mark.parametrize(("kind", "expected"), [("429", 7.0), ("403", 6.0)],
                         ids=["429-retry-after", "403-ratelimit-reset"])
def test_rate_limit_waits_as_long_as_github_says_then_succeeds(
        client: GitHubClient, github_standin: GitHubStandIn, sleeps: list[float],
        kind: str, expected: float) -> None:
    number = github_standin.add_pull_request()
    github_standin.rate_limit_next(1, kind=kind, wait=7, reset_at=int(time.time()) + 5)

    client.create_issue_comment(github_standin.repo, number, "after the limit")

    assert len(sleeps) == 1 and sleeps[0] == pytest.approx(expected, abs=1.0)
    assert [c["body"] for c in github_standin.comments_on(number)] == ["after the limit"]


def test_rate_limit_longer_than_the_wait_allowed_fails_at_once(
        github_standin: GitHubStandIn, sleeps: list[float]) -> None:
    github_standin.rate_limit_next(1, kind="403", reset_at=int(time.time()) + 3600)
    with pytest.raises(GitHubError) as info, \
            GitHubClient(github_standin.url, github_standin.token, max_wait=60,
                         sleep=sleeps.append) as c:
        c.list_issues(github_standin.repo)

    assert "rate limit" in str(info.value) and sleeps == []


def test_server_errors_on_reads_are_retried_with_growing_backoff(
        client: GitHubClient, github_standin: GitHubStandIn, sleeps: list[float]) -> None:
    github_standin.fail_next(2, 502)
    assert client.list_issues(github_standin.repo) == []
    assert sleeps == [0.5, 1.0]


def test_server_errors_that_never_stop_become_a_github_error(
        client: GitHubClient, github_standin: GitHubStandIn, sleeps: list[float]) -> None:
    github_standin.fail_next(10, 503)
    with pytest.raises(GitHubError, match="failed 4 times: server error 503"):
        client.list_issues(github_standin.repo)
    assert len(sleeps) == 3


def test_server_error_on_creating_a_comment_is_not_retried_so_it_cannot_post_twice(
        client: GitHubClient, github_standin: GitHubStandIn, sleeps: list[float]) -> None:
    number = github_standin.add_pull_request()
    github_standin.fail_next(1, 502)
    with pytest.raises(GitHubError, match="502"):
        client.create_issue_comment(github_standin.repo, number, "once")
    assert len([r for r in github_standin.requests if r.method == "POST"]) == 1
    assert sleeps == []


def test_pagination_link_to_another_host_is_refused_so_the_token_stays_home() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"id": 1, "body": "x"}],
                              headers={"Link": '<https://evil.example/next?page=2>; rel="next"'})

    with pytest.raises(GitHubError, match="refusing to send the GitHub token"), \
            GitHubClient("https://api.github.com", "ghs_secret_token",
                         transport=httpx.MockTransport(answer)) as c:
        list(c.iter_issue_comments("acme/repo", 1))


def test_list_issues_filters_by_label_and_state_and_leaves_out_pull_requests(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    github_standin.add_pull_request()
    wanted = github_standin.add_issue("drift", "", ["gridops:drift"])
    github_standin.add_issue("old drift", "", ["gridops:drift"], state="closed")
    github_standin.add_issue("other", "", ["bug"])

    found = client.list_issues(github_standin.repo, labels=["gridops:drift"])

    assert [i.number for i in found] == [wanted]


def test_labels_are_created_once_added_and_removed_even_when_absent(
        client: GitHubClient, github_standin: GitHubStandIn) -> None:
    number = github_standin.add_pull_request()
    for _ in range(2):
        client.ensure_label(github_standin.repo, "gridops:create", color="2da44e",
                            description="the plan creates clusters")
    client.add_labels(github_standin.repo, number, ["gridops:create"])
    client.remove_label(github_standin.repo, number, "gridops:delete")

    assert client.labels_on(github_standin.repo, number) == ["gridops:create"]
    assert github_standin.labels["gridops:create"]["color"] == "2da44e"
    client.remove_label(github_standin.repo, number, "gridops:create")
    assert github_standin.labels_of(number) == []


@pytest.mark.parametrize("repo", ["no-slash", "a/b/c", "../x"], ids=["bare", "deep", "dots"])
def test_repository_names_that_are_not_owner_slash_name_are_refused(client: GitHubClient,
                                                                    repo: str) -> None:
    with pytest.raises(GitHubError, match="owner/name"):
        client.list_issues(repo)
