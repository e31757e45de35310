"""Wire paths and values back in the document's words."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.plan.document import document_path, document_value, format_document_value


@pytest.mark.parametrize(("wire", "doc"), [
    ("performanceProfile", "spec.performanceProfile"),
    ("driver.kubernetes.aws.region", "spec.region"),
    ("driver.kubernetes.aws.externalId", "spec.externalId"),
    ("driver.kubernetes.aws.instanceTypes[g4dn.xlarge]", "spec.instanceTypes[g4dn.xlarge]"),
    ("driver.kubernetes.aws.instanceTypes[g4dn.xlarge].overprovisionedOndemandCount",
     "spec.instanceTypes[g4dn.xlarge].overprovisionedOnDemand"),
    ("driver.kubernetes.aws.instanceTypes[p3.2xlarge].rootVolumeSize",
     "spec.instanceTypes[p3.2xlarge].rootVolumeGiB"),
    ("driver.kubernetes.aws.azSkipIds", "spec.aws.azSkipIds"),
], ids=["profile", "region", "secret", "instance-type", "warm-count", "root-volume", "aws-extra"])
def test_a_wire_path_reads_as_the_document_path(wire: str, doc: str) -> None:
    assert document_path(wire) == doc


@pytest.mark.parametrize(("wire", "value", "shown"), [
    ("performanceProfile", "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING", "cost-saving"),
    ("performanceProfile", "CLUSTER_PERFORMANCE_PROFILE_UNSPECIFIED", "unspecified"),
    ("driver.kubernetes.aws.instanceTypes[g4dn.xlarge]",
     {"overprovisionedOndemandCount": 1, "rootVolumeSize": 200},
     "{overprovisionedOnDemand: 1, rootVolumeGiB: 200}"),
    ("driver.kubernetes.aws.kubernetesVersion", "1.29", '"1.29"'),
    ("driver.kubernetes.aws.bucketName", "no", '"no"'),
    ("driver.kubernetes.aws.region", "us-east-1", "us-east-1"),
    ("driver.kubernetes.aws.azSkipIds", ["use1-az3"], "[use1-az3]"),
    ("driver.kubernetes.aws.fsxEnabled", True, "true"),
    ("driver.kubernetes.aws.bucketName", None, "(absent)"),
    ("driver.kubernetes.aws.bucketName", "", '""'),
], ids=["profile", "unspecified-profile", "instance-type", "numeric-string-quoted",
        "yaml-boolean-word-quoted", "plain-string", "list", "bool", "absent", "empty-string"])
def test_a_value_reads_as_the_document_writes_it(wire: str, value: Any, shown: str) -> None:
    assert format_document_value(document_value(wire, value)) == shown


def test_in_document_terms_keeps_every_other_field_of_the_change() -> None:
    # it builds the change whole, so a field added to FieldChange must be carried here too
    from dataclasses import fields

    from reconciler.plan.document import in_document_terms
    from reconciler.plan.types import FieldChange

    set_by_it = {"doc_path", "doc_old", "doc_new", "source"}
    given: dict[str, Any] = {f.name: f"given {f.name}" for f in fields(FieldChange)}
    given.update(path="performanceProfile", old="CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
                 sensitive=True)
    worded = in_document_terms(FieldChange(**given), None)

    kept = {f.name: getattr(worded, f.name) for f in fields(FieldChange)
            if f.name not in set_by_it}
    assert kept == {name: value for name, value in given.items() if name not in set_by_it}
    assert (worded.doc_path, worded.doc_old, worded.source) == (
        "spec.performanceProfile", "default", "")
