"""Helpers for the loading tests: cluster repositories written as real files in tmp dirs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.model import DesiredCluster
from reconciler.sources.loader import load_desired, read_cluster_files

#: A valid cluster document; tests format in what they change.
CLUSTER = """\
apiVersion: gridops/v1
kind: GridCluster
metadata:
  name: {name}
spec:
  region: us-east-1
  roleArn: arn:aws:iam::123456789012:role/grid-byoc
  externalId: {{fromEnv: GRID_EXTERNAL_ID}}
  instanceTypes: [t3.large]
"""

Write = Callable[[str, str], Path]
Load = Callable[[], tuple[dict[str, DesiredCluster], list[str]]]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a file (dedented) at a path relative to the repository root."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def load(tmp_path: Path) -> Load:
    """Read and load ``clusters/`` of the tmp repository: clusters and formatted findings."""

    def _load() -> tuple[dict[str, DesiredCluster], list[str]]:
        files, read_findings = read_cluster_files(tmp_path, "clusters")
        clusters, findings = load_desired(files)
        return clusters, [f.format() for f in read_findings + findings]

    return _load
