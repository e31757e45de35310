"""Validation findings for people and for tools: text (``FILE:LINE:COL: message``), JSON, and
SARIF 2.1.0 for code scanning (GitHub, GitLab, IDEs). Pure: findings in, strings out.

Each finding's ``rule`` (set where the finding is made) becomes a SARIF rule with help text,
so code scanning groups findings by kind and explains each kind once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler import __version__
from reconciler.errors import Finding

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class Rule:
    """One kind of finding, as code scanning shows it."""

    #: the stable id (``Finding.rule``)
    id: str
    #: a one-line summary
    short: str
    #: what to do about it
    help: str


RULES = {r.id: r for r in (
    Rule("yaml", "The file is not safe, plain YAML.",
         "gridops reads YAML strictly: no duplicate keys, no YAML 1.1 booleans (no, on, yes) "
         "where a string belongs, no aliases, UTF-8 text only. Quote the value or remove the "
         "duplicate."),
    Rule("file", "The file or folder cannot be read as a cluster document.",
         "Cluster documents are regular files under the clusters folder; symlinks must stay "
         "inside the repository. Check clustersDir in gridops.yaml."),
    Rule("schema-unknown-field", "A field the schema does not know.",
         "Check the spelling against the field reference (gridops schema cluster); unknown "
         "fields are refused so that a typo never silently does nothing."),
    Rule("schema-type", "A value of the wrong type.",
         "Write the value as the schema expects: quote strings such as \"1.29\", use true or "
         "false for booleans, whole numbers for counts."),
    Rule("schema-required", "A required field is missing.",
         "Add the field named in the message (apiVersion, kind, metadata.name, ...)."),
    Rule("schema-value", "A value outside what the schema allows.",
         "Use one of the allowed values or forms given in the message."),
    Rule("required-field", "A cluster lacks a required spec field.",
         "Set region, roleArn, externalId and instanceTypes in the cluster or in a "
         "GridClusterDefaults document of its folder or a parent folder."),
    Rule("name", "The cluster name breaks Grid's name rule.",
         "Use 1-63 lower-case letters, digits and '-', starting and ending with a letter or "
         "digit."),
    Rule("unique-name", "Two documents define the same cluster name.",
         "Cluster names are unique across the repository: rename or remove one document."),
    Rule("region", "Not an AWS region.",
         "Give a region such as us-east-1, never an availability zone such as us-east-1a."),
    Rule("role-arn", "Not an IAM role ARN.",
         "Use the role_arn the BYOC terraform prints: arn:aws:iam::ACCOUNT:role/NAME."),
    Rule("secret-ref", "The external id is not a secret reference.",
         "Write {fromEnv: NAME}, {fromSsm: /path}, {fromSecretsManager: ID} or "
         "{fromTerraformOutput: {file, output}} or {fromTerraformState: {bucket, key, output}}, "
         "never the value itself."),
    Rule("instance-type", "An instance type Grid cannot use here.",
         "Use amd64 (x86_64) EC2 instance types only, each listed once; Graviton families "
         "(m6g, c7g, ...) are refused."),
    Rule("self-managed", "The terraform output of a self-managed cluster cannot be used.",
         "spec.selfManaged names a `terraform output -json` file (git-ignored) or an S3 "
         "state, and an output holding the create body {name, spec}: run terraform output, "
         "or fix the file, state or output name, or the field named in the message."),
    Rule("defaults", "A GridClusterDefaults document is misplaced or misused.",
         "Keep one GridClusterDefaults document per folder, without metadata.name."),
    Rule("settings", "A problem in gridops.yaml.",
         "See the settings reference (gridops schema settings)."),
    Rule("gridops", "A problem gridops found.", "See the message."),
)}


def rule_of(finding: Finding) -> Rule:
    return RULES.get(finding.rule) or RULES["gridops"]


def render_findings_text(findings: Sequence[Finding]) -> str:
    return "".join(f"{f.format()}\n" for f in findings)


def findings_as_data(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{"file": f.file, "line": f.line, "column": f.col, "path": f.path,
             "severity": f.severity, "rule": rule_of(f).id, "message": f.message}
            for f in findings]


def render_findings_json(findings: Sequence[Finding], *, clusters: int) -> str:
    """``{"valid": bool, "clusters": N, "errors": N, "warnings": N, "findings": [...]}``."""
    errors = sum(1 for f in findings if f.severity == "error")
    data = {"valid": errors == 0, "clusters": clusters, "errors": errors,
            "warnings": len(findings) - errors, "findings": findings_as_data(findings)}
    return json.dumps(data, indent=2) + "\n"


def render_findings_sarif(findings: Sequence[Finding]) -> str:
    """One SARIF 2.1.0 run: the rules seen (with help), one result per finding."""
    used = sorted({rule_of(f).id for f in findings})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    rules = [_sarif_rule(RULES[rule_id]) for rule_id in used]
    results = [_sarif_result(f, index) for f in findings]
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [{
        "tool": {"driver": {"name": "gridops", "version": __version__, "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "results": results}]}
    return json.dumps(log, indent=2) + "\n"


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "name": _pascal(rule.id),
            "shortDescription": {"text": rule.short},
            "fullDescription": {"text": f"{rule.short} {rule.help}"},
            "help": {"text": rule.help, "markdown": rule.help},
            "defaultConfiguration": {"level": "error"}}


def _sarif_result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    rule_id = rule_of(finding).id
    physical: dict[str, Any] = {"artifactLocation": {"uri": finding.file}}
    if finding.line:
        physical["region"] = {"startLine": finding.line,
                              **({"startColumn": finding.col} if finding.col else {})}
    result: dict[str, Any] = {
        "ruleId": rule_id, "ruleIndex": index[rule_id],
        "level": "warning" if finding.severity == "warning" else "error",
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical}]}
    if finding.path:
        result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": finding.path,
                                                       "kind": "member"}]
    return result


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))
