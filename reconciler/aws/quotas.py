"""Quota checks against the Grid BYOC guide's recommendations, and headroom for a new cluster.

The guide recommends per region: Auto Scaling groups 800, launch configurations 600, and
1000+ vCPUs of On-Demand and Spot for every instance family a cluster uses. Creating a
cluster also needs room for 15 IAM roles, 15 IAM policies and 5 S3 buckets in the account.
EC2 counts vCPU quotas per family *class* (all Standard families share one quota, G and VT
share one, ...); ``VCPU_CLASSES`` is the one table from families to quota codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.aws.calls import Unanswered
from reconciler.aws.checks import Check, unanswered_check
from reconciler.aws.questions import Questions


@dataclass(frozen=True)
class Quota:
    """One Service Quotas quota: ``service`` and ``code`` as Service Quotas names them,
    ``title`` for people, ``minimum`` the value the guide recommends at least."""

    name: str
    service: str
    code: str
    title: str
    minimum: float


@dataclass(frozen=True)
class VcpuClass:
    """EC2 families that share vCPU quotas. ``prefixes`` are the letters before a family's
    generation digit (``g`` for g4dn, ``inf`` for inf2); ``spot`` is None where EC2 has no
    Spot quota for the class (or its code is not known)."""

    label: str
    prefixes: frozenset[str]
    on_demand: str
    spot: str | None


VCPU_MINIMUM = 1000.0
ASG = Quota("quota/asg", "autoscaling", "L-CDE20ADC", "Auto Scaling groups per region", 800)
LAUNCH_CONFIGS = Quota("quota/launch-configs", "autoscaling", "L-6B80B8FA",
                       "Launch configurations per region", 600)
S3_BUCKETS_CODE = "L-DC2B2D3D"
#: The lowest default S3 bucket quota an account can have (the default is 10,000 since 2024).
S3_BUCKETS_LOWEST_DEFAULT = 100

VCPU_CLASSES: tuple[VcpuClass, ...] = (
    VcpuClass("Standard (A, C, D, H, I, M, R, T, Z)", frozenset("acdhimrtz") | {"im", "is"},
              "L-1216C47A", "L-34B43A08"),
    VcpuClass("G and VT", frozenset({"g", "vt"}), "L-DB2E81BA", "L-3819A6DF"),
    VcpuClass("P", frozenset({"p"}), "L-417A185B", "L-7212CCBC"),
    VcpuClass("X", frozenset({"x"}), "L-7295265B", "L-E3A00192"),
    VcpuClass("F", frozenset({"f"}), "L-74FC7D96", "L-88CF9481"),
    VcpuClass("Inf", frozenset({"inf"}), "L-1945791B", "L-B5D1601B"),
    VcpuClass("DL", frozenset({"dl"}), "L-6E869C2A", "L-85EED4F7"),
    VcpuClass("Trn", frozenset({"trn"}), "L-2C3B7624", None),
    VcpuClass("High Memory", frozenset({"u-"}), "L-43DA4232", None),
    VcpuClass("HPC", frozenset({"hpc"}), "L-F7808C92", None),
)

#: IAM headroom: (check name, what, SummaryMap usage key, SummaryMap quota key, needed).
IAM_HEADROOM = (
    ("headroom/iam-roles", "IAM roles", "Roles", "RolesQuota", 15),
    ("headroom/iam-policies", "IAM policies", "Policies", "PoliciesQuota", 15),
)
S3_HEADROOM = 5

_PREFIX_RE = re.compile(r"^([a-z]+-?)\d")


def vcpu_class(instance_type: str) -> VcpuClass | None:
    """The vCPU quota class of an instance type, or None for a family not in the table."""
    match = _PREFIX_RE.match(instance_type.lower())
    prefix = match.group(1) if match else ""
    return next((c for c in VCPU_CLASSES if prefix in c.prefixes), None)


def quotas_for(instance_types: Iterable[str]) -> list[Quota]:
    """The quotas a cluster with these instance types depends on, in a stable order."""
    wanted = {vcpu_class(t) for t in instance_types}
    quotas = [ASG, LAUNCH_CONFIGS]
    for c in VCPU_CLASSES:
        if c not in wanted:
            continue
        quotas.append(Quota(f"quota/on-demand-vcpu {c.label}", "ec2", c.on_demand,
                            f"Running On-Demand {c.label} instances (vCPUs)", VCPU_MINIMUM))
        if c.spot:
            quotas.append(Quota(f"quota/spot-vcpu {c.label}", "ec2", c.spot,
                                f"All {c.label} Spot Instance Requests (vCPUs)", VCPU_MINIMUM))
    return quotas


def check_quotas(cluster: str, region: str, instance_types: Iterable[str],
                 questions: Questions) -> list[Check]:
    """One check per quota the cluster depends on, plus a warning per unknown family."""
    types = list(instance_types)
    checks = [Check(cluster, region, "quota/vcpu", "warn",
                    f"no vCPU quota is known for {t}'s family: not checked",
                    "check its On-Demand and Spot vCPU quotas in the Service Quotas console")
              for t in types if vcpu_class(t) is None]
    for quota in quotas_for(types):
        try:
            value = questions.service_quota(region, quota.service, quota.code)
        except Unanswered as u:
            checks.append(unanswered_check(cluster, region, quota.name, u))
            continue
        checks.append(_compare(cluster, region, quota, value))
    return checks


def _compare(cluster: str, region: str, quota: Quota, value: float) -> Check:
    found = f"{quota.title}: {value:g} in {region}"
    if value >= quota.minimum:
        return Check(cluster, region, quota.name, "pass",
                     f"{found} (recommended {quota.minimum:g} or more)")
    return Check(cluster, region, quota.name, "fail",
                 f"{found}, below the recommended {quota.minimum:g}",
                 f"request an increase of {quota.service} {quota.code} to {quota.minimum:g} in "
                 f"{region} (Service Quotas console)")


def check_headroom(cluster: str, region: str, questions: Questions) -> list[Check]:
    """Room in the account for the IAM roles, policies and S3 buckets a cluster creates."""
    checks: list[Check] = []
    for name, what, used_key, quota_key, needed in IAM_HEADROOM:
        try:
            summary = questions.account_summary(region)
        except Unanswered as u:
            checks.append(unanswered_check(cluster, region, name, u))
            continue
        checks.append(_headroom(cluster, region, name, what, summary.get(used_key, 0),
                                summary.get(quota_key), needed))
    checks.append(_bucket_headroom(cluster, region, questions))
    return checks


def _headroom(cluster: str, region: str, name: str, what: str, used: int,
              quota: float | None, needed: int) -> Check:
    if quota is None:
        return Check(cluster, region, name, "warn", f"could not check: IAM did not report the "
                     f"{what} quota", "check it in the IAM console")
    free = int(quota) - used
    found = f"{used} of {quota:g} {what} used, {free} free"
    if free >= needed:
        return Check(cluster, region, name, "pass", f"{found} (a cluster needs {needed})")
    return Check(cluster, region, name, "fail", f"{found}; a cluster needs {needed}",
                 f"delete unused {what} or request a higher quota")


def _bucket_headroom(cluster: str, region: str, questions: Questions) -> Check:
    name = "headroom/s3-buckets"
    try:
        used = questions.bucket_count(region)
    except Unanswered as u:
        return unanswered_check(cluster, region, name, u)
    try:
        quota = questions.service_quota(region, "s3", S3_BUCKETS_CODE)
    except Unanswered as u:
        if used + S3_HEADROOM <= S3_BUCKETS_LOWEST_DEFAULT:
            quota = S3_BUCKETS_LOWEST_DEFAULT  # enough even at the lowest default
        else:
            return Check(cluster, region, name, "warn",
                         f"{used} S3 buckets used; could not read the bucket quota: {u.reason}",
                         u.hint)
    return _headroom(cluster, region, name, "S3 buckets", used, quota, S3_HEADROOM)
