"""The trust policy check, on the document forms IAM answers with."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from reconciler.aws.trust import check_trust_policy, parse_policy_document

EXTERNAL_ID = "ext-a81f0c3e9b"
GRID = {"AWS": "arn:aws:iam::302180240179:root"}


def statement(condition: dict[str, Any] | None = None, *, action: Any = "sts:AssumeRole",
              principal: Any = None, effect: str = "Allow") -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect, "Principal": principal or GRID, "Action": action}
    if condition is not None:
        s["Condition"] = condition
    return s


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


REQUIRES_ID = statement({"StringEquals": {"sts:ExternalId": EXTERNAL_ID}})


@pytest.mark.parametrize("document", [
    policy(REQUIRES_ID),
    json.dumps(policy(REQUIRES_ID)),
    urllib.parse.quote(json.dumps(policy(REQUIRES_ID))),
], ids=["dict", "json-string", "url-encoded"])
def test_document_forms_are_all_read(document: Any) -> None:
    assert check_trust_policy(document, EXTERNAL_ID).status == "pass"


@pytest.mark.parametrize(("document", "status", "words"), [
    (policy(statement({"StringEquals": {"sts:ExternalId": [EXTERNAL_ID, "other"]}})),
     "pass", "requires"),
    (policy(statement({"StringEquals": {"STS:EXTERNALID": EXTERNAL_ID}})), "pass", "requires"),
    ({"Version": "2012-10-17", "Statement": REQUIRES_ID}, "pass", "requires"),
    (policy(statement(action=["sts:AssumeRole", "sts:TagSession"])), "fail", "does not require"),
    (policy(statement({"StringEquals": {"sts:ExternalId": "ext-other-0000"}})), "fail",
     "differs"),
    (policy(statement({"StringLike": {"sts:ExternalId": EXTERNAL_ID}})), "fail",
     "does not require"),
    (policy(statement({"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}, effect="Deny")),
     "fail", "allows no sts:AssumeRole"),
    (policy(REQUIRES_ID, statement(principal={"AWS": "arn:aws:iam::111122223333:root"})),
     "warn", "without one"),
    (policy(REQUIRES_ID, statement(principal={"Service": "ec2.amazonaws.com"})), "pass",
     "requires"),
    ("not a policy", "fail", "cannot be read"),
], ids=["list-of-values", "key-case-insensitive", "single-statement-object", "no-condition",
        "wrong-id", "stringlike-is-not-equality", "deny-only", "second-open-statement",
        "service-principal-is-fine", "garbage"])
def test_trust_verdicts(document: Any, status: str, words: str) -> None:
    verdict = check_trust_policy(document, EXTERNAL_ID)
    assert (verdict.status, words in verdict.message) == (status, True)
    assert EXTERNAL_ID not in verdict.message + verdict.hint


def test_unresolved_external_id_is_a_warning_when_a_condition_exists() -> None:
    assert check_trust_policy(policy(REQUIRES_ID), None).status == "warn"


def test_unresolved_external_id_still_fails_a_policy_without_condition() -> None:
    assert check_trust_policy(policy(statement()), None).status == "fail"


def test_parse_rejects_a_json_list() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_policy_document("[1, 2]")
