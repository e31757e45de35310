"""A commit's cluster files read from one ``git ls-tree`` (and one ``git cat-file``) find
exactly what walking the commit's trees finds; a commit with a symlink on the way is walked,
so its links are still followed inside the tree. ``read_file_at`` reads one file the same
way, and still tells an unknown revision from a missing file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import git
import pytest

from reconciler.errors import GitError
from reconciler.sources import gitsource
from reconciler.sources.loader import is_cluster_file


def _commit(root: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> str:
    repo = git.Repo.init(root, initial_branch="main")
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for link, target in (links or {}).items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)
    repo.git.add(A=True)
    repo.index.commit("clusters")
    sha = repo.head.commit.hexsha
    repo.close()
    return sha


def _both(root: Path, folder: str) -> tuple[gitsource._Found | None, gitsource._Found]:
    listed = gitsource._listed(root, "HEAD", folder, is_cluster_file)
    # as read_commit_files calls it: the repository the walk opens is closed when it returns
    walked = gitsource._translated(gitsource._walked)(root, "HEAD", folder, is_cluster_file)
    return listed, walked


FILES = {
    "clusters/a.yaml": b"a: 1\n",
    "clusters/team/b.yml": b"b: 2\n",
    "clusters/team/deep/c.yaml": b"c: 3\n",
    "clusters/team/notes.txt": b"not a cluster\n",
    "clusters/.hidden/d.yaml": b"hidden folder\n",
    "clusters/team/.e.yaml": b"hidden file\n",
    "clusters/sp ace.yaml": b"space\n",
    "clusters/tab\tname.yaml": b"control character\n",
    "clusters/zero\u200bwidth.yaml": b"invisible character\n",
    "clusters/caf\u00e9.yaml": b"accent\n",
    "clusters/big.yaml": b"x: " + b"y" * 2000 + b"\n",
    "elsewhere/f.yaml": b"outside the folder\n",
    "clusters-old/h.yaml": b"a folder whose name starts the same\n",
    ".top/g.yaml": b"hidden at the top\n",
}


@pytest.mark.parametrize("folder", ["clusters", "clusters/", "/clusters/", "clusters/team",
                                    ".", "", "clusters/a.yaml"])
def test_one_listing_finds_what_the_walk_finds(tmp_path: Path, folder: str) -> None:
    _commit(tmp_path, FILES)

    listed, walked = _both(tmp_path, folder)

    assert listed is not None
    assert listed == walked


@pytest.mark.parametrize("folder", ["./clusters", "clusters/./team", "clusters//team",
                                    "elsewhere/../clusters"])
def test_a_folder_spelled_with_dots_or_doubled_slashes_is_walked(tmp_path: Path,
                                                                 folder: str) -> None:
    _commit(tmp_path, FILES)

    listed, walked = _both(tmp_path, folder)
    files, findings = gitsource.read_commit_files(tmp_path, "HEAD", folder, max_bytes=1000,
                                                  is_cluster_file=is_cluster_file)

    assert listed is None
    assert sorted(files) == sorted(name for name in walked[0] if "big" not in name)
    assert all(found in findings for found in walked[2])


def test_the_listing_reads_a_hidden_top_folder_it_was_given(tmp_path: Path) -> None:
    _commit(tmp_path, FILES)

    listed, walked = _both(tmp_path, ".top")

    assert listed == walked and listed is not None
    assert list(listed[0]) == [".top/g.yaml"]


def test_a_submodule_is_skipped_as_the_walk_skips_it(tmp_path: Path) -> None:
    sha = _commit(tmp_path, {"clusters/a.yaml": b"a: 1\n"})
    repo = git.Repo(tmp_path)
    repo.git.update_index("--add", "--cacheinfo", f"160000,{sha},clusters/sub")
    repo.index.update()
    repo.git.commit("-m", "a submodule")
    repo.close()

    listed, walked = _both(tmp_path, "clusters")

    assert listed == walked and listed is not None


def test_a_commit_with_a_symlink_is_walked_so_the_link_is_followed(tmp_path: Path) -> None:
    _commit(tmp_path, {"shared/base.yaml": b"a: 1\n", "clusters/own.yaml": b"b: 2\n"},
            links={"clusters/linked": "../shared"})
    assert gitsource._listed(tmp_path, "HEAD", "clusters", is_cluster_file) is None

    files, findings = gitsource.read_commit_files(tmp_path, "HEAD", "clusters",
                                                  max_bytes=100, is_cluster_file=is_cluster_file)

    assert files == {"clusters/linked/base.yaml": b"a: 1\n", "clusters/own.yaml": b"b: 2\n"}
    assert findings == []


def test_a_folder_the_commit_lists_nothing_in_is_walked(tmp_path: Path) -> None:
    """A folder behind a linked parent is not listed by its path: the walk finds it."""
    _commit(tmp_path, {"real/clusters/a.yaml": b"a: 1\n"}, links={"deploy": "real"})

    files, _ = gitsource.read_commit_files(tmp_path, "HEAD", "deploy/clusters", max_bytes=100,
                                           is_cluster_file=is_cluster_file)

    assert files == {"deploy/clusters/a.yaml": b"a: 1\n"}


def test_read_commit_files_reads_the_commit_not_the_working_tree(tmp_path: Path) -> None:
    _commit(tmp_path, FILES)
    (tmp_path / "clusters/a.yaml").write_bytes(b"changed: after the commit\n")

    files, findings = gitsource.read_commit_files(tmp_path, "HEAD", "clusters", max_bytes=1000,
                                                  is_cluster_file=is_cluster_file)

    assert files["clusters/a.yaml"] == b"a: 1\n"
    assert "clusters/big.yaml" not in files  # over the size limit: never read
    assert sorted(f.file for f in findings) == ["clusters/big.yaml", "clusters/tab\\tname.yaml",
                                                "clusters/zero\\u200bwidth.yaml"]


def test_an_unknown_revision_is_named(tmp_path: Path) -> None:
    _commit(tmp_path, FILES)

    with pytest.raises(GitError, match="unknown git revision 'no-such-branch'"):
        gitsource.read_commit_files(tmp_path, "no-such-branch", "clusters", max_bytes=100,
                                    is_cluster_file=is_cluster_file)


@pytest.mark.parametrize(("path", "expected"), [
    ("clusters/a.yaml", b"a: 1\n"),
    ("clusters/sp ace.yaml", b"space\n"),
    ("clusters/caf\u00e9.yaml", b"accent\n"),
    ("clusters", None),            # a folder
    ("clusters/none.yaml", None),  # not in the commit
    ("./clusters/a.yaml", None),   # as the tree walk reads it: no such entry
    ("clusters//a.yaml", None),
])
def test_read_file_at_reads_one_file_of_the_commit(tmp_path: Path, path: str,
                                                   expected: bytes | None) -> None:
    _commit(tmp_path, FILES)
    (tmp_path / "clusters/a.yaml").write_bytes(b"changed\n")

    assert gitsource.read_file_at(tmp_path, "HEAD", path) == expected


def test_read_file_at_an_unknown_revision_is_named(tmp_path: Path) -> None:
    _commit(tmp_path, FILES)

    with pytest.raises(GitError, match="unknown git revision 'nope'"):
        gitsource.read_file_at(tmp_path, "nope", "clusters/a.yaml")


def test_head_sha_reads_the_refs(tmp_path: Path) -> None:
    git.Repo.init(tmp_path, initial_branch="main").close()
    assert gitsource.head_sha(tmp_path) is None  # no commit yet

    sha = _commit(tmp_path, FILES)

    assert gitsource.head_sha(tmp_path) == sha


def test_head_sha_reads_packed_refs_and_a_detached_head(tmp_path: Path) -> None:
    """As a CI checkout leaves a repository: refs packed, HEAD the commit itself."""
    sha = _commit(tmp_path, FILES)
    repo = git.Repo(tmp_path)
    repo.git.pack_refs("--all")
    assert not (tmp_path / ".git/refs/heads/main").exists()
    assert gitsource.head_sha(tmp_path) == sha

    repo.git.checkout("--detach")
    repo.close()

    assert (tmp_path / ".git/HEAD").read_text().strip() == sha
    assert gitsource.head_sha(tmp_path) == sha


@pytest.mark.parametrize("folder", ["clusters", "./clusters/", "clusters//"])
def test_read_tree_files_reads_every_yaml_file_of_the_folder_at_the_commit(
        tmp_path: Path, folder: str) -> None:
    """The base of a pull request, read for its plan: no size limit, a link's own contents."""
    _commit(tmp_path, FILES, links={"clusters/link.yaml": "a.yaml"})
    (tmp_path / "clusters/a.yaml").write_bytes(b"changed\n")

    files = gitsource.read_tree_files(tmp_path, "HEAD", folder)

    assert files == {path: data for path, data in FILES.items()
                     if path.startswith("clusters/") and path.endswith((".yaml", ".yml"))
                     and "/." not in path} | {"clusters/link.yaml": b"a.yaml"}


@pytest.mark.parametrize("folder", ["nowhere", "elsewhere/../clusters"])
def test_read_tree_files_of_a_folder_the_commit_lacks_is_empty(tmp_path: Path,
                                                                folder: str) -> None:
    _commit(tmp_path, FILES)

    assert gitsource.read_tree_files(tmp_path, "HEAD", folder) == {}


@pytest.mark.parametrize("rev", ["nope", "--output=x", "-h"])
def test_read_tree_files_names_an_unknown_revision(tmp_path: Path, rev: str) -> None:
    """A revision that git would read as an option is unknown too, and git is not run."""
    _commit(tmp_path, FILES)

    with pytest.raises(GitError, match=f"unknown git revision '{rev}'"):
        gitsource.read_tree_files(tmp_path, rev, "clusters")
    with pytest.raises(GitError, match=f"unknown git revision '{rev}'"):
        gitsource.read_commit_files(tmp_path, rev, "clusters", max_bytes=100,
                                    is_cluster_file=is_cluster_file)
    assert not (tmp_path / "x").exists()


def test_a_short_name_git_finds_ambiguous_is_told_apart_from_a_blob(tmp_path: Path) -> None:
    """``git cat-file`` answers ``NAME ambiguous`` (no size, no contents) for a short name
    two objects share: read as such, not as a blob's header."""
    _commit(tmp_path, {"clusters/a.yaml": b"a: 1\n"})
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    for n in range(1500):  # enough objects for two to share their first four hex digits
        (blobs / str(n)).write_text(f"blob {n}\n")
    shas = subprocess.run(["git", "hash-object", "-w", "--stdin-paths"], cwd=tmp_path,
                          input="\n".join(str(blobs / str(n)) for n in range(1500)),
                          capture_output=True, text=True, check=True).stdout.split()
    prefixes = [sha[:4] for sha in shas]
    short = next(p for p in prefixes if prefixes.count(p) > 1)
    found = gitsource._batch(tmp_path, "--batch", [short, "HEAD:clusters/a.yaml"])
    with pytest.raises(GitError, match=f"git cannot tell which object {short} is"):
        gitsource._cat_file(tmp_path, "--batch", {short})

    assert [header for _, header, _ in found] == [["ambiguous"], ["blob", "5"]]
    assert found[1][2] == b"a: 1\n"
    with pytest.raises(GitError, match=f"unknown git revision '{short}'"):
        gitsource.read_file_at(tmp_path, short, "clusters/a.yaml")
