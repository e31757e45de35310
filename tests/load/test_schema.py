from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.sources.schema import (
    CLUSTER_SCHEMA,
    SETTINGS_SCHEMA,
    compile_fast_check,
    is_valid,
    load_schema,
    validate_document,
)
from reconciler.sources.yamlsafe import parse_documents

SCHEMAS = [CLUSTER_SCHEMA, SETTINGS_SCHEMA]
_CONDITIONS = ("if", "then", "else")  # restate fields declared elsewhere; not walked


def _walk(node: Any, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        yield where, node
        for key, value in node.items():
            if key not in _CONDITIONS:
                yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{where}/{index}")


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = schema
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return dict(target)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_draft_2020_12_with_an_id(name: str) -> None:
    schema = load_schema(name)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("urn:gridops:v1:")


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_property_has_a_description(name: str) -> None:
    schema = load_schema(name)
    missing = [f"{where}/{key}" for where, node in _walk(schema, "#")
               for key, prop in node.get("properties", {}).items()
               if "description" not in _resolve(schema, prop)]
    maps = [f"{where}/additionalProperties" for where, node in _walk(schema, "#")
            if isinstance(node.get("additionalProperties"), Mapping)
            and "description" not in node["additionalProperties"]]

    assert missing + maps == []


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_object_refuses_unknown_fields(name: str) -> None:
    schema = load_schema(name)
    open_objects = [where for where, node in _walk(schema, "#")
                    if "properties" in node and node.get("additionalProperties") is not False]
    untyped_maps = [where for where, node in _walk(schema, "#")
                    if node.get("type") == "object" and "properties" not in node
                    and not isinstance(node.get("additionalProperties"), Mapping)]

    assert open_objects + untyped_maps == []


def _findings(text: str, schema: str = CLUSTER_SCHEMA) -> list[str]:
    documents, _ = parse_documents(text.encode(), "clusters/a.yaml")
    return [f.format() for f in validate_document(documents[0], schema)]


_HEAD = "apiVersion: gridops/v1\nkind: GridCluster\nmetadata: {name: a}\nspec:\n"


@pytest.mark.parametrize(("spec", "expected"), [
    ("  regoin: us-east-1\n",
     ["clusters/a.yaml:5:3: spec: unknown field 'regoin'; did you mean 'region'?"]),
    ("  externalId: s3cr3t\n",
     ["clusters/a.yaml:5:15: spec.externalId: a secret must be a reference, never a plain "
      "string: write `externalId: {fromEnv: GRID_EXTERNAL_ID}` (or fromSsm, "
      "fromSecretsManager, fromTerraformOutput, fromTerraformState)"]),
    ("  externalId: {fromEnvv: X}\n",
     ["clusters/a.yaml:5:16: spec.externalId: unknown field 'fromEnvv'; did you mean "
      "'fromEnv'?"]),
    ("  externalId: {fromEnv: A, fromSsm: b}\n",
     ["clusters/a.yaml:5:3: spec.externalId: a secret reference has exactly one of fromEnv, "
      "fromSsm, fromSecretsManager, fromTerraformOutput, fromTerraformState, for example "
      "`externalId: {fromEnv: GRID_EXTERNAL_ID}`"]),
    ("  performanceProfile: cost-savings\n",
     ["clusters/a.yaml:5:23: spec.performanceProfile: 'cost-savings' is not one of: default, "
      "cost-saving; did you mean 'cost-saving'?"]),
    ("  instanceTypes:\n    - {name: g4dn.xlarge, overprovisionedOnDemand: -1}\n",
     ["clusters/a.yaml:6:52: spec.instanceTypes[0].overprovisionedOnDemand: must be 0 or more, "
      "not -1"]),
    ("  instanceTypes: [{nme: t3.large}]\n",
     ["clusters/a.yaml:5:19: spec.instanceTypes[0]: missing required field 'name'",
      "clusters/a.yaml:5:20: spec.instanceTypes[0]: unknown field 'nme'; did you mean 'name'?"]),
    ("  instanceTypes: [5]\n",
     ["clusters/a.yaml:5:19: spec.instanceTypes[0]: expected a string or a mapping, got a "
      "whole number (5)"]),
    ("  aws: {kubernetesVersion: 1.30}\n",
     ["clusters/a.yaml:5:28: spec.aws.kubernetesVersion: expected a string, got a number (1.3):"
      " put the value in quotes"]),
    ("  aws: {xMultiAzCount: true}\n",
     ["clusters/a.yaml:5:24: spec.aws.xMultiAzCount: expected a whole number, got a boolean "
      "(true)"]),
    ("  instanceTypes: []\n",
     ["clusters/a.yaml:5:3: spec.instanceTypes: needs at least 1 item(s)"]),
], ids=["misspelt-field", "plain-string-secret", "misspelt-secret-kind", "two-secret-kinds",
        "misspelt-enum", "negative-count", "instance-missing-name", "instance-wrong-type",
        "version-as-number", "bool-for-int", "no-instance-types"])
def test_schema_error_reads_as_one_actionable_finding(spec: str, expected: list[str]) -> None:
    assert _findings(_HEAD + spec) == expected


def test_cluster_without_metadata_name_is_reported_at_metadata() -> None:
    findings = _findings("apiVersion: gridops/v1\nkind: GridCluster\nmetadata: {}\nspec: {}\n")

    assert findings == ["clusters/a.yaml:3:1: metadata: missing required field 'name'"]


def test_defaults_document_needs_no_name() -> None:
    text = "apiVersion: gridops/v1\nkind: GridClusterDefaults\nspec: {region: us-east-1}\n"

    assert _findings(text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("apiVersion: gridops/v1\nkind: Settings\nmaxDelete: 3\n",
     ["clusters/a.yaml:3:1: unknown field 'maxDelete'; did you mean 'maxDeletes'?"]),
    ("apiVersion: gridops/v1\nkind: Settings\nstate: {backend: s3}\n",
     ["clusters/a.yaml:3:1: state: missing required field 'bucket', 'region'"]),
    ("apiVersion: gridops/v1\nkind: Settings\ngridUrl: platform.grid.ai\n",
     ["clusters/a.yaml:3:10: gridUrl: 'platform.grid.ai' does not match the expected form "
      "(^(https?|sim)://)"]),
], ids=["misspelt-field", "s3-needs-bucket", "url-without-scheme"])
def test_settings_schema_findings(text: str, expected: list[str]) -> None:
    assert _findings(text, SETTINGS_SCHEMA) == expected


_VALID_SPEC = ("  region: us-east-1\n  roleArn: arn:aws:iam::123456789012:role/grid\n"
               "  externalId: {fromEnv: X}\n  instanceTypes: [t3.large]\n")


@pytest.mark.parametrize("spec", [
    _VALID_SPEC,
    _VALID_SPEC + "  aws: {xMultiAzCount: 1000000000000000000000000000000}\n",
    _VALID_SPEC + "  aws: {xMultiAzCount: 2.0}\n",
    _VALID_SPEC + "  aws: {xMultiAzCount: 2.5}\n",
    _VALID_SPEC + "  aws: {xMultiAzCount: true}\n",
    _VALID_SPEC + "  deletionProtection: 1\n",
    _VALID_SPEC + "  performanceProfile: \"default\\n\"\n",
    _VALID_SPEC.replace("us-east-1", "\"us-east-1\\n\""),
    _VALID_SPEC.replace("us-east-1", "us-west-\u0662"),
    _VALID_SPEC.replace("[t3.large]", "[{name: t3.large, rootVolumeGiB: -1}]"),
    _VALID_SPEC.replace("[t3.large]", "[]"),
    _VALID_SPEC.replace("{fromEnv: X}", "{fromEnv: X, fromSsm: y}"),
    "  regoin: us-east-1\n",
    "  instanceTypes: [5]\n",
    "  aws: {kubernetesVersion: 1.30}\n",
], ids=["valid", "huge-int", "integral-float", "fraction", "bool-for-int", "int-for-bool",
        "enum-with-newline", "region-with-newline", "unicode-digit", "negative-volume",
        "no-instance-types", "two-secret-kinds", "misspelt-field", "instance-wrong-type",
        "version-as-number"])
def test_fast_validator_agrees_with_jsonschema(spec: str) -> None:
    documents, _ = parse_documents((_HEAD + spec).encode(), "clusters/a.yaml")
    value = documents[0].value
    expected = Draft202012Validator(load_schema(CLUSTER_SCHEMA)).is_valid(value)
    assert is_valid(value, CLUSTER_SCHEMA) is expected
    assert (validate_document(documents[0], CLUSTER_SCHEMA) == []) is expected


def test_fast_check_gives_way_to_jsonschema_for_a_pattern_rust_cannot_compile() -> None:
    # Python's \Z has no Rust equivalent: the fast check is not made, so jsonschema decides.
    assert compile_fast_check({"type": "string", "pattern": "^[a-z]+\\Z"}) is None
    check = compile_fast_check({"type": "string", "pattern": "^[a-z]+$"})
    assert check is not None and check("abc") and not check("ab1")


def test_fast_check_resolves_a_ref_to_another_gridops_schema_offline() -> None:
    settings_id = load_schema(SETTINGS_SCHEMA)["$id"]
    check = compile_fast_check({"$ref": settings_id})
    assert check is not None
    assert check({"apiVersion": "gridops/v1", "kind": "Settings"})
    assert not check({"apiVersion": "gridops/v1", "kind": "Settings", "prune": "yes"})
    assert compile_fast_check({"$ref": "https://elsewhere.example/x.json"}) is None
