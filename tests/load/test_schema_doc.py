from __future__ import annotations

import pytest

from reconciler.sources.schema import CLUSTER_SCHEMA, load_schema
from reconciler.sources.schema_doc import render_reference


@pytest.mark.parametrize(("row"), [
    "| `spec.region` | string | The AWS region (us-east-1)",
    "| `spec.instanceTypes` | list of string or mapping |",
    "| `spec.instanceTypes[].overprovisionedOnDemand` | integer 0..1000 |",
    "| `spec.externalId.fromSsm.name` | string |",
    "| `metadata.labels` | map of string |",
    "| `kind` | one of `GridCluster`, `GridClusterDefaults` |",
], ids=["scalar", "anyof-list", "nested-list-item", "ref-anyof-object", "map", "enum"])
def test_cluster_reference_lists_nested_fields_with_their_types(row: str) -> None:
    assert row in render_reference(load_schema(CLUSTER_SCHEMA))


def test_reference_escapes_pipes_in_descriptions() -> None:
    schema = {"title": "T", "properties": {"a": {"type": "string", "description": "x | y"}}}

    assert render_reference(schema).splitlines()[-1] == "| `a` | string | x \\| y |"
