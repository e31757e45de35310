from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ConfigError, ValidationError
from reconciler.sources.settings import Settings, StateSettings
from reconciler.sources.settings_loader import load_settings
from tests.load.conftest import Write

HEAD = "apiVersion: gridops/v1\nkind: Settings\n"


def _findings(tmp_path: Path, file: str = "gridops.yaml") -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load_settings(tmp_path, file)
    return [f.format() for f in caught.value.findings]


def test_missing_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == Settings()


def test_missing_file_that_was_named_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, "ops/gridops.yml", required=True)

    assert "settings file ops/gridops.yml does not exist" in caught.value.message
    assert "--settings" in str(caught.value.hint)


def test_required_file_that_exists_is_read(tmp_path: Path, write: Write) -> None:
    write("ops/gridops.yml", HEAD + "maxDeletes: 4\n")

    settings = load_settings(tmp_path, "ops/gridops.yml", required=True)

    assert (settings.max_deletes, settings.file) == (4, "ops/gridops.yml")


def test_settings_file_is_read_into_settings(tmp_path: Path, write: Write) -> None:
    write("ops/gridops.yaml", HEAD + textwrap.dedent("""\
        gridUrl: sim://.gridops/sim.db
        clustersDir: infra/clusters
        state: {backend: s3, bucket: grid-state, region: eu-west-1, lockTable: gridops-lock}
        prune: false
        maxDeletes: 3
        selfHeal: false
        github: {labels: false}
        """))

    settings = load_settings(tmp_path, "ops/gridops.yaml")

    assert settings == Settings(
        grid_url="sim://.gridops/sim.db", clusters_dir="infra/clusters",
        state=StateSettings(backend="s3", bucket="grid-state", region="eu-west-1",
                            lock_table="gridops-lock"),
        prune=False, max_deletes=3, self_heal=False, github_labels=False,
        file="ops/gridops.yaml")


@pytest.mark.parametrize(("text", "expected"), [
    (HEAD + "clusterDir: clusters\n",
     ["gridops.yaml:3:1: unknown field 'clusterDir'; did you mean 'clustersDir'?"]),
    (HEAD + "maxDeletes: -2\nprune: yes\n",
     ["gridops.yaml:3:13: maxDeletes: must be 0 or more, not -2",
      "gridops.yaml:4:8: 'yes' is a YAML 1.1 boolean: write \"yes\" (quoted) for the string, "
      "or true/false for a boolean"]),
    (HEAD + "state: {backend: s3, bucket: b, region: us-east-1b}\n",
     ["gridops.yaml:3:41: 'us-east-1b' is an availability zone, not a region: use "
      "'us-east-1' (clusters use zone a)"]),
    (HEAD + "clustersDir: ../elsewhere\n",
     ["gridops.yaml:3:14: clustersDir '../elsewhere' must be a folder inside the repository"]),
    (HEAD + "---\n" + HEAD,
     ["gridops.yaml:4:1: gridops.yaml holds one document, not 2: remove the others"]),
    ("# nothing yet\n",
     ["gridops.yaml:1:1: missing required field 'apiVersion', 'kind'"]),
    (HEAD + "clusterDir: clusters\nstate: {backend: s3, bucket: b, region: us-east-1b}\n",
     ["gridops.yaml:3:1: unknown field 'clusterDir'; did you mean 'clustersDir'?",
      "gridops.yaml:4:41: 'us-east-1b' is an availability zone, not a region: use "
      "'us-east-1' (clusters use zone a)"]),
    (HEAD + "clustersDir: 5\nstate: [s3]\n",
     ["gridops.yaml:3:14: clustersDir: expected a string, got a whole number (5): put the "
      "value in quotes",
      "gridops.yaml:4:1: state: expected a mapping, got a list"]),
    ("- a\n", ["gridops.yaml:1:1: expected a mapping, got a list"]),
], ids=["misspelt-field", "several-at-once", "zone-for-state-region", "clusters-dir-outside",
        "two-documents", "empty-file", "schema-finding-beside-a-semantic-one",
        "wrong-types", "not-a-mapping"])
def test_invalid_settings_report_every_finding_with_its_line(tmp_path: Path, write: Write,
                                                              text: str,
                                                              expected: list[str]) -> None:
    write("gridops.yaml", text)

    assert _findings(tmp_path) == expected
