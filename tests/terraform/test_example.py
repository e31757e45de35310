"""terraform/examples/basic: the module wired to a cluster document through fromTerraformOutput."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model import SecretRef
from reconciler.sources.secrets import parse_secret_ref
from tests.terraform.tfmodel import Block, Expr, declared, find, load_dir, one, references

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "terraform"
EXAMPLE = MODULE / "examples" / "basic"
SCHEMA = REPO / "reconciler" / "schemas" / "gridcluster.schema.json"


@pytest.fixture(scope="module")
def example() -> list[Block]:
    return load_dir(EXAMPLE)


@pytest.fixture(scope="module")
def module() -> list[Block]:
    return load_dir(MODULE)


@pytest.fixture(scope="module")
def cluster() -> dict[str, Any]:
    document = yaml.safe_load((EXAMPLE / "cluster.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _module_call(example: list[Block]) -> Block:
    (call,) = find(example, "module")
    return call


def _default(blocks: list[Block], variable: str) -> Any:
    return one(blocks, "variable", variable).get("default")


def test_example_uses_the_module_in_this_repository(example: list[Block]) -> None:
    call = _module_call(example)
    assert call.get("source") == "../.."
    assert (EXAMPLE / call.get("source")).resolve() == MODULE


def test_example_passes_every_required_input_and_no_unknown_one(example: list[Block],
                                                                module: list[Block]) -> None:
    variables = {v.labels[0]: v for v in find(module, "variable")}
    arguments = set(_module_call(example).body) - {"source", "version", "providers"}
    assert arguments - set(variables) == set(), "arguments the module does not declare"
    required = {name for name, v in variables.items() if "default" not in v.body}
    assert required <= arguments, "required inputs not passed"


def test_example_reexports_role_arn_and_a_sensitive_external_id(example: list[Block]) -> None:
    name = _module_call(example).labels[0]
    role_arn = one(example, "output", "role_arn")
    assert role_arn.get("value") == Expr(f"module.{name}.role_arn")
    external_id = one(example, "output", "external_id")
    assert external_id.get("value") == Expr(f"module.{name}.external_id")
    assert external_id.get("sensitive") is True, "terraform refuses a sensitive value otherwise"


def test_example_refers_only_to_declared_names_and_module_outputs(example: list[Block],
                                                                 module: list[Block]) -> None:
    assert references(example) - declared(example) == set()
    outputs = {o.labels[0] for o in find(module, "output")}
    used = {m.group(1) for b in example for ref in _sources(b)
            for m in re.finditer(r"module\.\w+\.(\w+)", ref)}
    assert used and used <= outputs


def _sources(block: Block) -> list[str]:
    return [v.source for v in block.body.values() if isinstance(v, Expr)]


def test_example_cluster_reads_the_external_id_from_terraform_output(
        cluster: dict[str, Any]) -> None:
    ref = parse_secret_ref(cluster["spec"]["externalId"])
    assert isinstance(ref, SecretRef), ref
    assert ref.kind == "fromTerraformOutput"
    params = dict(ref.params)
    assert params["output"] == "external_id"
    assert not Path(params["file"]).is_absolute()


def test_example_outputs_file_is_ignored_by_git(cluster: dict[str, Any]) -> None:
    path = cluster["spec"]["externalId"]["fromTerraformOutput"]["file"]
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO)
    assert done.returncode == 0, f"{path} holds the external id and must be ignored by git"


def test_example_cluster_names_the_example_role_and_region(cluster: dict[str, Any],
                                                           example: list[Block]) -> None:
    role_arn = cluster["spec"]["roleArn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", role_arn), role_arn
    assert role_arn.endswith(f":role/{_default(example, 'role_name')}")
    assert cluster["spec"]["region"] == _default(example, "region")


def test_example_cluster_matches_the_cluster_schema(cluster: dict[str, Any]) -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA.relative_to(REPO)} is not in this checkout")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(cluster)]
    assert errors == []


def test_example_readme_goes_from_apply_to_the_cluster_document(
        cluster: dict[str, Any]) -> None:
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert "terraform apply" in readme
    written = re.findall(r"terraform output -json > (\S+?)\)?$", readme, re.M)
    assert written, "the README does not save `terraform output -json` to a file"
    reference = cluster["spec"]["externalId"]["fromTerraformOutput"]
    for target in written:
        assert (EXAMPLE / target).resolve() == (REPO / reference["file"]).resolve(), \
            f"the README writes {target}, the document reads {reference['file']}"
    assert "fromTerraformOutput" in readme and f"file: {reference['file']}" in readme
