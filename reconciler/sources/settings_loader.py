"""Reading ``gridops.yaml``: parse with ``yamlsafe``, check with the settings schema, build
``Settings``. ``parse_settings`` is pure; ``load_settings`` is the edge that reads the file.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, Finding, ValidationError
from reconciler.sources import rules
from reconciler.sources.schema import SETTINGS_SCHEMA, validate_document
from reconciler.sources.settings import DEFAULT_MAX_BYTES, SETTINGS_FILE, Settings
from reconciler.sources.validate import combine_findings
from reconciler.sources.yamlsafe import (
    YamlDocument,
    parse_documents,
    too_large,
)


def load_settings(repo_root: Path, file: str = SETTINGS_FILE, *,
                  required: bool = False) -> Settings:
    """The settings in ``repo_root/file``; the defaults when the file does not exist, unless
    ``required`` (the user named the file: a missing one is a mistake, not a choice).
    Raises ``ConfigError`` for a required file that is missing, ``ValidationError`` with every
    finding when the file is not valid."""
    path = repo_root / file
    if not path.is_file():
        if required:
            raise ConfigError(f"settings file {file} does not exist (looked in {repo_root})",
                              hint="check --settings: it names a file relative to the "
                                   "repository root")
        return Settings(file=file)
    size = path.stat().st_size
    if size > DEFAULT_MAX_BYTES:  # refused before it is read
        raise ValidationError([too_large(file, size, DEFAULT_MAX_BYTES)])
    settings, findings = parse_settings(path.read_bytes(), file)
    if settings is None:
        raise ValidationError(findings)
    return settings


def parse_settings(data: bytes,
                   file: str = SETTINGS_FILE) -> tuple[Settings | None, list[Finding]]:
    """``Settings`` from the bytes of a settings file, or ``None`` and every finding."""
    documents, findings = parse_documents(data, file)
    documents = [d for d in documents if d.value is not None]
    if len(documents) > 1:
        findings.append(documents[1].finding((), f"{file} holds one document, not "
                                                  f"{len(documents)}: remove the others"))
    document = documents[0] if documents else YamlDocument({}, file, 1)
    # A value the YAML layer already refused (a bare `yes`) is not reported again.
    hazard_places = {(f.line, f.col) for f in findings}
    problems = combine_findings(validate_document(document, SETTINGS_SCHEMA), _check(document))
    findings += [f for f in problems if (f.line, f.col) not in hazard_places]
    if findings:
        return None, sorted(findings, key=lambda f: (f.line, f.col))
    return Settings.from_mapping(document.value, file=file), []


def _check(document: YamlDocument) -> list[Finding]:
    """What the schema cannot say: a clusters folder inside the repository, a real region.
    Runs beside the schema, so a value of the wrong type is left to it."""
    data = _mapping(document.value)
    findings = []
    clusters_dir = data.get("clustersDir")
    normal = posixpath.normpath(clusters_dir) if isinstance(clusters_dir, str) else ""
    if normal.startswith(("/", "..")):
        findings.append(document.finding(("clustersDir",), f"clustersDir {clusters_dir!r} must "
                                                           "be a folder inside the repository"
                                        ).tagged("settings"))
    region = _mapping(data.get("state")).get("region")
    problem = rules.check_region(region) if isinstance(region, str) and region else None
    if problem:
        findings.append(document.finding(("state", "region"), problem).tagged("region"))
    return findings


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
