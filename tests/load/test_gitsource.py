"""How a git failure reads: a broken pipe to git says nothing of why git ended, so git is
asked again and its own words decide the message."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from reconciler.errors import GitError
from reconciler.sources import gitsource
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


# --- the reads that run git itself (HEAD, status, ls-tree, cat-file) ------------------------

def test_head_is_none_before_the_first_commit_and_the_commit_after(repo_root: Path) -> None:
    assert gitsource.head_sha(repo_root) is None
    repo = git.Repo(repo_root)
    (repo_root / "a.yaml").write_text("a: 1\n")
    repo.index.add(["a.yaml"])
    sha = repo.index.commit("first").hexsha
    repo.close()

    assert gitsource.head_sha(repo_root) == sha


def test_a_folder_inside_a_repository_is_not_read_as_the_repository(repo_root: Path) -> None:
    # as GitPython's Repo without a search of the parents: git never climbs above the folder
    inner = repo_root / "clusters"
    inner.mkdir()

    with pytest.raises(GitError, match="clusters is not a git repository") as raised:
        gitsource.head_sha(inner)
    assert "git init" in (raised.value.hint or "")
    with pytest.raises(GitError, match="is not a git repository"):
        gitsource.uncommitted_files(inner, "clusters")


def test_git_refusing_the_owner_says_so_for_each_read(repo_root: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")  # git's own switch for it
    reads = [lambda: gitsource.head_sha(repo_root),
             lambda: gitsource.uncommitted_files(repo_root, "clusters"),
             lambda: gitsource.read_file_at(repo_root, "HEAD", "gridops.yaml")]
    for read in reads:
        with pytest.raises(GitError, match="dubious ownership") as raised:
            read()
        assert "safe.directory" in (raised.value.hint or "")


def test_a_git_that_cannot_be_started_is_named(repo_root: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_PYTHON_GIT_EXECUTABLE", str(repo_root / "no-such-git"))

    with pytest.raises(GitError, match="git is not installed"):
        gitsource.head_sha(repo_root)


def test_git_answers_in_english_whatever_the_locale(repo_root: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the reads tell "not a git repository" by git's English words; git speaks German here
    # unless told otherwise
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")

    (repo_root / "inner").mkdir()

    with pytest.raises(GitError, match="inner is not a git repository"):
        gitsource.head_sha(repo_root / "inner")
