"""Reading ``gridops.yaml``: parse with ``yamlsafe``, check with the settings schema, build
``Settings``. ``parse_settings`` is pure; ``load_settings`` is the edge that reads the file.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, Finding, ValidationError
from reconciler.gridurl import KIND_SIM, SIM_SCHEME, check_grid_url
from reconciler.printable import has_unsafe, printable
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
    """What the schema cannot say: every path inside the repository, a Grid URL credentials
    may go to, a real region. Runs beside the schema, so a value of the wrong type is left
    to it."""
    data = _mapping(document.value)
    findings = []
    for path, what in ((("clustersDir",), "a folder"), (("state", "path"), "a file")):
        value = _mapping(data.get(path[0])).get(path[1]) if len(path) > 1 else data.get(path[0])
        if isinstance(value, str) and _escapes_repository(value):
            findings.append(document.finding(path, f"{'.'.join(path)} {printable(value)!r} "
                                                   f"must be {what} inside the repository"
                                             ).tagged("settings"))
    url = data.get("gridUrl")
    if isinstance(url, str):
        findings += [document.finding(("gridUrl",), problem).tagged("grid-url")
                     for problem in _url_problems(url)]
    region = _mapping(data.get("state")).get("region")
    problem = rules.check_region(region) if isinstance(region, str) and region else None
    if problem:
        findings.append(document.finding(("state", "region"), problem).tagged("region"))
    return findings


def _escapes_repository(path: str) -> bool:
    normal = posixpath.normpath(path.replace("\\", "/"))
    return normal.startswith(("/", "../", "~")) or normal == ".." or has_unsafe(path)


def _url_problems(url: str) -> list[str]:
    """Why the settings' gridUrl is refused (the URL policy; a sim:// database inside the
    repository), or nothing."""
    try:
        target = check_grid_url(url)
    except ConfigError as e:
        return [f"gridUrl: {e.message}" + (f" ({e.hint})" if e.hint else "")]
    if target.kind == KIND_SIM and _escapes_repository(url[len(SIM_SCHEME):].partition("?")[0]):
        return [f"gridUrl: the emulator's database {url!r} must be a file inside the "
                "repository (sim://.gridops/sim.db)"]
    return []


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
