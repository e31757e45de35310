from __future__ import annotations

import pytest

from reconciler.errors import Finding
from reconciler.github.annotations import annotation_line, annotation_lines, in_github_actions


@pytest.mark.parametrize(("finding", "expected"), [
    (Finding("clusters/a.yaml", 3, 5, "unknown field 'regoin'"),
     "::error file=clusters/a.yaml,line=3,col=5,title=gridops::unknown field 'regoin'"),
    (Finding("clusters/a.yaml", 3, 0, "x", severity="warning"),
     "::warning file=clusters/a.yaml,line=3,title=gridops::x"),
    (Finding("clusters/a.yaml", 0, 0, "not UTF-8"),
     "::error file=clusters/a.yaml,title=gridops::not UTF-8"),
    (Finding("clusters/a.yaml", 2, 1, "bad", path="spec.region"),
     "::error file=clusters/a.yaml,line=2,col=1,title=gridops::bad (spec.region)"),
], ids=["error", "warning-without-col", "file-only", "with-json-path"])
def test_findings_become_workflow_commands_on_file_and_line(finding: Finding,
                                                            expected: str) -> None:
    assert annotation_line(finding) == expected


def test_message_escapes_percent_and_newlines() -> None:
    line = annotation_line(Finding("a.yaml", 1, 1, "100% sure\r\nnext: line, more"))
    assert line.endswith("::100%25 sure%0D%0Anext: line, more")


def test_properties_escape_colon_and_comma_too() -> None:
    line = annotation_line(Finding("dir,x/a:b%.yaml", 1, 1, "m"))
    assert line.startswith("::error file=dir%2Cx/a%3Ab%25.yaml,line=1,")


def test_one_line_per_finding_and_secrets_masked() -> None:
    lines = annotation_lines([Finding("a.yaml", 1, 1, "value s3cr3t-value is wrong")] * 3,
                             mask=lambda t: t.replace("s3cr3t-value", "***"))
    assert lines == ["::error file=a.yaml,line=1,col=1,title=gridops::value *** is wrong"] * 3


@pytest.mark.parametrize(("env", "expected"), [
    ({"GITHUB_ACTIONS": "true"}, True), ({}, False), ({"GITHUB_ACTIONS": "false"}, False)],
    ids=["actions", "terminal", "explicitly-not"])
def test_in_github_actions_reads_the_variable(env: dict[str, str], expected: bool) -> None:
    assert in_github_actions(env) is expected
