"""Semantic checks on cluster documents, run alongside the schema.

The schema says what shape a document has; these checks say whether Grid would take it:
the name rule, a region and not a zone, an IAM role ARN, amd64 instance types only, no
instance type twice, secret references in their reference form, names unique across the
repository, and (after defaults are merged) that every required field is set somewhere.
They run on documents the schema may have refused, so each looks at a value only when it
has the type the check needs; ``combine_findings`` keeps one finding per problem.
Each check takes values and returns findings; nothing here reads files or raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.errors import Finding
from reconciler.sources import rules
from reconciler.sources.secrets import parse_secret_ref
from reconciler.sources.yamlsafe import PathPart, YamlDocument, parse_path

KIND_CLUSTER = "GridCluster"
KIND_DEFAULTS = "GridClusterDefaults"

#: The spec fields a cluster must end up with, from its own document or its defaults.
REQUIRED_SPEC = ("region", "roleArn", "externalId", "instanceTypes")

#: AWSClusterDriverSpec fields that name an EC2 instance type (amd64 only, like instanceTypes).
NODE_INSTANCE_TYPE_FIELDS = ("managementNodeInstanceType", "builderNodeInstanceType",
                             "tensorboardNodeInstanceType")


def combine_findings(schema: Sequence[Finding], semantic: Sequence[Finding]) -> list[Finding]:
    """The schema's findings and the semantic ones that say something new.

    A semantic finding is dropped when the schema already reported the value it is about, or
    something inside it (an empty region is "must not be empty", not also "not an AWS region";
    a secret reference missing its name is reported once, where the name belongs): the schema's
    message names the field and the expected shape, which is the clearer of the two.
    """
    reported = [parse_path(f.path) for f in schema]

    def _seen(finding: Finding) -> bool:
        own = parse_path(finding.path)
        return any(path[:len(own)] == own for path in reported)

    return [*schema, *(f for f in semantic if not _seen(f))]


def check_document(document: YamlDocument) -> list[Finding]:
    """Findings for one GridCluster or GridClusterDefaults document, valid or not: a field of
    the wrong type is left to the schema."""
    value = document.value
    if not isinstance(value, dict):
        return []
    findings = _check_metadata(document, value.get("kind"), _mapping(value.get("metadata")))
    spec = _mapping(value.get("spec"))
    if value.get("kind") == KIND_DEFAULTS and "selfManaged" in spec:
        findings += _at(document, ("spec", "selfManaged"),
                        "selfManaged names one cluster's terraform output: write it in that "
                        "GridCluster document, not in GridClusterDefaults", "self-managed")
    for field, check, rule in (("region", rules.check_region, "region"),
                               ("roleArn", rules.check_role_arn, "role-arn")):
        if isinstance(spec.get(field), str):
            findings += _at(document, ("spec", field), check(spec[field]), rule)
    if isinstance(spec.get("region"), str) and isinstance(spec.get("roleArn"), str):
        findings += _at(document, ("spec", "roleArn"),
                        rules.check_partition(spec["region"], spec["roleArn"]), "role-arn")
    if "externalId" in spec:
        problem = parse_secret_ref(spec["externalId"])
        if isinstance(problem, str):
            findings += _at(document, ("spec", "externalId"), problem, "secret-ref")
    items = spec.get("instanceTypes")
    if isinstance(items, list):
        findings += _check_instance_types(document, items)
    aws = _mapping(spec.get("aws"))
    for field in NODE_INSTANCE_TYPE_FIELDS:
        if isinstance(aws.get(field), str):
            findings += _at(document, ("spec", "aws", field),
                            rules.check_instance_type(aws[field]), "instance-type")
    return findings


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (the schema reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def _check_metadata(document: YamlDocument, kind: Any,
                    metadata: Mapping[str, Any]) -> list[Finding]:
    if kind == KIND_DEFAULTS and "name" in metadata:
        return _at(document, ("metadata", "name"),
                   "a GridClusterDefaults document has no name: remove metadata.name "
                   "(it applies to every cluster in its folder and below)", "defaults")
    if kind == KIND_CLUSTER and metadata.get("name") == rules.GLOBAL_CLUSTER_NAME:
        return _at(document, ("metadata", "name"),
                   f"{rules.GLOBAL_CLUSTER_NAME!r} is Grid's shared GLOBAL cluster, never a "
                   "BYOC cluster of this repository: choose another name", "name")
    if kind == KIND_CLUSTER and isinstance(metadata.get("name"), str):
        return _at(document, ("metadata", "name"), rules.check_name(metadata["name"]), "name")
    return []


def _check_instance_types(document: YamlDocument, items: Sequence[Any]) -> list[Finding]:
    findings: list[Finding] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        name = item if isinstance(item, str) else _mapping(item).get("name")
        if not isinstance(name, str):
            continue
        path: tuple[PathPart, ...] = ("spec", "instanceTypes", index)
        if name in first_index:
            line, _ = document.position(("spec", "instanceTypes", first_index[name]))
            findings += _at(document, path, f"instance type {name!r} is listed twice (first on "
                                            f"line {line}): list each type once",
                            "instance-type")
            continue
        first_index[name] = index
        at = path if isinstance(item, str) else (*path, "name")
        findings += _at(document, at, rules.check_instance_type(name), "instance-type")
    return findings


def check_required(document: YamlDocument, merged_spec: Mapping[str, Any]) -> list[Finding]:
    """Findings for required spec fields that neither the cluster nor its defaults set."""
    missing = [f for f in REQUIRED_SPEC if f not in merged_spec]
    return [document.finding(("spec",), f"spec.{field} is not set: set it here or in a "
                                        "GridClusterDefaults document of this folder"
                             ).tagged("required-field") for field in missing]


def check_unique_names(clusters: Iterable[YamlDocument]) -> list[Finding]:
    """A finding at every place a cluster name is written when it is written more than once,
    each naming the other places."""
    places: dict[str, list[YamlDocument]] = {}
    for document in clusters:
        name = _mapping(_mapping(document.value).get("metadata")).get("name")
        if isinstance(name, str):
            places.setdefault(name, []).append(document)
    findings = []
    for name, documents in places.items():
        if len(documents) < 2:
            continue
        for document in documents:
            others = ", ".join(_where(d, ("metadata", "name")) for d in documents
                               if d is not document)
            findings.append(document.finding(("metadata", "name"),
                                             f"cluster name {name!r} is also defined at "
                                             f"{others}: names must be unique"
                                             ).tagged("unique-name"))
    return findings


def _where(document: YamlDocument, path: Sequence[PathPart]) -> str:
    line, _ = document.position(path)
    return f"{document.file}:{line}"


def _at(document: YamlDocument, path: Sequence[PathPart], problem: str | None,
        rule: str) -> list[Finding]:
    return [document.finding(path, problem).tagged(rule)] if problem else []
