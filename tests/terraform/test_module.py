"""The terraform module that creates the role Grid assumes, checked from its HCL source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.terraform.tfmodel import (
    Block,
    Expr,
    Statement,
    declared,
    document_statements,
    find,
    load_dir,
    one,
    parse_tf,
    policy_statements,
    references,
    trust_findings,
    wildcard_findings,
)

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "terraform"
TF_FILES = sorted(p for p in MODULE.rglob("*.tf") if ".terraform" not in p.parts)

EXTERNAL_ID = "random_password.external_id.result"

#: Services whose resources hold data or can belong to another account: on Resource "*" they
#: get only these calls, which take no resource ARN or only read.
READ_ONLY_ON_ANY_RESOURCE = {
    "ecr:GetAuthorizationToken", "events:ListRules", "logs:DescribeLogGroups",
    "s3:ListAllMyBuckets", "sns:ListTopics", "sqs:ListQueues",
}
SCOPED_SERVICES = ("iam", "s3", "sqs", "sns", "ecr", "logs", "events")

#: IAM and S3 calls that create or change roles, policies, instance profiles or buckets.
PREFIX_SCOPED_WRITES = {
    "iam:AttachRolePolicy", "iam:CreateInstanceProfile", "iam:CreatePolicy",
    "iam:CreatePolicyVersion", "iam:CreateRole", "iam:PassRole", "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy", "s3:*", "s3:CreateBucket", "s3:PutBucketPolicy",
}


@pytest.fixture(scope="module")
def module() -> list[Block]:
    return load_dir(MODULE)


@pytest.fixture(scope="module")
def statements(module: list[Block]) -> list[Statement]:
    return policy_statements(module)


def _allows(statements: list[Statement]) -> list[Statement]:
    return [s for s in statements if s.effect == "Allow"]


@pytest.mark.parametrize("path", TF_FILES, ids=[str(p.relative_to(MODULE)) for p in TF_FILES])
def test_every_tf_file_parses(path: Path) -> None:
    assert parse_tf(path.read_text(encoding="utf-8"), path.name), f"{path} declares nothing"


def test_module_has_the_expected_files() -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (MODULE / name).is_file(), name


@pytest.mark.parametrize("name", ["grid_account_id", "role_name", "name_prefix", "tags",
                                  "max_session_duration", "allowed_regions",
                                  "permissions_boundary_arn"])
def test_module_declares_variable(module: list[Block], name: str) -> None:
    one(module, "variable", name)


@pytest.mark.parametrize("folder", [MODULE, MODULE / "examples" / "basic"],
                         ids=["module", "example"])
def test_every_variable_has_a_description_and_a_type(folder: Path) -> None:
    variables = find(load_dir(folder), "variable")
    assert variables
    for v in variables:
        description = v.get("description")
        assert isinstance(description, str) and description.strip(), f"{v.where}: no description"
        assert isinstance(v.get("type"), Expr), f"{v.where}: no type"


def test_grid_account_id_is_required_and_must_be_twelve_digits(module: list[Block]) -> None:
    variable = one(module, "variable", "grid_account_id")
    assert "default" not in variable.body, "the Grid account must come from the user, not a default"
    conditions = [b.get("condition") for b in variable.blocks("validation")]
    assert any(isinstance(c, Expr) and "[0-9]{12}" in c.source for c in conditions), conditions


def test_name_prefix_cannot_be_empty(module: list[Block]) -> None:
    """An empty prefix turns role/${prefix}* into every role in the account."""
    variable = one(module, "variable", "name_prefix")
    assert variable.get("default")
    conditions = [b.get("condition").source for b in variable.blocks("validation")]
    assert any("{0," in c and "^[a-z0-9]" in c for c in conditions), conditions


def test_outputs_role_arn_and_a_sensitive_external_id(module: list[Block]) -> None:
    role_arn = one(module, "output", "role_arn")
    assert role_arn.get("value") == Expr("aws_iam_role.grid.arn")
    assert role_arn.get("sensitive") in (None, False)
    external_id = one(module, "output", "external_id")
    assert external_id.get("value") == Expr(EXTERNAL_ID)
    assert external_id.get("sensitive") is True


def test_external_id_is_long_random_and_plain(module: list[Block]) -> None:
    password = one(module, "resource", "random_password", "external_id")
    assert isinstance(password.get("length"), int) and password.get("length") >= 32
    assert password.get("special") is False, "special characters break YAML, shells and env vars"


@pytest.mark.parametrize(("attribute", "source"), [
    ("name", "var.role_name"),
    ("max_session_duration", "var.max_session_duration"),
    ("permissions_boundary", "var.permissions_boundary_arn"),
    ("tags", "var.tags"),
    ("assume_role_policy", "data.aws_iam_policy_document.trust.json"),
], ids=lambda v: v)
def test_role_takes_its_settings_from_the_variables(module: list[Block], attribute: str,
                                                   source: str) -> None:
    role = one(module, "resource", "aws_iam_role", "grid")
    assert role.get(attribute) == Expr(source)


def test_trust_policy_lets_only_grid_assume_the_role_with_the_external_id(
        module: list[Block]) -> None:
    role = one(module, "resource", "aws_iam_role", "grid")
    trust = document_statements(module, role.get("assume_role_policy"))
    assert trust, "the role's trust policy has no statements"
    assert trust_findings(trust, principal_ref="var.grid_account_id",
                          external_id_ref=EXTERNAL_ID) == []


def test_no_statement_allows_every_action_on_every_resource(
        statements: list[Statement]) -> None:
    assert len(_allows(statements)) >= 10, "the policies were not found"
    assert wildcard_findings(statements) == []


@pytest.mark.parametrize("service", SCOPED_SERVICES)
def test_data_holding_services_get_only_reads_on_every_resource(
        statements: list[Statement], service: str) -> None:
    granted = [(s.where, a) for s in _allows(statements) if "*" in (s.resources or ())
               for a in s.actions if isinstance(a, str) and a.startswith(f"{service}:")]
    too_broad = [(where, action) for where, action in granted
                 if action not in READ_ONLY_ON_ANY_RESOURCE
                 and not (service == "iam" and action.startswith(("iam:Get", "iam:List")))]
    assert too_broad == []


def test_iam_and_s3_writes_are_limited_to_the_name_prefix(statements: list[Statement]) -> None:
    writes = [s for s in _allows(statements) if PREFIX_SCOPED_WRITES & set(s.actions)]
    assert {a for s in writes for a in s.actions} >= {"iam:CreateRole", "iam:PassRole", "s3:*"}
    for s in writes:
        assert s.resources, s.where
        for resource in s.resources:
            assert isinstance(resource, str) and "${var.name_prefix}*" in resource, \
                f"{s.where}: {resource!r} is not limited to the name prefix"


def test_guardrails_forbid_the_role_to_change_itself(module: list[Block]) -> None:
    guardrails = one(module, "data", "aws_iam_policy_document", "guardrails")
    denies = [s for s in policy_statements([guardrails]) if s.effect == "Deny"]
    self_protection = [s for s in denies
                       if {"iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:CreatePolicyVersion",
                           "iam:UpdateAssumeRolePolicy", "iam:PassRole"} <= set(s.actions)]
    assert len(self_protection) == 1
    (statement,) = self_protection
    text = " ".join(str(r) if isinstance(r, str) else r.source for r in statement.resources or ())
    assert "role/${var.role_name}" in text and "local.policy_names" in text


def test_region_guardrail_exempts_global_services(module: list[Block]) -> None:
    guardrails = one(module, "data", "aws_iam_policy_document", "guardrails")
    (dynamic,) = guardrails.blocks("dynamic")
    assert "var.allowed_regions" in dynamic.get("for_each").source
    (content,) = dynamic.blocks("content")
    assert content.get("effect") == "Deny"
    assert {"iam:*", "sts:*", "route53:*"} <= set(content.get("not_actions"))
    (condition,) = content.blocks("condition")
    assert (condition.get("test"), condition.get("variable")) == \
        ("StringNotEquals", "aws:RequestedRegion")


def test_every_permission_document_is_attached_to_the_role(module: list[Block]) -> None:
    documents = {b.labels[1] for b in find(module, "data", "aws_iam_policy_document")} - {"trust"}
    locals_ = {name: value for b in find(module, "locals") for name, value in b.body.items()}
    attached = locals_["policy_documents"]
    assert {k: v.source for k, v in attached.items()} == \
        {name: f"data.aws_iam_policy_document.{name}.json" for name in documents}
    assert set(locals_["policy_parts"]) == set(attached), "policy names and documents disagree"
    policy = one(module, "resource", "aws_iam_policy", "grid")
    assert policy.get("for_each") == Expr("local.policy_documents")
    attachment = one(module, "resource", "aws_iam_role_policy_attachment", "grid")
    assert attachment.get("for_each") == Expr("aws_iam_policy.grid")
    assert attachment.get("role") == Expr("aws_iam_role.grid.name")


def test_every_reference_is_declared_and_every_input_is_used(module: list[Block]) -> None:
    referenced, names = references(module), declared(module)
    assert referenced - names == set(), "references to undeclared names"
    unused = {n for n in names - referenced if n.startswith(("var.", "local.", "data."))}
    assert unused == set(), "declared but never used"


def test_versions_pin_terraform_and_both_providers(module: list[Block]) -> None:
    terraform = one(module, "terraform")
    assert terraform.get("required_version", "").startswith(">=")
    (providers,) = terraform.blocks("required_providers")
    for name in ("aws", "random"):
        provider = providers.get(name)
        assert provider["source"] == f"hashicorp/{name}"
        assert "<" in provider["version"] or "~>" in provider["version"], \
            f"{name} has no upper bound: {provider['version']}"


#: Values the interpolations take in a real account, as long as they get.
_SAMPLE = {"${local.partition}": "aws-us-gov", "${local.account_id}": "123456789012",
           "${local.iam_arn}": "arn:aws-us-gov:iam::123456789012",
           "${var.name_prefix}": "x" * 32, "${var.role_name}": "x" * 64}


def _rendered(value: object) -> object:
    if isinstance(value, Expr):
        return "x" * 400  # an expression (the guardrails' ARN list): a generous stand-in
    if isinstance(value, str):
        for placeholder, sample in _SAMPLE.items():
            value = value.replace(placeholder, sample)
        return value
    return value


@pytest.mark.parametrize("document", ["compute", "iam", "storage", "guardrails"])
def test_each_permission_document_fits_a_managed_policy(module: list[Block],
                                                        document: str) -> None:
    """IAM refuses a managed policy over 6,144 characters (whitespace not counted)."""
    block = one(module, "data", "aws_iam_policy_document", document)
    rendered = {"Version": "2012-10-17", "Statement": [
        {"Sid": "x" * 40, "Effect": str(s.effect),
         "Action": [_rendered(a) for a in s.actions],
         "NotAction": [_rendered(a) for a in s.not_actions],
         "Resource": [_rendered(r) for r in s.resources or ()],
         "Condition": {str(c.test): {str(c.variable): [_rendered(v) for v in c.values]}
                       for c in s.conditions}}
        for s in policy_statements([block])]}
    size = len(json.dumps(rendered, separators=(",", ":")))
    assert size < 6144, f"{document} renders to about {size} characters"


_SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


def test_every_checkov_skip_says_why_and_the_readme_lists_it() -> None:
    skips = [match for path in TF_FILES for line in path.read_text().splitlines()
             if (match := _SKIP.search(line.strip()))]
    assert skips, "permissions.tf explains its checkov findings"
    readme = (MODULE / "README.md").read_text()
    for match in skips:
        check, reason = match.group(1), (match.group(2) or "").strip()
        assert len(reason) > 40, f"{check}: the reason is missing or too short"
        assert f"`{check}`" in readme, f"{check} is not in terraform/README.md"
