"""Repository settings: ``gridops.yaml`` at the repository root.

    apiVersion: gridops/v1
    kind: Settings
    gridUrl: sim://.gridops/sim.db     # GRID_URL overrides; default https://platform.grid.ai
    clustersDir: clusters
    state: {backend: local, path: .gridops/state.json}
    #   or {backend: s3, bucket: ..., key: ..., region: ..., lockTable: ...(optional)}
    prune: true
    maxDeletes: 1
    selfHeal: true                     # scheduled runs apply after drift (false: report only)
    awsChecks: auto                    # preflight + sweeps: auto (off for sim://), always, never
    github: {labels: true}
    maxFileBytes: 1048576              # the largest cluster file read (1 MiB)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_GRID_URL = "https://platform.grid.ai"
SETTINGS_FILE = "gridops.yaml"
#: The largest file read by default (``maxFileBytes`` changes it for the cluster files).
DEFAULT_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StateSettings:
    """``backend`` is ``local`` (``path`` relative to the repo root) or ``s3`` (``bucket``,
    ``key``, ``region``; ``lock_table`` names a DynamoDB table, else an S3 lock object)."""

    backend: str = "local"
    path: str = ".gridops/state.json"
    bucket: str = ""
    key: str = "gridops/state.json"
    region: str = ""
    lock_table: str = ""


@dataclass(frozen=True)
class Settings:
    """``grid_url`` as written (``GRID_URL`` is applied by the CLI, not here);
    ``max_deletes``: the most deletes one plan may hold; ``prune``: delete owned clusters that
    left git; ``self_heal``: scheduled runs apply, not only report."""

    grid_url: str = DEFAULT_GRID_URL
    clusters_dir: str = "clusters"
    state: StateSettings = field(default_factory=StateSettings)
    prune: bool = True
    max_deletes: int = 1
    self_heal: bool = True
    github_labels: bool = True
    #: ``auto`` (on for a real Grid, off for the emulator: sim:// or loopback), ``always`` or
    #: ``never``: preflight in plan and the sweep after a finished delete
    aws_checks: str = "auto"
    #: the largest cluster file read, in bytes; a larger one is a finding, never parsed
    max_file_bytes: int = DEFAULT_MAX_BYTES
    #: the settings file, relative to the repo root (a repo may hold several)
    file: str = SETTINGS_FILE

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, file: str = SETTINGS_FILE) -> Settings:
        """Build from an already schema-validated mapping."""
        state = data.get("state", {})
        return cls(
            grid_url=str(data.get("gridUrl", DEFAULT_GRID_URL)),
            clusters_dir=str(data.get("clustersDir", "clusters")),
            state=StateSettings(
                backend=str(state.get("backend", "local")),
                path=str(state.get("path", ".gridops/state.json")),
                bucket=str(state.get("bucket", "")),
                key=str(state.get("key", "gridops/state.json")),
                region=str(state.get("region", "")), lock_table=str(state.get("lockTable", "")),
            ),
            prune=bool(data.get("prune", True)),
            max_deletes=int(data.get("maxDeletes", 1)),
            self_heal=bool(data.get("selfHeal", True)),
            github_labels=bool(data.get("github", {}).get("labels", True)),
            aws_checks=str(data.get("awsChecks", "auto")),
            max_file_bytes=int(data.get("maxFileBytes", DEFAULT_MAX_BYTES)),
            file=file,
        )
