"""Reading a role's trust policy: does it require the cluster's external id?

Pure functions over the policy document as IAM returns it (a dict when boto3 decoded it, or
the URL-encoded JSON string of the raw API). The external id is compared in constant time and
never appears in a verdict.
"""

from __future__ import annotations

import hmac
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pass", "warn", "fail"]

_ASSUME_ACTIONS = frozenset({"sts:assumerole", "sts:*", "*"})
_EXTERNAL_ID_KEY = "sts:externalid"


@dataclass(frozen=True)
class TrustVerdict:
    """The trust check's outcome. ``message`` and ``hint`` never hold the external id."""

    status: Status
    message: str
    hint: str = ""


def parse_policy_document(document: Any) -> dict[str, Any]:
    """The policy as a dict from a dict, a JSON string or a URL-encoded JSON string."""
    if isinstance(document, Mapping):
        return dict(document)
    if not isinstance(document, str):
        raise ValueError("the policy document is neither a mapping nor a string")
    for text in (document, urllib.parse.unquote(document)):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    raise ValueError("the policy document is not a JSON object")


def check_trust_policy(document: Any, external_id: str | None) -> TrustVerdict:
    """Whether the trust policy lets sts:AssumeRole only with ``external_id``."""
    try:
        statements = _statements(parse_policy_document(document))
    except ValueError as e:
        return TrustVerdict("fail", f"the trust policy cannot be read: {e}")
    allowing = [s for s in statements if _allows_assume_role(s)]
    if not allowing:
        return TrustVerdict("fail", "the trust policy allows no sts:AssumeRole",
                            hint=_ADD_CONDITION)
    guarded = [s for s in allowing if _external_ids(s)]
    if not guarded:
        return TrustVerdict("fail", "the trust policy does not require an sts:ExternalId",
                            hint=_ADD_CONDITION)
    if external_id is None:
        return TrustVerdict("warn", "the trust policy requires an sts:ExternalId, but the "
                            "cluster's external id could not be resolved to compare it",
                            hint="make the cluster's externalId reference resolvable here")
    if not any(_same(value, external_id) for s in guarded for value in _external_ids(s)):
        return TrustVerdict(
            "fail", "the trust policy's sts:ExternalId differs from the cluster's external id",
            hint="set the cluster's externalId to the role's external id (terraform output "
                 "external_id), or update the role's trust policy")
    open_doors = [s for s in allowing if not _external_ids(s) and _aws_principal(s)]
    if open_doors:
        return TrustVerdict(
            "warn", "the trust policy requires the cluster's external id, but another "
            "statement allows sts:AssumeRole to AWS principals without one",
            hint="remove that statement or add the sts:ExternalId condition to it")
    return TrustVerdict("pass", "the trust policy requires the cluster's external id")


_ADD_CONDITION = ("add a Condition {StringEquals: {sts:ExternalId: <external id>}} to the "
                  "statement that allows Grid sts:AssumeRole (the terraform module does this)")


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = policy.get("Statement", [])
    items = [raw] if isinstance(raw, Mapping) else list(raw) if isinstance(raw, list) else []
    return [s for s in items if isinstance(s, Mapping)]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _allows_assume_role(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    actions = _as_list(statement.get("Action", []))
    return any(isinstance(a, str) and a.lower() in _ASSUME_ACTIONS for a in actions)


def _external_ids(statement: Mapping[str, Any]) -> list[str]:
    """The sts:ExternalId values a StringEquals condition of the statement requires."""
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    values: list[str] = []
    for operator, keys in condition.items():
        if str(operator).lower() != "stringequals" or not isinstance(keys, Mapping):
            continue
        for key, value in keys.items():
            if str(key).lower() == _EXTERNAL_ID_KEY:
                values.extend(str(v) for v in _as_list(value))
    return values


def _aws_principal(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    return principal == "*" or (isinstance(principal, Mapping) and "AWS" in principal)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
