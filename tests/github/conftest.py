"""Fixtures for the GitHub tests: the loopback REST stand-in and a client bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.github.client import GitHubClient
from tests.cli.conftest import gitops
from tests.github.standin import GitHubStandIn, github_standin

__all__ = ["github_standin", "client", "sleeps", "gitops"]


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for (recorded instead of slept, so tests stay fast)."""
    return []


@pytest.fixture
def client(github_standin: GitHubStandIn, sleeps: list[float]) -> Iterator[GitHubClient]:
    with GitHubClient(github_standin.url, github_standin.token, backoff=0.5,
                      sleep=sleeps.append) as c:
        yield c
