"""How a git failure reads: a broken pipe to git says nothing of why git ended, so git is
asked again and its own words decide the message."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from reconciler.sources.gitsource import git_failure


@pytest.fixture
def repo_root(tmp_path: Path) -> Path:
    git.Repo.init(tmp_path, initial_branch="main").close()
    return tmp_path


def test_a_broken_pipe_in_a_healthy_repository_is_not_called_dubious_ownership(
        repo_root: Path) -> None:
    error = git_failure(repo_root, "git", BrokenPipeError())

    assert "git stopped answering while reading" in error.message
    assert "dubious" not in error.message and "git fsck" in (error.hint or "")


def test_a_broken_pipe_where_git_refuses_the_owner_says_so(
        repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")  # git's own switch for it
    error = git_failure(repo_root, "git", BrokenPipeError())

    assert "dubious ownership" in error.message and "safe.directory" in (error.hint or "")


def test_a_broken_pipe_outside_any_repository_quotes_git(tmp_path: Path) -> None:
    error = git_failure(tmp_path / "nowhere", "git", BrokenPipeError())

    assert "git stopped answering" in error.message and "nowhere" in error.message
