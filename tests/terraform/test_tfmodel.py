"""The HCL helpers catch what the module tests rely on them to catch.

Each check runs against small HCL snippets that break it, and against the real module with one
deliberate change, so that a passing module test means something.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.terraform.tfmodel import (
    Block,
    Expr,
    declared,
    document_statements,
    load_dir,
    normalise,
    one,
    parse_tf,
    policy_statements,
    references,
    trust_findings,
    wildcard_findings,
)

MODULE = Path(__file__).resolve().parents[2] / "terraform"
EXTERNAL_ID = "random_password.external_id.result"


@pytest.mark.parametrize(("raw", "value"), [
    ('"grid-"', "grid-"),
    ('"say \\"hi\\""', 'say "hi"'),
    ("${var.role_name}", Expr("var.role_name")),
    ('"arn:${local.partition}:s3:::x"', "arn:${local.partition}:s3:::x"),
    ("string", Expr("string")),
    (["\"a\"", "${var.b}"], ["a", Expr("var.b")]),
    ({'"k"': '"v"', "n": 1}, {"k": "v", "n": 1}),
    (True, True),
], ids=["string", "escapes", "expression", "template", "keyword", "list", "object", "bool"])
def test_normalise_unwraps_hcl2_values(raw: Any, value: Any) -> None:
    assert normalise(raw) == value


def test_parse_tf_reads_labels_nested_and_dynamic_blocks() -> None:
    (doc,) = parse_tf('''
data "aws_iam_policy_document" "d" {
  statement { actions = ["s3:GetObject"] }
  dynamic "statement" {
    for_each = var.x
    content { actions = ["s3:PutObject"] }
  }
}
''')
    assert (doc.kind, doc.labels) == ("data", ("aws_iam_policy_document", "d"))
    assert len(doc.blocks("statement")) == 1
    (dynamic,) = doc.blocks("dynamic")
    assert dynamic.labels == ("statement",)
    assert [s.actions for s in policy_statements([doc])] == [("s3:GetObject",), ("s3:PutObject",)]


def test_parse_tf_reads_heredocs_as_strings() -> None:
    (variable,) = parse_tf('variable "v" {\n  description = <<-EOT\n    two\n    lines\n  EOT\n}\n')
    assert variable.get("description") == "two\nlines"


WILDCARDS = {
    "document": ('data "aws_iam_policy_document" "d" {\n'
                 '  statement {\n    actions = ["*"]\n    resources = ["*"]\n  }\n}\n'),
    "document-arn-wildcard": ('data "aws_iam_policy_document" "d" {\n'
                              '  statement {\n    actions = ["*"]\n'
                              '    resources = ["arn:${local.partition}:*:*:*:*"]\n  }\n}\n'),
    "dynamic-statement": ('data "aws_iam_policy_document" "d" {\n  dynamic "statement" {\n'
                          '    for_each = [1]\n    content {\n      actions = ["*"]\n'
                          '      resources = ["*"]\n    }\n  }\n}\n'),
    "not-actions": ('data "aws_iam_policy_document" "d" {\n  statement {\n'
                    '    not_actions = ["iam:*"]\n    resources = ["*"]\n  }\n}\n'),
    "jsonencode": ('resource "aws_iam_policy" "p" {\n  policy = jsonencode({\n'
                   '    Version = "2012-10-17"\n    Statement = [{\n      Effect = "Allow"\n'
                   '      Action = "*"\n      Resource = ["*"]\n    }]\n  })\n}\n'),
    "jsonencode-one-statement": ('resource "aws_iam_role_policy" "p" {\n'
                                 '  policy = jsonencode({\n    Statement = {\n'
                                 '      Effect = "Allow"\n      Action = ["s3:GetObject", "*"]\n'
                                 '      Resource = "*"\n    }\n  })\n}\n'),
    "inline-policy-block": ('resource "aws_iam_role" "r" {\n  inline_policy {\n    name = "x"\n'
                            '    policy = jsonencode({Statement = [{Effect = "Allow", '
                            'Action = "*", Resource = "*"}]})\n  }\n}\n'),
    "heredoc-json": ('resource "aws_iam_policy" "p" {\n  policy = <<EOF\n'
                     '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}\n'
                     'EOF\n}\n'),
    "jsonencode-of-an-expression": ('resource "aws_iam_policy" "p" {\n'
                                    '  policy = jsonencode(local.policy)\n}\n'),
    "statements-from-an-expression": ('resource "aws_iam_policy" "p" {\n'
                                      '  policy = jsonencode({Statement = local.statements})\n}\n'),
    "actions-from-a-variable": ('data "aws_iam_policy_document" "d" {\n  statement {\n'
                                '    actions = var.actions\n    resources = ["*"]\n  }\n}\n'),
}

NOT_WILDCARDS = {
    "service-wildcard": ('data "aws_iam_policy_document" "d" {\n  statement {\n'
                         '    actions = ["ec2:*"]\n    resources = ["*"]\n  }\n}\n'),
    "scoped-resource": ('data "aws_iam_policy_document" "d" {\n  statement {\n'
                        '    actions = ["*"]\n'
                        '    resources = ["arn:${local.partition}:s3:::grid-*"]\n  }\n}\n'),
    "deny": ('data "aws_iam_policy_document" "d" {\n  statement {\n    effect = "Deny"\n'
             '    actions = ["*"]\n    resources = ["*"]\n  }\n}\n'),
    "trust-statement": ('data "aws_iam_policy_document" "d" {\n  statement {\n'
                        '    actions = ["sts:AssumeRole"]\n    principals {\n'
                        '      type = "AWS"\n      identifiers = ["*"]\n    }\n  }\n}\n'),
    "jsonencode-of-other-data": ('resource "aws_ssm_parameter" "p" {\n'
                                 '  value = jsonencode(local.settings)\n}\n'),
}


@pytest.mark.parametrize("hcl", WILDCARDS.values(), ids=WILDCARDS.keys())
def test_wildcard_check_catches(hcl: str) -> None:
    assert len(wildcard_findings(policy_statements(parse_tf(hcl)))) == 1


@pytest.mark.parametrize("hcl", NOT_WILDCARDS.values(), ids=NOT_WILDCARDS.keys())
def test_wildcard_check_lets_pass(hcl: str) -> None:
    assert wildcard_findings(policy_statements(parse_tf(hcl))) == []


_TRUST = '''
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${var.grid_account_id}:root"]
    }
%CONDITION%  }
}
'''
_CONDITION = '''    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [random_password.external_id.result]
    }
'''
GOOD_TRUST = _TRUST.replace("%CONDITION%", _CONDITION)

BAD_TRUSTS = {
    "string-like": GOOD_TRUST.replace('"StringEquals"', '"StringLike"'),
    "other-variable": GOOD_TRUST.replace('"sts:ExternalId"', '"aws:PrincipalTag/x"'),
    "literal-id": GOOD_TRUST.replace(EXTERNAL_ID, '"not-random"'),
    "no-condition": _TRUST.replace("%CONDITION%", ""),
    "anyone": GOOD_TRUST.replace('"arn:aws:iam::${var.grid_account_id}:root"', '"*"'),
    "service-principal": GOOD_TRUST.replace('type        = "AWS"',
                                            'type        = "Service"'),
    "more-actions": GOOD_TRUST.replace('["sts:AssumeRole"]', '["sts:AssumeRole", "sts:*"]'),
    "second-statement-without-id": GOOD_TRUST.replace(
        "data \"aws_iam_policy_document\" \"trust\" {\n",
        "data \"aws_iam_policy_document\" \"trust\" {\n  statement {\n"
        "    actions = [\"sts:AssumeRole\"]\n    principals {\n      type = \"AWS\"\n"
        "      identifiers = [\"arn:aws:iam::${var.grid_account_id}:root\"]\n    }\n  }\n"),
}


def _trust(hcl: str) -> list[str]:
    blocks = parse_tf(hcl)
    statements = document_statements(blocks, Expr("data.aws_iam_policy_document.trust.json"))
    return trust_findings(statements, principal_ref="var.grid_account_id",
                          external_id_ref=EXTERNAL_ID)


def test_trust_check_accepts_grid_with_the_external_id() -> None:
    assert _trust(GOOD_TRUST) == []


@pytest.mark.parametrize("hcl", BAD_TRUSTS.values(), ids=BAD_TRUSTS.keys())
def test_trust_check_catches(hcl: str) -> None:
    assert _trust(hcl) != []


def test_trust_check_reads_jsonencoded_trust_policies() -> None:
    good = '''
resource "aws_iam_role" "r" {
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = "arn:aws:iam::${var.grid_account_id}:root" }
      Condition = { StringEquals = { "sts:ExternalId" = random_password.external_id.result } }
    }]
  })
}
'''
    role = one(parse_tf(good), "resource", "aws_iam_role", "r")
    statements = document_statements([role], role.get("assume_role_policy"))
    kwargs = {"principal_ref": "var.grid_account_id", "external_id_ref": EXTERNAL_ID}
    assert trust_findings(statements, **kwargs) == []
    bad = good.replace("StringEquals", "StringLike")
    role = one(parse_tf(bad), "resource", "aws_iam_role", "r")
    assert trust_findings(document_statements([role], role.get("assume_role_policy")),
                          **kwargs) != []


def test_references_find_undeclared_names_but_not_string_literals() -> None:
    blocks = parse_tf('''
variable "used" { type = string }
locals {
  a = "${var.used}-${var.missing}"
  b = data.aws_partition.nowhere.partition
  c = "var.not_a_reference"
  d = [for x in local.a : aws_iam_role.gone.arn]
}
''')
    assert references(blocks) - declared(blocks) == {
        "var.missing", "data.aws_partition.nowhere", "aws_iam_role.gone"}


# --- the real module, changed in one place ----------------------------------------------------

def _module_with(file: str, old: str, new: str) -> list[Block]:
    blocks: list[Block] = []
    for path in sorted(MODULE.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        if path.name == file:
            assert old in text, f"{old!r} is no longer in {file}: update this test"
            text = text.replace(old, new, 1)
        blocks.extend(parse_tf(text, path.name))
    return blocks


def _module_trust(blocks: list[Block]) -> list[str]:
    role = one(blocks, "resource", "aws_iam_role", "grid")
    return trust_findings(document_statements(blocks, role.get("assume_role_policy")),
                          principal_ref="var.grid_account_id", external_id_ref=EXTERNAL_ID)


def test_unchanged_module_passes_both_checks() -> None:
    blocks = load_dir(MODULE)
    assert wildcard_findings(policy_statements(blocks)) == []
    assert _module_trust(blocks) == []


@pytest.mark.parametrize(("old", "new"), [
    ('actions   = ["ec2:*"]', 'actions   = ["*"]'),
    ('actions   = ["s3:ListAllMyBuckets"]', 'actions   = ["s3:ListAllMyBuckets", "*"]'),
], ids=["ec2-becomes-everything", "everything-added-to-a-read"])
def test_module_with_a_star_on_star_statement_fails(old: str, new: str) -> None:
    assert wildcard_findings(policy_statements(_module_with("permissions.tf", old, new))) != []


@pytest.mark.parametrize(("old", "new"), [
    ('test     = "StringEquals"', 'test     = "StringLike"'),
    ("values   = [random_password.external_id.result]", 'values   = ["fixed"]'),
    ('identifiers = ["arn:${local.partition}:iam::${var.grid_account_id}:root"]',
     'identifiers = ["*"]'),
], ids=["string-like", "fixed-external-id", "any-principal"])
def test_module_with_a_weaker_trust_policy_fails(old: str, new: str) -> None:
    assert _module_trust(_module_with("main.tf", old, new)) != []
