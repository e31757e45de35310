"""The AWS questions preflight asks, each asked once per run however many clusters need it.

``Questions`` memoizes every answer (and every failure to answer) by account-wide or regional
key, so clusters sharing an account and region cost one call per question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from reconciler.aws.calls import Unanswered, ask, error_code
from reconciler.aws.session import SessionFactory, global_region

T = TypeVar("T")

#: describe_instance_types takes at most this many types per call.
_TYPES_PER_CALL = 100


class Questions:
    """Memoized AWS questions for one preflight run.

    ``types_by_region`` is every instance type any cluster wants in each region, so the
    offerings of a region are asked in one call.
    """

    def __init__(self, sessions: SessionFactory,
                 types_by_region: Mapping[str, Iterable[str]]) -> None:
        self._sessions = sessions
        self._types = {region: sorted(set(types)) for region, types in types_by_region.items()}
        self._answers: dict[tuple[str, ...], Any] = {}

    def identity(self, region: str) -> dict[str, Any]:
        """sts get_caller_identity through the STS endpoint of ``region``."""
        sts = self._sessions.client("sts", region)
        return self._memo(("identity", region), sts.get_caller_identity,
                          "sts:GetCallerIdentity")

    def role(self, region: str, name: str) -> dict[str, Any] | None:
        """The role (iam get_role), or None when no role has that name."""
        home = global_region(region)
        iam = self._sessions.client("iam", home)

        def get_role() -> dict[str, Any] | None:
            try:
                return iam.get_role(RoleName=name)["Role"]  # type: ignore[no-any-return]
            except ClientError as e:
                if error_code(e) == "NoSuchEntity":
                    return None
                raise

        return self._memo(("role", home, name), get_role, "iam:GetRole")

    def offered_types(self, region: str) -> frozenset[str]:
        """Which of the wanted types EC2 offers in ``region``."""
        ec2 = self._sessions.client("ec2", region)

        def offered() -> frozenset[str]:
            pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
                LocationType="region",
                Filters=[{"Name": "instance-type", "Values": self._types.get(region, [])}])
            return frozenset(o["InstanceType"] for p in pages for o in p["InstanceTypeOfferings"])

        return self._memo(("offered", region), offered, "ec2:DescribeInstanceTypeOfferings")

    def architectures(self, region: str) -> dict[str, tuple[str, ...]]:
        """The supported architectures of every wanted type offered in ``region``."""
        ec2 = self._sessions.client("ec2", region)
        wanted = sorted(self.offered_types(region))

        def describe() -> dict[str, tuple[str, ...]]:
            found: dict[str, tuple[str, ...]] = {}
            for i in range(0, len(wanted), _TYPES_PER_CALL):
                answer = ec2.describe_instance_types(InstanceTypes=wanted[i:i + _TYPES_PER_CALL])
                for t in answer["InstanceTypes"]:
                    archs = t.get("ProcessorInfo", {}).get("SupportedArchitectures", [])
                    found[t["InstanceType"]] = tuple(archs)
            return found

        return self._memo(("archs", region), describe, "ec2:DescribeInstanceTypes")

    def service_quota(self, region: str, service: str, code: str) -> float:
        """The applied value of a quota, else its AWS default (Service Quotas)."""
        sq = self._sessions.client("service-quotas", region)

        def value() -> float:
            try:
                answer = sq.get_service_quota(ServiceCode=service, QuotaCode=code)
            except ClientError as e:
                if error_code(e) != "NoSuchResourceException":
                    raise
                # No applied value: the quota is at its default.
                answer = sq.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)
            return float(answer["Quota"]["Value"])

        return self._memo(("quota", region, service, code), value,
                          "servicequotas:GetServiceQuota")

    def account_summary(self, region: str) -> dict[str, int]:
        """iam get_account_summary's SummaryMap (Roles, RolesQuota, Policies, ...)."""
        home = global_region(region)
        iam = self._sessions.client("iam", home)
        return self._memo(("summary", home), lambda: dict(iam.get_account_summary()["SummaryMap"]),
                          "iam:GetAccountSummary")

    def bucket_count(self, region: str) -> int:
        """How many S3 buckets the account has."""
        home = global_region(region)
        s3 = self._sessions.client("s3", home)

        def count() -> int:
            pages = s3.get_paginator("list_buckets").paginate()
            return sum(len(p.get("Buckets", [])) for p in pages)

        return self._memo(("buckets", home), count, "s3:ListAllMyBuckets")

    def _memo(self, key: tuple[str, ...], call: Callable[[], T], permission: str) -> T:
        if key not in self._answers:
            try:
                self._answers[key] = ask(call, permission=permission)
            except Unanswered as u:
                self._answers[key] = u
        answer = self._answers[key]
        if isinstance(answer, Unanswered):
            raise answer
        return answer  # type: ignore[no-any-return]
