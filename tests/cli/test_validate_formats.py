"""``gridops validate --format text|json|sarif|github``: the same findings for people, for
scripts, for code scanning (checked against the SARIF 2.1.0 schema) and as workflow commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from reconciler.views.findings import RULES
from tests.cli.conftest import SECRET_A, GitOpsRepo, cluster_doc

SARIF_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "data" /
                           "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def _break(gitops: GitOpsRepo) -> None:
    """Findings of several kinds: a zone as region, an unknown field, a Graviton type, a
    name twice, a YAML 1.1 boolean, a file with two documents."""
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", region="us-east-1a"))
    gitops.write("clusters/team-b/beta.yaml", cluster_doc("beta", instance_types=["m6g.large"])
                 .replace("  region:", "  regoin: us-east-1\n  region:"))
    gitops.write("clusters/team-b/more.yaml", cluster_doc("alpha") + "---\n"
                 + cluster_doc("gamma").replace("deletionProtection: false",
                                                "deletionProtection: no"))


def _json(gitops: GitOpsRepo, *args: str) -> tuple[int, Any]:
    result = gitops.gridops("validate", *args)
    return result.exit_code, json.loads(result.stdout)


def test_json_lists_every_finding_with_its_place_and_rule(gitops: GitOpsRepo) -> None:
    _break(gitops)
    code, data = _json(gitops, "--format", "json")
    assert code == 1 and data["valid"] is False and data["errors"] == len(data["findings"])
    by_rule = {f["rule"]: f for f in data["findings"]}
    assert {"region", "schema-unknown-field", "instance-type", "unique-name", "yaml"} <= set(
        by_rule)
    assert by_rule["region"] == {"file": "clusters/team-a/alpha.yaml", "line": 6, "column": 11,
                                 "path": "spec.region", "severity": "error", "rule": "region",
                                 "message": by_rule["region"]["message"]}
    assert "availability zone" in by_rule["region"]["message"]
    more = [f for f in data["findings"] if f["file"] == "clusters/team-b/more.yaml"]
    assert {f["rule"] for f in more} == {"unique-name", "yaml"}
    assert all(f["line"] > 12 for f in more if f["rule"] == "yaml")  # the second document


def test_json_on_a_valid_repository_counts_the_clusters(gitops: GitOpsRepo) -> None:
    code, data = _json(gitops, "--format", "json")
    assert (code, data) == (0, {"valid": True, "clusters": 2, "errors": 0, "warnings": 0,
                                "findings": []})


def test_sarif_is_valid_2_1_0_with_a_rule_and_help_per_kind(gitops: GitOpsRepo) -> None:
    _break(gitops)
    code, log = _json(gitops, "--format", "sarif")
    assert code == 1
    Draft4Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert log["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "gridops"
    assert all(r["help"]["text"] == RULES[r["id"]].help for r in rules)
    results = run["results"]
    assert len({r["ruleId"] for r in results}) == len(rules) >= 5
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    region = next(r for r in results if r["ruleId"] == "region")
    assert region["level"] == "error"
    assert region["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "clusters/team-a/alpha.yaml"},
        "region": {"startLine": 6, "startColumn": 11}}


def test_sarif_without_findings_is_an_empty_valid_run(gitops: GitOpsRepo) -> None:
    code, log = _json(gitops, "--format", "sarif")
    assert code == 0
    Draft4Validator(SARIF_SCHEMA).validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_a_settings_problem_is_reported_in_the_format_asked(gitops: GitOpsRepo) -> None:
    gitops.write("gridops.yaml", "apiVersion: gridops/v1\nkind: Settings\nmaxDeletes: many\n")
    code, log = _json(gitops, "--format", "sarif")
    assert code == 1
    Draft4Validator(SARIF_SCHEMA).validate(log)
    [result] = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "gridops.yaml"
    assert result["ruleId"] == "schema-type"


@pytest.mark.parametrize(("message", "expected"), [
    ("a, b: 50% done\nnext", "a, b: 50%25 done%0Anext"),
    ("carriage\rreturn", "carriage%0Dreturn"),
], ids=["percent-newline", "carriage-return"])
def test_github_escapes_data_as_the_actions_toolkit_does(message: str, expected: str) -> None:
    from reconciler.errors import Finding
    from reconciler.github.annotations import annotation_line

    line = annotation_line(Finding("clusters/a,b:c.yaml", 3, 4, message))
    assert line == f"::error file=clusters/a%2Cb%3Ac.yaml,line=3,col=4,title=gridops::{expected}"


def test_github_prints_one_workflow_command_per_finding_outside_actions(
        gitops: GitOpsRepo) -> None:
    _break(gitops)
    result = gitops.gridops("validate", "--format", "github", env={"GITHUB_ACTIONS": ""})
    commands = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert result.exit_code == 1
    assert commands and len(commands) == len(result.stdout.splitlines())
    assert "::error file=clusters/team-a/alpha.yaml,line=6,col=11,title=gridops::" in (
        result.stdout)


def test_no_format_prints_a_secret_value(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha").replace(
        "{fromEnv: GRID_EXTERNAL_ID_A}", SECRET_A))
    for fmt in ("text", "json", "sarif", "github"):
        result = gitops.gridops("validate", "--format", fmt)
        assert result.exit_code == 1 and SECRET_A not in result.output, fmt


def test_plan_json_has_a_summary_of_counts_and_apply_reads_it_back(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("plan", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0
    summary = data["summary"]
    assert {k: summary[k] for k in ("create", "update", "delete", "no-op", "wait", "failed",
                                    "blocked", "unmanaged", "hasChanges", "hasDrift")} == {
        "create": 2, "update": 0, "delete": 0, "no-op": 0, "wait": 0, "failed": 0,
        "blocked": 0, "unmanaged": 0, "hasChanges": True, "hasDrift": True}
    assert sum(v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)
               and k != "unmanaged") == len(data["changes"])
    (gitops.root / "plan.json").write_text(result.stdout)
    applied = gitops.gridops("apply", str(gitops.root / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert set(gitops.live()) >= {"alpha", "beta"}
