"""Cluster documents -> desired clusters.

``load_desired`` is pure: it takes the bytes of every file under the clusters folder (read from
the working tree or from a git revision by the caller) and returns the desired clusters with
every finding at once. Steps: parse (``yamlsafe``), schema (``schema``) and per-document checks
(``validate``) side by side, ``GridClusterDefaults`` merged into the clusters of their folder
and below, then the checks that need the merged result. ``read_cluster_files`` is the thin
edge that reads the working tree.
"""

from __future__ import annotations

import gc
import os
import posixpath
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import Finding
from reconciler.model import (
    PROFILE_BY_NAME,
    DesiredCluster,
    InstanceSpec,
    SecretRef,
    SourceLocation,
)
from reconciler.printable import has_unsafe, printable
from reconciler.sources.gitsource import read_twice
from reconciler.sources.schema import CLUSTER_SCHEMA, validate_document
from reconciler.sources.secrets import PATH_PARAM, parse_secret_ref
from reconciler.sources.settings import DEFAULT_MAX_BYTES
from reconciler.sources.validate import (
    KIND_CLUSTER,
    KIND_DEFAULTS,
    check_document,
    check_required,
    check_unique_names,
    combine_findings,
)
from reconciler.sources.yamlsafe import (
    YamlDocument,
    parse_documents,
    too_large,
)

if TYPE_CHECKING:  # a self-managed cluster's output is read only where a document names one
    from reconciler.sources.selfmanaged import OutputReader, OutputSpec

CLUSTER_FILE_SUFFIXES = (".yaml", ".yml")

#: Secret reference kinds read from AWS: without a ``region`` they use the cluster's region.
AWS_SECRET_KINDS = frozenset({"fromSsm", "fromSecretsManager", "fromTerraformState"})


@dataclass(frozen=True)
class _Parsed:
    """A document with its kind, and whether it passed the schema and the per-document checks."""

    document: YamlDocument
    kind: str
    valid: bool


def load_desired(files: Mapping[str, bytes], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 read_output: OutputReader | None = None
                 ) -> tuple[dict[str, DesiredCluster], list[Finding]]:
    """The desired clusters by name, and every finding sorted by file and line.

    ``files`` maps repo-relative POSIX paths under the clusters folder to their bytes; a file
    longer than ``max_bytes`` is a finding, not parsed. ``read_output`` reads the terraform
    output of a ``selfManaged`` cluster (without it, such a cluster is a finding). The
    clusters are only meaningful when no finding is an error: callers stop on any.
    """
    with _gc_paused():
        parsed, findings = _parse_all(files, max_bytes)
    clusters = [p for p in parsed if p.kind == KIND_CLUSTER]
    defaults, broken_folders, more = _index_defaults([p for p in parsed if p.kind == KIND_DEFAULTS])
    findings += more + check_unique_names(p.document for p in clusters)
    desired: dict[str, DesiredCluster] = {}
    #: per folder: its defaults documents, farthest first, and the fields they write
    folder_layers: dict[str, tuple[list[YamlDocument], dict[str, SourceLocation]]] = {}
    for cluster in clusters:
        folder = posixpath.dirname(cluster.document.file)
        if not cluster.valid or any(_covers(b, folder) for b in broken_folders):
            continue
        if folder not in folder_layers:
            found = [d for f, d in sorted(defaults.items()) if _covers(f, folder)]
            folder_layers[folder] = found, _written_by(found)
        layers, layer_sources = folder_layers[folder]
        values = [d.value for d in layers]
        output: OutputSpec | None = None
        if "selfManaged" in cluster.document.value.get("spec", {}):
            output, problems = _read_self_managed(cluster.document, read_output)
            findings += problems
            if output is None or any(f.severity == "error" for f in problems):
                continue
            values.append({"spec": output.spec})
        merged = merge_defaults(cluster.document.value, values)
        missing = check_required(cluster.document, merged["spec"])
        findings += missing
        if not missing:
            built = build_cluster(cluster.document, merged, output)
            desired.setdefault(built.name, replace(
                built, field_sources=_sources(layers, cluster.document, output,
                                              layer_sources)))
    return desired, sort_findings(findings)


def _read_self_managed(document: YamlDocument, read_output: OutputReader | None
                       ) -> tuple[OutputSpec | None, list[Finding]]:
    """The output a GridCluster's ``spec.selfManaged`` names, read and checked; findings at
    ``spec.selfManaged`` name the document and the output."""
    spec = document.value["spec"]

    def at(message: str) -> Finding:
        return document.finding(("spec", "selfManaged"), f"spec.selfManaged: {message}"
                                ).tagged("self-managed")

    source = parse_secret_ref(spec["selfManaged"])  # the schema checked its shape
    if not isinstance(source, SecretRef):
        return None, [at(source)]
    if read_output is None:
        return None, [at("terraform outputs are not read here")]
    read = read_output(source)
    warnings = [replace(at(w), severity="warning") for w in read.warnings]
    if read.problem:
        return None, [at(read.problem), *warnings]
    from reconciler.sources.selfmanaged import check_output_fields, read_create_body

    output = read_create_body(read.value, source)
    problems = output if isinstance(output, list) else check_output_fields(output.spec, spec)
    name = document.value["metadata"]["name"]
    if not isinstance(output, list) and output.name not in (None, name):
        problems.append(f"'name' is {output.name!r}, but the document's metadata.name is "
                        f"{name!r}: they must be equal")
    findings = [at(f"{read.where}: {p}") for p in problems]
    if isinstance(output, list):
        return None, findings + warnings
    inputs = (("source", read.where), ("digest", output.digest),
              ("serial", "" if read.serial is None else str(read.serial)),
              ("lineage", read.lineage))
    return replace(output, inputs=inputs), findings + warnings


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Unique findings ordered by file, line, column."""
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.col, f.message))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while loading: parsing makes many objects and no cycles
    worth collecting, and the collector's passes over them cost about a quarter of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_all(files: Mapping[str, bytes],
               max_bytes: int) -> tuple[list[_Parsed], list[Finding]]:
    parsed: list[_Parsed] = []
    findings: list[Finding] = []
    for file in sorted(files):
        documents, hazards = parse_documents(files[file], file, max_bytes=max_bytes)
        hazards = [h.tagged("yaml") for h in hazards]
        findings += hazards
        # A value the YAML layer already refused (a bare `no`) is not reported again.
        hazard_places = {(f.line, f.col) for f in hazards}
        for document in documents:
            if document.value is None:  # an empty document, e.g. after a leading '---'
                continue
            problems = combine_findings(validate_document(document, CLUSTER_SCHEMA),
                                        check_document(document))
            findings += [f for f in problems if (f.line, f.col) not in hazard_places]
            kind = document.value.get("kind") if isinstance(document.value, dict) else None
            parsed.append(_Parsed(document, str(kind), valid=not problems))
    return parsed, findings


def _index_defaults(
    defaults: Sequence[_Parsed],
) -> tuple[dict[str, YamlDocument], set[str], list[Finding]]:
    """Valid defaults by folder, folders whose defaults are broken, and a finding for each
    folder with more than one defaults document."""
    first: dict[str, YamlDocument] = {}
    by_folder: dict[str, YamlDocument] = {}
    broken: set[str] = set()
    findings: list[Finding] = []
    for item in defaults:
        folder = posixpath.dirname(item.document.file)
        other = first.setdefault(folder, item.document)
        if other is not item.document:
            findings += [_second_defaults(item.document, other),
                         _second_defaults(other, item.document)]
        if other is not item.document or not item.valid:
            broken.add(folder)
        else:
            by_folder[folder] = item.document
    return by_folder, broken, findings


def _second_defaults(here: YamlDocument, other: YamlDocument) -> Finding:
    return here.finding(("kind",), f"another GridClusterDefaults document for folder "
                                   f"{posixpath.dirname(here.file) or '.'} is at "
                                   f"{other.file}:{other.start_line}: keep one per folder"
                        ).tagged("defaults")


def _covers(folder: str, file_folder: str) -> bool:
    return folder in ("", file_folder) or file_folder.startswith(folder + "/")


def merge_defaults(cluster: Mapping[str, Any],
                   layers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``cluster`` with its defaults applied; ``layers`` run from the farthest folder to the
    nearest. Nearer wins, the cluster's own fields win; lists and secret references replace;
    ``spec.aws`` and ``metadata.labels`` merge key by key."""
    spec: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for layer in [*layers, cluster]:
        for key, value in layer.get("spec", {}).items():
            spec[key] = {**spec.get("aws", {}), **value} if key == "aws" else value
        labels.update(layer.get("metadata", {}).get("labels", {}))
    metadata = {**cluster.get("metadata", {}), "labels": labels}
    return {**cluster, "metadata": metadata, "spec": spec}


def _sources(layers: Sequence[YamlDocument], document: YamlDocument,
             output: OutputSpec | None, layer_sources: dict[str, SourceLocation]
             ) -> tuple[tuple[str, SourceLocation], ...]:
    """``field_sources``, from ``layer_sources`` (what ``layers``, the defaults, write: the
    same for every cluster of a folder, so worked out once), with the fields a self-managed
    cluster's output sets between its defaults and its own document (named by the output,
    line 0)."""
    found = dict(layer_sources)
    if output is not None:
        where = SourceLocation(dict(output.inputs).get("source", "terraform output"))
        for key, value in output.spec.items():
            if key == "aws":
                found.update((f"spec.aws.{k}", where) for k in value)
            elif key == "instanceTypes":
                found = {k: v for k, v in found.items()
                         if not k.startswith("spec.instanceTypes")}
                found.update((f"spec.instanceTypes[{i['name']}]", where) for i in value)
            else:
                found[f"spec.{key}"] = where
        found.update((f"driver.kubernetes.{k}", where) for k in output.kubernetes)
        found.update((path, where) for path in output.secrets)
    _add_sources(found, document)
    return tuple(sorted(found.items()))


def field_sources(documents: Sequence[YamlDocument]) -> tuple[tuple[str, SourceLocation], ...]:
    """Where each merged ``spec`` field was written (see ``DesiredCluster.field_sources``):
    ``documents`` run from the farthest defaults to the cluster itself, and the last one to
    write a field wins, as in ``merge_defaults``."""
    return tuple(sorted(_written_by(documents).items()))


def _written_by(documents: Sequence[YamlDocument]) -> dict[str, SourceLocation]:
    found: dict[str, SourceLocation] = {}
    for document in documents:
        _add_sources(found, document)
    return found


def _add_sources(found: dict[str, SourceLocation], document: YamlDocument) -> None:
    """``found`` with the fields ``document`` writes, over those written before it."""
    def at(*path: str) -> SourceLocation:
        key = ("spec", *path)
        where = document.key_positions.get(key) or document.position(key, at_key=True)
        return SourceLocation(document.file, where[0])

    spec = document.value.get("spec") if isinstance(document.value, dict) else None
    for key, value in (spec or {}).items():
        if key == "aws" and isinstance(value, dict):
            found.update((f"spec.aws.{k}", at("aws", k)) for k in value)
            continue
        found[f"spec.{key}"] = at(key)
        if key == "instanceTypes" and isinstance(value, list):
            for stale in [k for k in found if k.startswith("spec.instanceTypes[")]:
                del found[stale]  # lists replace
            found.update(_instance_sources(document, value))


def _instance_sources(document: YamlDocument,
                      items: Sequence[Any]) -> Iterator[tuple[str, SourceLocation]]:
    for i, item in enumerate(items):
        name = item if isinstance(item, str) else item.get("name") if isinstance(
            item, dict) else None
        if not isinstance(name, str):
            continue
        line = document.position(("spec", "instanceTypes", i))[0]
        yield f"spec.instanceTypes[{name}]", SourceLocation(document.file, line)
        for key in item if isinstance(item, dict) else ():
            pos = document.position(("spec", "instanceTypes", i, key), at_key=True)[0]
            yield f"spec.instanceTypes[{name}].{key}", SourceLocation(document.file, pos)


def build_cluster(document: YamlDocument, merged: Mapping[str, Any],
                  output: OutputSpec | None = None) -> DesiredCluster:
    """The ``DesiredCluster`` for a merged, validated GridCluster document (and the
    terraform output of a self-managed one)."""
    spec = merged["spec"]
    external_id = parse_secret_ref(spec["externalId"])
    if not isinstance(external_id, SecretRef):  # checked per document before merging
        raise AssertionError(external_id)
    if not any(key == PATH_PARAM for key, _ in external_id.params):
        external_id = with_default_region(external_id, spec["region"])
    extra = {"kubernetes_extra": tuple(sorted(output.kubernetes.items())),
             "extra_secrets": tuple(sorted(output.secrets.items())),
             "inputs": output.inputs} if output else {}
    return DesiredCluster(
        name=merged["metadata"]["name"],
        region=spec["region"],
        role_arn=spec["roleArn"],
        external_id=external_id,
        performance_profile=PROFILE_BY_NAME[spec.get("performanceProfile", "default")],
        instance_types=tuple(_instance_spec(item) for item in spec["instanceTypes"]),
        deletion_protection=bool(spec.get("deletionProtection", False)),
        labels=tuple(sorted(merged["metadata"]["labels"].items())),
        aws_extra=tuple(sorted(spec.get("aws", {}).items())),
        source=SourceLocation(document.file, document.start_line),
        **extra,
    )


def with_default_region(ref: SecretRef, region: str) -> SecretRef:
    """``ref`` with ``region`` added when it is read from AWS and names no region of its own
    (the schema's promise: unset means the cluster's region); any other ``ref`` as it is."""
    if ref.kind not in AWS_SECRET_KINDS or any(key == "region" for key, _ in ref.params):
        return ref
    return replace(ref, params=tuple(sorted((*ref.params, ("region", region)))))


def _instance_spec(item: str | Mapping[str, Any]) -> InstanceSpec:
    if isinstance(item, str):
        return InstanceSpec(name=item)
    volume = item.get("rootVolumeGiB")
    return InstanceSpec(name=item["name"],
                        overprovisioned_on_demand=int(item.get("overprovisionedOnDemand", 0)),
                        root_volume_gib=None if volume is None else int(volume))


# --- the edge: reading the working tree --------------------------------------------------------

def read_cluster_files(repo_root: Path, clusters_dir: str, *,
                       max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[dict[str, bytes],
                                                                    list[Finding]]:
    """The bytes of every ``*.yaml``/``*.yml`` file under ``clusters_dir`` (a folder, or one
    file), keyed by POSIX path relative to ``repo_root``, sorted. Hidden folders are skipped;
    a symlink that leads out of the repository is refused (a finding), as is a missing
    clusters folder, and a file larger than ``max_bytes`` (its size is checked before it is
    read)."""
    root = repo_root.resolve()
    top = repo_root / clusters_dir
    problem = _symlink_problem(top, root)
    if problem:
        return {}, [Finding(clusters_dir, 0, 0, f"clusters folder: {problem}")]
    if not _inside(top, root):
        return {}, [Finding(clusters_dir, 0, 0, f"clusters folder {clusters_dir!r} is outside "
                                                "the repository: set clustersDir to a folder "
                                                "in it")]
    if not top.exists():
        return {}, [Finding(clusters_dir, 0, 0, f"clusters folder {clusters_dir!r} does not "
                                                f"exist: create it (mkdir -p {clusters_dir}) "
                                                "and add GridCluster documents, or set "
                                                "clustersDir in gridops.yaml")]
    files: dict[str, bytes] = {}
    findings: list[Finding] = []
    top_key = top.relative_to(repo_root).as_posix()
    paths = _walk(top, top_key, root, findings) if top.is_dir() else [(top_key, top)]
    for key, path in paths:
        try:
            status = path.stat()
            if not stat.S_ISREG(status.st_mode):
                continue
            if status.st_size > max_bytes:
                findings.append(too_large(key, status.st_size, max_bytes))
                continue
            files[key] = path.read_bytes()
        except OSError as e:
            findings.append(Finding(key, 1, 1, f"cannot read the file: {e.strerror}"))
    return files, findings


def is_cluster_file(name: str) -> bool:
    """``.yaml`` or ``.yml`` in any case (``.YAML`` too: never silently skipped)."""
    return name.lower().endswith(CLUSTER_FILE_SUFFIXES)


def _walk(top: Path, top_key: str, root: Path, findings: list[Finding],
          ancestors: frozenset[str] = frozenset(),
          read_as: dict[str, str] | None = None) -> list[tuple[str, Path]]:
    """Cluster files under ``top`` (whose repo-relative path is ``top_key``), sorted, each
    with its repo-relative path. A symlinked folder inside the repository is followed (once
    per real folder on the way down, so a loop ends with a finding); a name with control
    characters is a finding and is not read. A link leading out of the repository is a
    finding here, so no file returned is one."""
    found: list[tuple[str, Path]] = []
    real = os.path.realpath(top)
    ancestors = ancestors | {real}
    read_as = {real: top_key} if read_as is None else read_as  # each real folder read so far
    with os.scandir(top) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        key, path = f"{top_key}/{entry.name}", top / entry.name
        if has_unsafe(entry.name):
            findings.append(Finding(printable(key), 0, 0, "the file name holds control or "
                                    "invisible characters: rename it"))
            continue
        problem = _symlink_problem(path, root) if entry.is_symlink() else None
        if problem:  # a broken link is reported whatever its name: it may have been a folder
            findings.append(Finding(printable(key), 1, 1, problem))
            continue
        if entry.is_dir():
            target = os.path.realpath(path)
            if target in ancestors:
                findings.append(Finding(printable(key), 1, 1, "symlinked folder loops back to "
                                        f"{printable(os.readlink(path))}: remove the link"))
                continue
            if target in read_as:
                findings.append(Finding(printable(key), 1, 1, read_twice(read_as[target])))
                continue
            read_as[target] = key
            found += _walk(path, key, root, findings, ancestors, read_as)
        elif is_cluster_file(entry.name):
            found.append((key, path))
    return found


def _symlink_problem(path: Path, root: Path) -> str | None:
    if not path.is_symlink():
        return None
    target = printable(os.readlink(path))
    try:
        inside = _inside(path, root)
    except (RuntimeError, OSError):  # Python's "Symlink loop", ELOOP
        return f"symlink loop (to {target}): fix or remove the link"
    if not inside:
        return f"symlink leads outside the repository (to {target}): refused"
    if not path.exists():
        return f"symlink leads nowhere (to {target}): fix or remove it"
    return None


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)
