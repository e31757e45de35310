"""Preflight against a moto account; quotas through botocore's Stubber (moto has no EC2
quotas), bad credentials and disabled regions through the Stubber as well."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.stub import Stubber

from reconciler.aws.preflight import Check, has_failures, run_preflight
from reconciler.aws.session import SessionFactory
from reconciler.errors import SecretError
from reconciler.model import DesiredCluster
from tests.aws.conftest import (
    EXTERNAL_ID,
    ROLE_ARN,
    create_role,
    make_cluster,
    quota_answer,
    trust_policy,
)

#: The quotas a g4dn.xlarge + m5.large cluster depends on, in the order they are asked.
GOOD_QUOTAS = [("autoscaling", "L-CDE20ADC", 800.0), ("autoscaling", "L-6B80B8FA", 600.0),
               ("ec2", "L-1216C47A", 1152.0), ("ec2", "L-34B43A08", 1152.0),
               ("ec2", "L-DB2E81BA", 1000.0), ("ec2", "L-3819A6DF", 2048.0),
               ("s3", "L-DC2B2D3D", 10000.0)]


def resolve(_: DesiredCluster) -> str:
    return EXTERNAL_ID


@contextmanager
def stubbed_quotas(sessions: SessionFactory, answers: list[tuple[str, str, float]],
                   region: str = "us-east-1") -> Iterator[Stubber]:
    stubber = Stubber(sessions.client("service-quotas", region))
    for service, code, value in answers:
        stubber.add_response("get_service_quota", quota_answer(service, code, value, region),
                             {"ServiceCode": service, "QuotaCode": code})
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def by_name(checks: list[Check]) -> dict[str, list[Check]]:
    found: dict[str, list[Check]] = {}
    for c in checks:
        found.setdefault(c.name, []).append(c)
    return found


def status_of(checks: list[Check], name: str) -> set[str]:
    return {c.status for c in by_name(checks)[name]}


def test_good_account_passes_every_check(sessions: SessionFactory) -> None:
    create_role(sessions)
    with stubbed_quotas(sessions, GOOD_QUOTAS):
        checks = run_preflight([make_cluster()], resolve, sessions)
    assert [c for c in checks if c.status != "pass"] == []
    assert set(by_name(checks)) == {
        "credentials", "sts-regional-endpoint", "instance-type", "role", "trust-policy",
        "quota/asg", "quota/launch-configs", "quota/on-demand-vcpu Standard (A, C, D, H, I, M, "
        "R, T, Z)", "quota/spot-vcpu Standard (A, C, D, H, I, M, R, T, Z)",
        "quota/on-demand-vcpu G and VT", "quota/spot-vcpu G and VT", "headroom/iam-roles",
        "headroom/iam-policies", "headroom/s3-buckets"}
    assert not has_failures(checks)


def test_missing_role_fails_and_skips_the_trust_check(sessions: SessionFactory) -> None:
    create_role(sessions, name="some-other-role")
    checks = run_preflight([make_cluster()], resolve, sessions)
    (role,) = by_name(checks)["role"]
    assert role.status == "fail"
    assert ROLE_ARN in role.message and "terraform" in role.hint
    assert "trust-policy" not in by_name(checks)
    assert has_failures(checks)


@pytest.mark.parametrize(("policy_ids", "resolved", "status"), [
    ("ext-someone-else-0000", EXTERNAL_ID, "fail"),
    ([EXTERNAL_ID, "ext-second-id-1111"], EXTERNAL_ID, "pass"),
    (EXTERNAL_ID, None, "warn"),
], ids=["wrong-external-id", "listed-among-values", "unresolved"])
def test_trust_policy_compares_the_external_id(
        sessions: SessionFactory, policy_ids: str | list[str], resolved: str | None,
        status: str) -> None:
    create_role(sessions, trust_policy(policy_ids))
    checks = run_preflight([make_cluster()], lambda _: resolved, sessions)
    (trust,) = by_name(checks)["trust-policy"]
    assert trust.status == status
    values = [policy_ids] if isinstance(policy_ids, str) else policy_ids
    shown = " ".join(f"{c.message} {c.hint}" for c in checks)
    assert not any(v in shown for v in [*values, EXTERNAL_ID])


def test_resolver_failure_is_a_warning_not_a_crash(sessions: SessionFactory) -> None:
    create_role(sessions)

    def failing(_: DesiredCluster) -> str:
        raise SecretError("environment variable GRID_EXTERNAL_ID is not set")

    (trust,) = by_name(run_preflight([make_cluster()], failing, sessions))["trust-policy"]
    assert trust.status == "warn"


@pytest.mark.parametrize(("region", "instance_type", "expected"), [
    ("us-east-1", "t4g.small", "arm64"),
    ("us-east-1", "m6g.large", "arm64"),
    ("af-south-1", "p4d.24xlarge", "not offered in af-south-1"),
    ("us-east-1", "g4dn.xlarge", "offered in us-east-1 and is x86_64"),
], ids=["t4g-arm64", "m6g-arm64", "p4d-not-in-af-south-1", "g4dn-good"])
def test_instance_types_are_judged_from_ec2_answers(
        sessions: SessionFactory, region: str, instance_type: str, expected: str) -> None:
    create_role(sessions)
    checks = run_preflight([make_cluster(region=region, types=(instance_type,))], resolve,
                           sessions)
    (check,) = by_name(checks)["instance-type"]
    assert expected in check.message
    assert check.status == ("pass" if expected.startswith("offered") else "fail")


def test_service_quotas_unavailable_is_a_warning(sessions: SessionFactory) -> None:
    # moto answers Service Quotas only for VPC: every EC2 and Auto Scaling quota is unanswered.
    create_role(sessions)
    checks = run_preflight([make_cluster()], resolve, sessions)
    quotas = [c for c in checks if c.name.startswith("quota/")]
    assert quotas and {c.status for c in quotas} == {"warn"}
    assert all(c.message.startswith("could not check") for c in quotas)


def test_clusters_sharing_a_region_ask_ec2_once(sessions: SessionFactory) -> None:
    create_role(sessions)
    calls: list[str] = []
    ec2 = sessions.client("ec2", "us-east-1")

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    ec2.meta.events.register("before-call.ec2.*", count)
    clusters = [make_cluster("a", types=("g4dn.xlarge",)), make_cluster("b", types=("m5.large",))]
    try:
        checks = run_preflight(clusters, resolve, sessions)
    finally:
        ec2.meta.events.unregister("before-call.ec2.*", count)
    assert sorted(calls) == ["DescribeInstanceTypeOfferings", "DescribeInstanceTypes"]
    assert {(c.cluster, c.status) for c in by_name(checks)["instance-type"]} == \
        {("a", "pass"), ("b", "pass")}


def test_bad_credentials_fail_once_and_stop(sessions: SessionFactory) -> None:
    stubber = Stubber(sessions.client("sts", "us-east-1"))
    stubber.add_client_error("get_caller_identity", "InvalidClientTokenId",
                             "The security token included in the request is invalid.", 403)
    with stubber:
        checks = run_preflight([make_cluster()], resolve, sessions)
    assert [(c.name, c.status) for c in checks] == [("credentials", "fail")]
    assert "InvalidClientTokenId" in checks[0].message


def test_region_with_sts_disabled_fails(sessions: SessionFactory) -> None:
    create_role(sessions)
    stubber = Stubber(sessions.client("sts", "eu-south-1"))
    stubber.add_client_error("get_caller_identity", "RegionDisabledException",
                             "STS is not activated in this region", 403)
    with stubber:
        checks = run_preflight([make_cluster(region="eu-south-1", types=("m5.large",))],
                               resolve, sessions)
    (sts,) = by_name(checks)["sts-regional-endpoint"]
    assert sts.status == "fail" and "activate STS" in sts.hint


def test_iam_access_denied_warns_with_the_missing_permission(
        sessions: SessionFactory) -> None:
    stubber = Stubber(sessions.client("iam", "us-east-1"))
    for operation in ("get_role", "get_account_summary"):
        stubber.add_client_error(operation, "AccessDenied", "not authorized", 403)
    with stubber:
        checks = run_preflight([make_cluster()], resolve, sessions)
    found = by_name(checks)
    assert found["role"][0].status == "warn"
    assert "iam:GetRole" in found["role"][0].hint
    assert {c.status for c in found["headroom/iam-roles"]} == {"warn"}


def test_role_in_another_account_is_not_checked_with_these_credentials(
        sessions: SessionFactory) -> None:
    other = make_cluster(role_arn="arn:aws:iam::210987654321:role/grid-byoc")
    checks = run_preflight([other], resolve, sessions)
    (account,) = by_name(checks)["account"]
    assert account.status == "warn" and "210987654321" in account.message
    assert "role" not in by_name(checks)


def test_quota_below_recommendation_fails_with_an_increase_hint(
        sessions: SessionFactory) -> None:
    create_role(sessions)
    answers = [(s, c, 64.0 if c == "L-DB2E81BA" else v) for s, c, v in GOOD_QUOTAS]
    with stubbed_quotas(sessions, answers):
        checks = run_preflight([make_cluster()], resolve, sessions)
    (gpu,) = by_name(checks)["quota/on-demand-vcpu G and VT"]
    assert gpu.status == "fail"
    assert "64" in gpu.message and "1000" in gpu.message and "L-DB2E81BA" in gpu.hint
