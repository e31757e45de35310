"""The git edge: where the repository is, which commit it is at, what is uncommitted, and the
cluster files at any revision. Everything git-specific stays here.

The reads every plan and apply make (HEAD, ``git status``, ``git ls-tree``, ``git cat-file
--batch``) run git itself (``_git``): GitPython would only pass those commands on, and
importing it costs a run about 70 ms (two ``git version`` processes and 40 modules). The
rest (the tree walk that follows symlinks, merge bases, a file's standing) uses GitPython,
imported by the functions that need it.
"""

from __future__ import annotations

import functools
import os
import posixpath
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar, cast

from reconciler.errors import Finding, GitError
from reconciler.printable import has_unsafe, printable

if TYPE_CHECKING:
    import git

_F = TypeVar("_F", bound=Callable[..., Any])

_YAML_SUFFIXES = (".yaml", ".yml")


#: the repositories opened by the git read under way in this thread, closed when it ends
_opened = threading.local()


class _GitFailed(Exception):
    """A git command that ``_git`` ran failed; ``stderr`` is what git said."""

    def __init__(self, command: str, stderr: str) -> None:
        super().__init__(f"{command}: {stderr}")
        self.stderr = stderr


def _translated(function: _F) -> _F:
    """Git's refusals (a failed command, the pipe to a ``git cat-file`` that git refused to
    start: dubious ownership) leave as a clear GitError naming the repository. Every
    repository the read opened is closed when it returns, so no ``git cat-file`` process (and
    its pipes) outlives the call."""
    @functools.wraps(function)
    def wrapper(repo_root: Path, *args: Any, **kwargs: Any) -> Any:
        outer = getattr(_opened, "repos", None)
        _opened.repos = [] if outer is None else outer
        try:
            return function(repo_root, *args, **kwargs)
        except Exception as e:
            if isinstance(e, (_GitFailed, BrokenPipeError)) or _from_gitpython(e):
                raise git_failure(repo_root, "git", e) from e
            raise
        finally:
            if outer is None:
                for repo in _opened.repos:
                    repo.close()
                _opened.repos = None

    return cast(_F, wrapper)


def _from_gitpython(error: BaseException) -> bool:
    """Whether ``error`` is a failed GitPython command (none can be without GitPython loaded)."""
    exc = sys.modules.get("git.exc")
    return exc is not None and isinstance(error, exc.GitCommandError)


def _git(repo_root: Path, *args: str, stdin: bytes | None = None, ok: tuple[int, ...] = (0,)
         ) -> bytes:
    """What ``git ARGS`` run at the top of ``repo_root`` writes, the exit codes ``ok`` allowed
    (``_GitFailed`` otherwise), as GitPython would run it: English messages, the git that
    GIT_PYTHON_GIT_EXECUTABLE names. Git looks for the repository in ``repo_root`` only, never
    in a folder above it (as GitPython's ``Repo`` without a parent search)."""
    env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C",
           "GIT_CEILING_DIRECTORIES": str(Path(os.path.abspath(repo_root)).parent)}
    command = [os.environ.get("GIT_PYTHON_GIT_EXECUTABLE") or "git", *args]
    try:
        done = subprocess.run(command, cwd=repo_root, input=stdin, capture_output=True,
                              env=env, check=False)
    except FileNotFoundError as e:
        if not repo_root.is_dir():
            raise _not_a_repository(repo_root) from e
        raise GitError("git is not installed (or not on PATH)",
                       hint="install git; GIT_PYTHON_GIT_EXECUTABLE may name it") from e
    if done.returncode not in ok:
        said = done.stderr.decode("utf-8", "replace")
        if "not a git repository" in said and "dubious ownership" not in said:
            raise _not_a_repository(repo_root)
        raise _GitFailed(f"git {args[0]}", said)
    return done.stdout


def _not_a_repository(repo_root: Path) -> GitError:
    return GitError(f"{repo_root} is not a git repository",
                    hint="run gridops inside the GitOps repository (or `git init` it)")


def _open(repo_root: Path) -> git.Repo:
    import git
    from git.exc import InvalidGitRepositoryError, NoSuchPathError

    try:
        repo = git.Repo(repo_root, search_parent_directories=False)
    except (InvalidGitRepositoryError, NoSuchPathError) as e:
        raise _not_a_repository(repo_root) from e
    opened = getattr(_opened, "repos", None)
    if opened is not None:
        opened.append(repo)
    return repo


def find_repo_root(start: Path) -> Path | None:
    """The top of the git work tree holding ``start``, or None outside git: the nearest folder
    with a ``.git`` folder or file (a worktree's), found without starting git."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


@_translated
def head_sha(repo_root: Path) -> str | None:
    """The commit HEAD points at; None in a repository with no commits yet."""
    sha = _git(repo_root, "rev-parse", "-q", "--verify", "HEAD^{commit}", ok=(0, 1))
    return sha.decode("ascii").strip() or None


@_translated
def uncommitted_files(repo_root: Path, *paths: str) -> tuple[str, ...]:
    """YAML files under ``paths`` that differ from HEAD: modified, staged, deleted, untracked,
    or present but ignored by git (which would otherwise be read without being committed)."""
    try:
        out = _git(repo_root, "status", "--porcelain=v1", "-z", "--untracked-files=all",
                   "--ignored=matching", "--", *paths).decode("utf-8", "surrogateescape")
    except _GitFailed as e:
        raise git_failure(repo_root, "git status", e) from e
    found: list[str] = []
    entries = iter(out.split("\0"))
    for entry in entries:
        if not entry:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            next(entries, None)  # the rename source follows as its own entry
        if path.endswith(_YAML_SUFFIXES):
            found.append(path)
    return tuple(sorted(found))


@_translated
def read_tree_files(repo_root: Path, rev: str, folder: str) -> dict[str, bytes]:
    """The ``*.yaml``/``*.yml`` files under ``folder`` at ``rev``, by repo-relative path (a
    symlink's own contents, its target, as git holds it)."""
    top = str(PurePosixPath(folder.strip("/")))
    top = "" if top == "." else top
    if ".." in top.split("/"):  # no such folder in a tree
        return {}
    wanted = {path: sha for _, kind, sha, _, path in _ls_tree(repo_root, rev, top, sizes=False)
              if kind == "blob" and path.endswith(_YAML_SUFFIXES)
              and not any(part.startswith(".") for part in path.split("/"))}
    blobs = _blob_contents(repo_root, set(wanted.values()))
    return {path: blobs[sha] for path, sha in sorted(wanted.items())}


def _ls_tree(repo_root: Path, rev: str, top: str, *, sizes: bool
             ) -> list[tuple[int, str, str, str, str]]:
    """Every file under ``top`` (a plain path, or "" for all) at ``rev``, from one ``git
    ls-tree -r``: (mode, kind, sha, size or "-", repo-relative path); sizes only when asked,
    which costs git a read of each loose object."""
    if rev.startswith("-"):  # an option to git, not a revision (no ref name starts so)
        raise _unknown(rev)
    try:
        out = _git(repo_root, "--literal-pathspecs", "ls-tree", "-r", "-z",
                   *(["-l"] if sizes else []), "--full-tree", rev, "--", *([top] if top else []))
    except _GitFailed as e:
        said = str(e.stderr).lower()
        if "not a valid object name" in said or "not a tree object" in said:
            raise _unknown(rev) from e
        raise
    found: list[tuple[int, str, str, str, str]] = []
    for record in out.split(b"\0"):
        if record:
            meta, _, raw = record.partition(b"\t")
            mode, kind, sha, *size = meta.decode().split()
            found.append((int(mode, 8), kind, sha, size[0] if size else "-",
                          raw.decode("utf-8", "surrogateescape")))
    return found


def _blob_sizes(repo_root: Path, shas: set[str]) -> dict[str, int]:
    """The size of each blob, from one ``git cat-file --batch-check`` run (read before the
    contents, so no blob over the size limit is ever read)."""
    return {sha: int(size) for sha, size, _ in _cat_file(repo_root, "--batch-check", shas)}


def _blob_contents(repo_root: Path, shas: set[str]) -> dict[str, bytes]:
    """The contents of each blob, from one ``git cat-file --batch`` run: reading them one by
    one costs two round trips to git per file, most of apply's reading time at 1,000 files."""
    return {sha: data for sha, _, data in _cat_file(repo_root, "--batch", shas)}


def _cat_file(repo_root: Path, mode: str, shas: set[str]) -> list[tuple[str, str, bytes]]:
    """``git cat-file MODE`` for every blob of ``shas``: (sha, size, contents), the contents
    empty for ``--batch-check``."""
    found: list[tuple[str, str, bytes]] = []
    for name, header, data in _batch(repo_root, mode, sorted(shas)):
        if header == ["missing"]:
            raise _missing(name)
        if len(header) != 2:
            raise GitError(f"git cannot tell which object {name} is ({' '.join(header)})")
        kind, size = header
        if kind != "blob":
            raise GitError(f"git object {name} is a {kind}, not a file")
        found.append((name, size, data))
    return found


def _missing(sha: str) -> GitError:
    return GitError(f"git object {sha} is missing from the repository",
                    hint="run `git fsck`; fetch the commit again")


def _batch(repo_root: Path, mode: str, names: list[str]) -> list[tuple[str, list[str], bytes]]:
    """One ``git cat-file MODE`` run for the objects ``names`` (no newline in any): for each,
    what git calls it, the rest of its header (``[kind, size]``; ``["missing"]``, or
    ``["ambiguous"]`` for a short name) and, for ``--batch``, its contents."""
    if not names:
        return []
    out = _git(repo_root, "cat-file", mode, stdin="".join(f"{name}\n" for name in names).encode())
    found: list[tuple[str, list[str], bytes]] = []
    at = 0
    for _ in names:
        end = out.index(b"\n", at)
        name, *header = out[at:end].decode("utf-8", "surrogateescape").rsplit(" ", 2)
        at = end + 1
        if header[-1] == "missing":
            name, header = " ".join([name, *header[:-1]]), ["missing"]
        data = b""
        if mode == "--batch" and len(header) == 2:  # [kind, size]: contents, then a newline
            data = out[at:at + int(header[1])]
            at += int(header[1]) + 1
        found.append((name, header, data))
    return found


#: how many symlinks one path may pass through in a commit's tree before it counts as a loop
_MAX_LINK_HOPS = 40
#: what ``read_commit_files`` finds at a path the commit does not have, no link followed
_NOT_THERE = "not there"


def read_twice(first: str) -> str:
    """The finding for a folder reached a second time through a symlink (reading every way
    to it would let a few links multiply the files many times over)."""
    return (f"symlinked folder leads to a folder already read as {printable(first)}: "
            "remove one of the two")
_LINK_MODE = 0o120000


@_translated
def read_commit_files(repo_root: Path, rev: str, folder: str, *, max_bytes: int,
                      is_cluster_file: Callable[[str], bool]
                      ) -> tuple[dict[str, bytes], list[Finding]]:
    """The cluster files under ``folder`` as the commit ``rev`` holds them (never the working
    tree), by repo-relative path, with a finding for each one that cannot be read. Symlinks
    are followed inside the commit's tree only: one leading out of it, nowhere, or round in a
    loop is a finding; a symlinked folder is read as if its files were in the link's place."""
    from reconciler.sources.yamlsafe import too_large

    listed = _listed(repo_root, rev, folder, is_cluster_file)
    if listed is None:
        wanted, sizes, findings = _walked(repo_root, rev, folder, is_cluster_file)
    else:
        wanted, sizes, findings = listed
    blobs = _blob_contents(repo_root, {sha for sha, size in sizes.items() if size <= max_bytes})
    files: dict[str, bytes] = {}
    for shown, sha in sorted(wanted.items()):
        if sha in blobs:
            files[shown] = blobs[sha]
        else:
            findings.append(too_large(shown, sizes[sha], max_bytes))
    return files, findings


#: what ``_listed`` and ``_walked`` find: each cluster file's path and blob, each blob's size,
#: and a finding for each path that cannot be read
_Found = tuple[dict[str, str], dict[str, int], list[Finding]]


def _listed(repo_root: Path, rev: str, folder: str,
            is_cluster_file: Callable[[str], bool]) -> _Found | None:
    """What ``folder`` at ``rev`` holds, from one ``git ls-tree -r`` (paths, blobs and sizes
    at once); None when it holds a symlink, or nothing, which ``_walked`` reads instead (a
    link is followed inside the commit's tree, and a folder that is not listed may lie behind
    one)."""
    top = folder.strip("/")
    top = "" if top == "." else top
    if top and not _plain("", top):  # the walk reads ./x, x//y and x/../y as it always has
        return None
    wanted: dict[str, str] = {}
    sizes: dict[str, int] = {}
    findings: list[Finding] = []
    for mode, kind, sha, size, shown in _ls_tree(repo_root, rev, top, sizes=True):
        if mode == _LINK_MODE:
            return None
        inner = shown[len(top) + 1:] if top else shown  # "" for the top itself
        if kind != "blob" or any(part.startswith(".") for part in inner.split("/") if part):
            continue  # a submodule, or a hidden file or folder (as the walk skips them)
        if has_unsafe(shown):
            findings.append(Finding(printable(shown), 0, 0, "the file name holds control or "
                                                            "invisible characters: rename it"))
        elif is_cluster_file(shown):
            if not size.isdigit():  # git could not read the blob ("BAD")
                raise _missing(sha)
            wanted[shown] = sha
            sizes[sha] = int(size)
    return (wanted, sizes, findings) if wanted or findings else None


def _walked(repo_root: Path, rev: str, folder: str,
            is_cluster_file: Callable[[str], bool]) -> _Found:
    """What ``folder`` at ``rev`` holds, walking the commit's trees and following symlinks."""
    import git

    commit = _commit(_open(repo_root), rev)
    findings: list[Finding] = []
    wanted: dict[str, str] = {}  # each cluster file's path as shown, and its blob
    # each folder's tree object, parsed once: looking every file up from the top of the tree
    # again would parse its folder's entries once per file (quadratic in a folder's size)
    folders: dict[str, Any] = {}

    def resolve(path: str) -> tuple[Any, str] | str:
        """The object at ``path`` after following links, and its real path; or a problem."""
        for hops in range(_MAX_LINK_HOPS):
            parts = PurePosixPath(path).parts
            item: Any = commit.tree
            for index, part in enumerate(parts):
                key = "/".join(parts[:index + 1])
                try:
                    item = folders[key] if key in folders else item / part
                except KeyError:
                    return f"symlink leads nowhere in commit {commit.hexsha[:12]}" if hops \
                        else _NOT_THERE
                if isinstance(item, git.Tree):
                    folders[key] = item
                if isinstance(item, git.Blob) and item.mode == _LINK_MODE:
                    target = item.data_stream.read().decode("utf-8", "replace")
                    base = posixpath.dirname("/".join(parts[:index + 1]))
                    joined = posixpath.normpath(posixpath.join(base, target))
                    if target.startswith("/") or joined == ".." or joined.startswith("../"):
                        return f"symlink leads outside the repository (to {printable(target)})"
                    path = posixpath.join(joined, *parts[index + 1:])
                    break
            else:
                return item, path
        return "symlink loop"

    read_as: dict[str, str] = {}  # each real folder read so far, and the path it was read as

    def walk(shown: str, real: str, ancestors: frozenset[str]) -> None:
        found = resolve(real)
        if found == _NOT_THERE:  # the clusters folder itself: a commit holds no empty folder
            return
        if isinstance(found, str):
            findings.append(Finding(printable(shown), 1, 1, f"{found}: fix or remove the link"))
            return
        visit(shown, *found, ancestors)

    def visit(shown: str, item: Any, real: str, ancestors: frozenset[str]) -> None:
        """``item``, found at ``real`` with no link left to follow."""
        if isinstance(item, git.Tree):
            folders[real] = item
            if real in ancestors:
                findings.append(Finding(printable(shown), 1, 1,
                                        "symlinked folder loops back on itself: remove the link"))
                return
            if real in read_as:
                findings.append(Finding(printable(shown), 1, 1, read_twice(read_as[real])))
                return
            read_as[real] = shown
            inside = ancestors | {real}
            for child in sorted([*item.trees, *item.blobs], key=lambda c: c.name):
                if child.name.startswith("."):
                    continue
                # a link is followed from the top; anything else is the child itself (looking
                # it up by name again would scan its folder once per file)
                if isinstance(child, git.Blob) and child.mode == _LINK_MODE:
                    walk(f"{shown}/{child.name}", f"{real}/{child.name}", inside)
                else:
                    visit(f"{shown}/{child.name}", child, f"{real}/{child.name}", inside)
        elif has_unsafe(shown):
            findings.append(Finding(printable(shown), 0, 0, "the file name holds control or "
                                                            "invisible characters: rename it"))
        elif is_cluster_file(shown):
            wanted[shown] = item.hexsha

    top = folder.strip("/")
    for start in [top] if top not in ("", ".") else \
            [c.name for c in commit.tree if not c.name.startswith(".")]:
        walk(start, start, frozenset())
    return wanted, _blob_sizes(repo_root, set(wanted.values())), findings


def _commit(repo: git.Repo, rev: str) -> Any:
    import git
    from git.exc import GitCommandError

    try:
        return repo.commit(rev)
    except (GitCommandError, ValueError, git.BadName) as e:
        raise _unknown(rev) from e


def _unknown(rev: str) -> GitError:
    return GitError(f"unknown git revision {rev!r}",
                    hint="fetch enough history (actions/checkout with fetch-depth: 0)")


def git_failure(repo_root: Path, what: str, error: BaseException) -> GitError:
    """A clear GitError for a git command that failed (dubious ownership said plainly). A
    broken pipe to a long-lived ``git cat-file`` says nothing of why git ended, so git is
    asked again, once, for its own words."""
    text = str(getattr(error, "stderr", "") or error)
    if isinstance(error, BrokenPipeError):
        text = _why_git_stopped(repo_root)
        if "dubious ownership" not in text:
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            return GitError(f"git stopped answering while reading {printable(str(repo_root))}"
                            + (f": {printable(first)}" if first else ""),
                            hint="check that `git status` works in the repository; "
                                 "`git fsck` finds a damaged one")
    if "dubious ownership" in text:
        return GitError(f"git refuses to work in {printable(str(repo_root))}: the repository "
                        "belongs to another user (git's \"dubious ownership\" check)",
                        hint=f"if you trust it: git config --global --add safe.directory "
                             f"{printable(str(repo_root))}")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return GitError(f"{what} failed: {printable(first.removeprefix('stderr: '))}")


def _why_git_stopped(repo_root: Path) -> str:
    """What git says on stderr when asked the simplest question about ``repo_root``."""
    import subprocess

    try:
        done = subprocess.run(["git", "-C", str(repo_root), "rev-parse", "--git-dir"],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    return done.stderr


@_translated
def read_file_at(repo_root: Path, rev: str, path: str) -> bytes | None:
    """The bytes of ``path`` at ``rev``, or None when the commit has no such file."""
    if _plain(rev, path):  # one `git cat-file`, the commit's trees not parsed
        [(_, header, data)] = _batch(repo_root, "--batch", [f"{rev}:{path}"])
        if header[0] == "blob":
            return data
        if header[0] == "tree":
            return None
    # missing: the walk says whether it is the revision or the file that is not there
    import git

    commit = _commit(_open(repo_root), rev)
    try:
        item = commit.tree / path
    except KeyError:
        return None
    return item.data_stream.read() if isinstance(item, git.Blob) else None


def _plain(rev: str, path: str) -> bool:
    """Whether git reads ``rev:path`` (or ``path`` in a listing) as the tree walk does: a
    path from the top, with no ``.``, ``..`` or empty part (which git would read from the
    current folder, or refuse)."""
    parts = path.split("/")
    return not any(c in rev + path for c in "\n\r:") and \
        all(part not in ("", ".", "..") for part in parts)


@_translated
def merge_base(repo_root: Path, a: str, b: str) -> str:
    from git.exc import GitCommandError

    repo = _open(repo_root)
    try:
        bases = repo.merge_base(a, b)
    except GitCommandError as e:
        raise GitError(f"cannot find the merge base of {a} and {b}",
                       hint="fetch enough history (actions/checkout with fetch-depth: 0)") from e
    if not bases:
        raise GitError(f"{a} and {b} have no common history")
    return str(bases[0].hexsha)


@_translated
def git_standing(repo_root: Path, path: str) -> str:
    """How git treats the file ``path``: ``tracked`` (in the index), ``ignored``, ``untracked``
    (neither: the next ``git add -A`` would commit it), or ``none`` outside a git repository."""
    import git
    from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

    try:
        repo = git.Repo(repo_root, search_parent_directories=False)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return "none"
    try:
        if repo.git.ls_files("--", path):
            return "tracked"
        return "ignored" if repo.ignored(path) else "untracked"
    except GitCommandError as e:
        raise git_failure(repo_root, f"git ls-files {printable(path)}", e) from e
    finally:
        repo.close()
