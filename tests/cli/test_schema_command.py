"""``gridops schema``, the modelines on the examples and the offline $ids: what an editor's
YAML language server needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from reconciler.cli import main
from reconciler.sources.schema import SCHEMA_NAMES, load_schema, schema_registry

ROOT = Path(__file__).resolve().parents[2]
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


@pytest.mark.parametrize(("name", "file"), sorted(SCHEMA_NAMES.items()), ids=sorted(SCHEMA_NAMES))
def test_schema_prints_the_shipped_schema_as_json(name: str, file: str) -> None:
    code, out = _run("schema", name)
    assert code == 0
    assert json.loads(out) == load_schema(file)


def test_schema_defaults_to_the_cluster_schema_and_lists_ids_and_files() -> None:
    assert json.loads(_run("schema")[1])["title"] == "GridCluster"
    code, out = _run("schema", "--list")
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and [r[0] for r in rows] == ["cluster", "settings"]
    assert all(r[1].startswith("urn:gridops:v1:") and Path(r[2]).is_file() for r in rows)


def test_the_command_offers_exactly_the_known_schemas() -> None:
    from reconciler.cli.schemas import NAMES

    assert set(NAMES) == set(SCHEMA_NAMES)


def test_schema_refuses_an_unknown_name_with_the_choices() -> None:
    result = CliRunner().invoke(main, ["schema", "clusters"])
    assert result.exit_code != 0 and "'cluster'" in result.output
    assert "Traceback" not in result.output


def _documents() -> list[Path]:
    return sorted((ROOT / "clusters").rglob("*.yaml")) + [ROOT / "gridops.yaml"]


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_example_names_its_schema_in_a_modeline_that_resolves(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path}: first line is not a yaml-language-server modeline"
    target = (path.parent / match.group(1)).resolve()
    expected = "gridops-settings" if path.name == "gridops.yaml" else "gridcluster"
    assert target == (ROOT / "schemas" / f"{expected}.schema.json")


@pytest.mark.parametrize(("file", "example"), [
    ("gridcluster.schema.json", "clusters/platform/platform-usw2.yaml"),
    ("gridops-settings.schema.json", "gridops.yaml"),
], ids=["cluster", "settings"])
def test_a_ref_to_a_schema_id_resolves_from_the_package_alone(file: str, example: str) -> None:
    # The autouse fixture refuses any connection beyond loopback: this resolves offline.
    schema_id = load_schema(file)["$id"]
    assert schema_registry().get_or_retrieve(schema_id).value.contents == load_schema(file)
    referring = Draft202012Validator({"$ref": schema_id}, registry=schema_registry())
    document = yaml.safe_load((ROOT / example).read_text(encoding="utf-8"))
    assert referring.is_valid(document)
    assert not referring.is_valid({**document, "apiVersion": "gridops/v2"})
