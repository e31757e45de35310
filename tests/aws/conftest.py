"""AWS test set-up: moto in decorator mode (in-process, no network) and account builders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from reconciler.aws.session import SessionFactory
from reconciler.model import DesiredCluster, InstanceSpec, SecretRef

ACCOUNT = "123456789012"
ROLE_NAME = "grid-byoc"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
EXTERNAL_ID = "ext-7f3a9c51d2e84b06"
GRID_ACCOUNT_ARN = "arn:aws:iam::302180240179:root"


@pytest.fixture(scope="session")
def shared_sessions() -> SessionFactory:
    """One factory for the whole run: making an EC2 client costs a fifth of a second, and
    moto answers clients made before its mock started just as well."""
    return SessionFactory(env={})


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch,
             shared_sessions: SessionFactory) -> Iterator[SessionFactory]:
    """A fresh, empty moto account for the test, and a SessionFactory that talks to it."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # saves a quarter second a test
    with mock_aws():
        yield shared_sessions


def trust_policy(external_id: str | list[str] = EXTERNAL_ID) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": GRID_ACCOUNT_ARN}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]}


def create_role(sessions: SessionFactory, policy: dict[str, Any] | None = None,
                name: str = ROLE_NAME) -> None:
    sessions.client("iam", "us-east-1").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(policy or trust_policy()))


def make_cluster(name: str = "research", region: str = "us-east-1",
                 types: tuple[str, ...] = ("g4dn.xlarge", "m5.large"),
                 role_arn: str = ROLE_ARN) -> DesiredCluster:
    return DesiredCluster(
        name=name, region=region, role_arn=role_arn,
        external_id=SecretRef("fromEnv", (("name", "GRID_EXTERNAL_ID"),)),
        performance_profile="CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
        instance_types=tuple(InstanceSpec(t) for t in types))


def quota_answer(service: str, code: str, value: float, region: str = "us-east-1",
                 name: str = "quota") -> dict[str, Any]:
    """A get_service_quota answer in the shape Service Quotas sends."""
    return {"Quota": {
        "ServiceCode": service, "ServiceName": service.upper(),
        "QuotaArn": f"arn:aws:servicequotas:{region}:{ACCOUNT}:{service}/{code}",
        "QuotaCode": code, "QuotaName": name, "Value": value, "Unit": "None",
        "Adjustable": True, "GlobalQuota": False,
        "UsageMetric": {"MetricNamespace": "AWS/Usage", "MetricName": "ResourceCount",
                        "MetricDimensions": {"Resource": "vCPU", "Service": service.upper(),
                                             "Type": "Resource"},
                        "MetricStatisticRecommendation": "Maximum"}}}
