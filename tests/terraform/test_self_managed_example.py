"""terraform/examples/self-managed: one output holding the create body, read by a cluster
document's spec.selfManaged (from the outputs file, or in CI from the S3 state)."""

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
from reconciler.sources.selfmanaged import OutputSpec, check_output_fields, read_create_body
from tests.terraform.tfmodel import Block, Expr, declared, find, load_dir, one, references

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "terraform"
EXAMPLE = MODULE / "examples" / "self-managed"
SCHEMA = REPO / "reconciler" / "schemas" / "gridcluster.schema.json"
#: What the module's outputs stand for when the example's output is evaluated.
MODULE_OUTPUTS = {"module.grid_byoc.role_arn": "arn:aws:iam::123456789012:role/gridops-byoc",
                  "module.grid_byoc.external_id": "a-random-external-id"}


@pytest.fixture(scope="module")
def example() -> list[Block]:
    return load_dir(EXAMPLE)


def _document(name: str) -> dict[str, Any]:
    document = yaml.safe_load((EXAMPLE / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _evaluate(value: Any, example: list[Block]) -> Any:
    """The output's value with variables at their defaults and the module's outputs filled."""
    if isinstance(value, Expr):
        if value.source in MODULE_OUTPUTS:
            return MODULE_OUTPUTS[value.source]
        match = re.fullmatch(r"var\.(\w+)", value.source)
        assert match, f"the output uses {value.source}, which this test cannot evaluate"
        return one(example, "variable", match.group(1)).get("default")
    if isinstance(value, dict):
        return {k: _evaluate(v, example) for k, v in value.items()}
    if isinstance(value, list):
        return [_evaluate(v, example) for v in value]
    return value


def test_example_uses_the_module_with_its_required_inputs(example: list[Block]) -> None:
    (call,) = find(example, "module")
    assert call.get("source") == "../.."
    variables = {v.labels[0]: v for v in find(load_dir(MODULE), "variable")}
    arguments = set(call.body) - {"source", "version", "providers"}
    assert arguments <= set(variables)
    assert {n for n, v in variables.items() if "default" not in v.body} <= arguments


def test_example_refers_only_to_declared_names(example: list[Block]) -> None:
    assert references(example) - declared(example) == set()


def test_the_create_body_output_is_sensitive(example: list[Block]) -> None:
    output = one(example, "output", "gridv1_cluster")
    assert output.get("sensitive") is True, "it holds the external id"


def test_the_output_is_a_create_body_gridops_reads_without_a_finding(
        example: list[Block]) -> None:
    value = _evaluate(one(example, "output", "gridv1_cluster").get("value"), example)
    source = SecretRef("fromTerraformOutput", (("file", "x.json"), ("output", "gridv1_cluster")))
    read = read_create_body(json.loads(json.dumps(value)), source)
    assert isinstance(read, OutputSpec), read
    assert check_output_fields(read.spec, {}) == []
    assert read.name == _document("cluster.yaml")["metadata"]["name"]
    assert set(read.spec) >= {"region", "roleArn", "externalId", "instanceTypes"}


def test_the_state_lives_in_an_s3_backend_that_the_ci_document_reads(
        example: list[Block]) -> None:
    (backend,) = [b for t in find(example, "terraform") for b in t.blocks("backend")]
    assert backend.labels == ("s3",)
    settings = dict(re.findall(r'^(\w+)\s*=\s*"([^"]*)"', (EXAMPLE / "backend.hcl.example")
                               .read_text(encoding="utf-8"), re.M))
    state = _document("cluster-ci.yaml")["spec"]["selfManaged"]["fromTerraformState"]
    assert {k: state[k] for k in ("bucket", "key", "region")} == settings
    assert state["output"] == "gridv1_cluster"


@pytest.mark.parametrize("name", ["cluster.yaml", "cluster-ci.yaml"])
def test_example_documents_match_the_cluster_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in
              jsonschema.Draft202012Validator(schema).iter_errors(_document(name))]
    assert errors == []


def test_the_outputs_file_is_ignored_by_git_and_the_readme_writes_it() -> None:
    source = _document("cluster.yaml")["spec"]["selfManaged"]["fromTerraformOutput"]
    ref = parse_secret_ref({"fromTerraformOutput": source})
    assert isinstance(ref, SecretRef)
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", source["file"]], cwd=REPO)
    assert done.returncode == 0, f"{source['file']} holds the external id and must be ignored"
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    written = re.findall(r"terraform output -json > (\S+?)\)?$", readme, re.M)
    assert written and all((EXAMPLE / w).resolve() == (REPO / source["file"]).resolve()
                           for w in written)
