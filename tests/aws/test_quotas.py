"""Quota comparisons on Service Quotas answers (through botocore's Stubber), and the table
from instance families to quota codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from reconciler.aws.questions import Questions
from reconciler.aws.quotas import check_headroom, check_quotas, quotas_for, vcpu_class
from reconciler.aws.session import SessionFactory
from tests.aws.conftest import quota_answer

REGION = "eu-west-1"


@pytest.mark.parametrize(("instance_type", "on_demand", "spot"), [
    ("m5.large", "L-1216C47A", "L-34B43A08"),
    ("c6i.xlarge", "L-1216C47A", "L-34B43A08"),
    ("g4dn.xlarge", "L-DB2E81BA", "L-3819A6DF"),
    ("vt1.3xlarge", "L-DB2E81BA", "L-3819A6DF"),
    ("p3.2xlarge", "L-417A185B", "L-7212CCBC"),
    ("inf2.xlarge", "L-1945791B", "L-B5D1601B"),
    ("x2iedn.xlarge", "L-7295265B", "L-E3A00192"),
    ("dl1.24xlarge", "L-6E869C2A", "L-85EED4F7"),
    ("u-6tb1.metal", "L-43DA4232", None),
], ids=lambda v: str(v))
def test_families_map_to_their_vcpu_quota_codes(instance_type: str, on_demand: str,
                                                spot: str | None) -> None:
    found = vcpu_class(instance_type)
    assert found is not None
    assert (found.on_demand, found.spot) == (on_demand, spot)


def test_unknown_family_has_no_class() -> None:
    assert vcpu_class("mac2.metal") is None


def test_a_class_used_twice_is_asked_once() -> None:
    codes = [q.code for q in quotas_for(["m5.large", "c5.xlarge", "g5.xlarge"])]
    assert codes == ["L-CDE20ADC", "L-6B80B8FA", "L-1216C47A", "L-34B43A08", "L-DB2E81BA",
                     "L-3819A6DF"]


@pytest.fixture
def quota_stub(sessions: SessionFactory) -> Iterator[Stubber]:
    stubber = Stubber(sessions.client("service-quotas", REGION))
    with stubber:
        yield stubber


@pytest.mark.parametrize(("asg", "status"), [(800.0, "pass"), (5000.0, "pass"),
                                             (500.0, "fail")],
                         ids=["at-recommendation", "above", "below"])
def test_asg_quota_is_compared_to_800(sessions: SessionFactory, quota_stub: Stubber,
                                      asg: float, status: str) -> None:
    quota_stub.add_response("get_service_quota", quota_answer("autoscaling", "L-CDE20ADC", asg,
                                                              REGION))
    quota_stub.add_response("get_service_quota", quota_answer("autoscaling", "L-6B80B8FA",
                                                              600.0, REGION))
    checks = check_quotas("c", REGION, [], Questions(sessions, {}))
    assert [(c.name, c.status) for c in checks] == [("quota/asg", status),
                                                    ("quota/launch-configs", "pass")]


def test_quota_without_applied_value_falls_back_to_the_default(
        sessions: SessionFactory, quota_stub: Stubber) -> None:
    quota_stub.add_client_error("get_service_quota", "NoSuchResourceException",
                                "The request failed because the specified resource does "
                                "not exist.", 400)
    quota_stub.add_response("get_aws_default_service_quota",
                            quota_answer("autoscaling", "L-CDE20ADC", 200.0, REGION),
                            {"ServiceCode": "autoscaling", "QuotaCode": "L-CDE20ADC"})
    quota_stub.add_client_error("get_service_quota", "AccessDeniedException", "no", 403)
    checks = check_quotas("c", REGION, [], Questions(sessions, {}))
    assert [(c.name, c.status) for c in checks] == [("quota/asg", "fail"),
                                                    ("quota/launch-configs", "warn")]
    assert "servicequotas:GetServiceQuota" in checks[1].hint


def test_unknown_family_is_a_warning(sessions: SessionFactory, quota_stub: Stubber) -> None:
    for code in ("L-CDE20ADC", "L-6B80B8FA"):
        quota_stub.add_response("get_service_quota",
                                quota_answer("autoscaling", code, 1000.0, REGION))
    checks = check_quotas("c", REGION, ["mac2.metal"], Questions(sessions, {}))
    assert [(c.name, c.status) for c in checks][0] == ("quota/vcpu", "warn")


@pytest.mark.parametrize(("roles", "status"), [(985, "pass"), (986, "fail")],
                         ids=["15-free", "14-free"])
def test_iam_role_headroom_needs_15(sessions: SessionFactory, roles: int, status: str) -> None:
    stub = Stubber(sessions.client("iam", "us-east-1"))
    stub.add_response("get_account_summary", {"SummaryMap": {
        "Roles": roles, "RolesQuota": 1000, "Policies": 0, "PoliciesQuota": 1500}})
    with stub:
        checks = check_headroom("c", REGION, Questions(sessions, {}))
    (role_check,) = [c for c in checks if c.name == "headroom/iam-roles"]
    assert role_check.status == status


@pytest.mark.parametrize(("buckets", "status"), [(95, "pass"), (96, "warn")],
                         ids=["room-under-lowest-default", "unknown-quota-near-default"])
def test_bucket_headroom_without_a_quota_answer(sessions: SessionFactory, buckets: int,
                                                status: str) -> None:
    s3 = sessions.client("s3", "us-east-1")
    for i in range(buckets):
        s3.create_bucket(Bucket=f"bucket-{i:03d}")
    checks = check_headroom("c", REGION, Questions(sessions, {}))
    (bucket_check,) = [c for c in checks if c.name == "headroom/s3-buckets"]
    assert bucket_check.status == status
