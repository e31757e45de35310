"""The repository as loaded: the settings and the desired clusters of the working tree or of
the commit HEAD points at, with every finding (``load_workspace``, ``collect_findings``). The
edge between git's files and the desired state; ``validate`` needs nothing beyond it, and
``run`` plans from what it returns."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import Finding, ValidationError
from reconciler.model import DesiredCluster, DesiredState, SecretRef
from reconciler.sources import gitsource, loader, settings_loader
from reconciler.sources.settings import Settings

if TYPE_CHECKING:  # a self-managed cluster's output is read only where a document names one
    from reconciler.sources.selfmanaged import OutputRead, OutputReader


@dataclass(frozen=True)
class Workspace:
    """The repository as loaded: settings, desired clusters, and non-fatal findings."""

    root: Path
    settings: Settings
    desired: DesiredState
    warnings: tuple[Finding, ...] = ()


def collect_findings(root: Path, settings: Settings, path: str | None = None) -> tuple[
        dict[str, DesiredCluster], list[Finding]]:
    """Read and validate every cluster document; with ``path``, report only what lies under it
    (defaults documents in parent folders still apply, so the whole folder is read)."""
    _, clusters, found = _read_desired(root, settings)
    if path and path not in (".", ""):
        prefix = path.rstrip("/")
        found = [f for f in found if f.file == prefix or f.file.startswith(prefix + "/")]
        clusters = {n: c for n, c in clusters.items()
                    if c.source.file == prefix or c.source.file.startswith(prefix + "/")}
    return clusters, found


def _read_desired(root: Path, settings: Settings) -> tuple[
        dict[str, bytes], dict[str, DesiredCluster], list[Finding]]:
    files, read_findings = loader.read_cluster_files(root, settings.clusters_dir,
                                                     max_bytes=settings.max_file_bytes)
    return _desired_from(root, settings, files, read_findings)


def _desired_from(root: Path, settings: Settings, files: dict[str, bytes],
                  read_findings: list[Finding]) -> tuple[
        dict[str, bytes], dict[str, DesiredCluster], list[Finding]]:
    """The desired clusters of ``files`` and every finding, the reading's ones included."""
    clusters, findings = loader.load_desired(files, max_bytes=settings.max_file_bytes,
                                             read_output=output_reader(root))
    found = sorted({*(f.tagged("file") for f in read_findings), *findings},
                   key=lambda f: (f.file, f.line, f.col, f.message))
    return files, clusters, found


def output_reader(root: Path) -> OutputReader:
    """``aws.terraform``'s reader of a self-managed cluster's output, loaded with the first
    document that names one (``run`` reads older commits with it too)."""
    def read(ref: SecretRef) -> OutputRead:
        from reconciler.aws.terraform import output_reader

        return output_reader(root)(ref)

    return read


@dataclass(frozen=True)
class Configured:
    """The settings a run works with, read before the cluster files: enough to open the Grid
    client (and start listing) while those load."""

    settings: Settings
    #: the settings file's bytes (part of the desired state's digest)
    data: bytes
    #: the commit HEAD points at (None outside git, or before the first commit)
    sha: str | None
    in_git: bool
    #: the settings (and the cluster files to come) are the commit's, not the working tree's
    from_commit: bool


def read_settings(root: Path, settings_file: str, *, settings_required: bool = False,
                  from_commit: bool = False) -> Configured:
    """The settings at the working tree, or (``from_commit``) in the commit HEAD points at."""
    settings = settings_loader.load_settings(root, settings_file, required=settings_required)
    in_git = gitsource.find_repo_root(root) is not None
    sha = gitsource.head_sha(root) if in_git else None
    data = (root / settings_file).read_bytes() if (root / settings_file).is_file() else b""
    if from_commit and sha is not None:
        data = gitsource.read_file_at(root, sha, settings_file) or b""
        if data:
            committed, problems = settings_loader.parse_settings(data, settings_file)
            if committed is None:
                raise ValidationError(problems)
            settings = committed
    return Configured(settings=settings, data=data, sha=sha, in_git=in_git,
                      from_commit=from_commit and sha is not None)


@dataclass(frozen=True)
class GitRead:
    """What a run reads from git itself, before a file is parsed: apply has it read while the
    Grid client and the state lock are made ready (``read_git``)."""

    #: the cluster files of the commit, by repo-relative path (None: the run reads the
    #: working tree)
    files: dict[str, bytes] | None
    #: what reading them found: names that cannot be shown, files too large, broken links
    findings: tuple[Finding, ...]
    #: the YAML files under the clusters folder, and the settings file, that differ from HEAD
    uncommitted: tuple[str, ...]


def read_git(root: Path, settings_file: str, conf: Configured) -> GitRead:
    """The commit's cluster files (when ``conf`` is the commit's) and what is uncommitted."""
    settings = conf.settings
    files: dict[str, bytes] | None = None
    findings: list[Finding] = []
    if conf.from_commit and conf.sha is not None:
        files, findings = gitsource.read_commit_files(
            root, conf.sha, settings.clusters_dir, max_bytes=settings.max_file_bytes,
            is_cluster_file=loader.is_cluster_file)
    dirty = gitsource.uncommitted_files(root, settings.clusters_dir, settings_file) \
        if conf.in_git else ()
    return GitRead(files=files, findings=tuple(findings), uncommitted=dirty)


def load_workspace(root: Path, settings_file: str, *, settings_required: bool = False,
                   from_commit: bool = False, configured: Configured | None = None,
                   git_read: GitRead | None = None) -> Workspace:
    """Settings + desired state at the working tree, or (``from_commit``, for apply) from the
    objects of the commit HEAD points at, never the files on disk; any error finding stops
    everything. ``configured``: the settings already read (``read_settings``); ``git_read``:
    what git holds for them, already read (``read_git``)."""
    conf = configured or read_settings(root, settings_file, settings_required=settings_required,
                                       from_commit=from_commit)
    settings = conf.settings
    read = git_read or read_git(root, settings_file, conf)
    if read.files is not None:
        files, clusters, findings = _desired_from(root, settings, read.files,
                                                  list(read.findings))
    else:
        files, clusters, findings = _read_desired(root, settings)
    if any(f.severity == "error" for f in findings):
        raise ValidationError(findings)
    desired = DesiredState(clusters=clusters, git_sha=conf.sha, uncommitted=read.uncommitted,
                           digest=_digest(conf.data, files))
    return Workspace(root=root, settings=settings, desired=desired,
                     warnings=tuple(f for f in findings if f.severity != "error"))


def _digest(settings_bytes: bytes, files: Mapping[str, bytes]) -> str:
    """What the desired state was made from: the settings file and every cluster file."""
    digest = hashlib.sha256(settings_bytes)
    for name, data in sorted(files.items()):
        digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()
