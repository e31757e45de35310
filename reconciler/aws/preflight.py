"""``gridops preflight``: is each cluster's AWS account ready for Grid?

For every cluster: the credentials work and the region's STS endpoint answers; the role in
``roleArn`` exists and its trust policy requires the cluster's external id; every instance
type is offered in the region and is x86_64 (as EC2 itself says); the quotas meet the BYOC
guide's recommendations and the account has room for what a cluster creates. Questions
shared by clusters of one account and region are asked once (``Questions`` memoizes them).
A question AWS does not answer is a warning that says why, never a pass and never a crash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from reconciler.aws.calls import Unanswered
from reconciler.aws.checks import Check, Status, unanswered_check
from reconciler.aws.questions import Questions
from reconciler.aws.quotas import check_headroom, check_quotas
from reconciler.aws.session import SessionFactory, global_region
from reconciler.aws.trust import check_trust_policy
from reconciler.errors import SecretError
from reconciler.model import DesiredCluster

__all__ = ["Check", "Status", "has_failures", "instance_types_of", "run_preflight"]

#: Extra node types a document may set besides ``instanceTypes`` (they must be x86_64 too).
_NODE_TYPE_FIELDS = ("managementNodeInstanceType", "builderNodeInstanceType",
                     "tensorboardNodeInstanceType")

ExternalIdResolver = Callable[[DesiredCluster], "str | None"]


def run_preflight(clusters: Sequence[DesiredCluster],
                  resolve_external_id: ExternalIdResolver,
                  sessions: SessionFactory) -> list[Check]:
    """Every check for every cluster, in cluster order."""
    types_by_region: dict[str, set[str]] = defaultdict(set)
    for cluster in clusters:
        types_by_region[cluster.region].update(instance_types_of(cluster))
    questions = Questions(sessions, types_by_region)
    checks: list[Check] = []
    for cluster in clusters:
        checks.extend(_check_cluster(cluster, resolve_external_id, questions))
    return checks


def has_failures(checks: Sequence[Check]) -> bool:
    """Whether any check failed (what ``plan --strict`` stops on)."""
    return any(c.status == "fail" for c in checks)


def instance_types_of(cluster: DesiredCluster) -> list[str]:
    """The instance types a cluster uses: ``instanceTypes`` and any extra node types."""
    extra = dict(cluster.aws_extra)
    types = [spec.name for spec in cluster.instance_types]
    types += [str(extra[f]) for f in _NODE_TYPE_FIELDS if extra.get(f)]
    return list(dict.fromkeys(types))


def _check_cluster(cluster: DesiredCluster, resolve_external_id: ExternalIdResolver,
                   questions: Questions) -> list[Check]:
    identity = _check_credentials(cluster, questions)
    if identity.status == "fail":
        return [identity]
    checks = [identity, _check_regional_sts(cluster, questions)]
    checks += _check_instance_types(cluster, questions)
    role_account = _account_of(cluster.role_arn)
    caller_account = _caller_account(cluster, questions)
    if caller_account and role_account and caller_account != role_account:
        return checks + [_other_account(cluster, caller_account, role_account)]
    checks += _check_role(cluster, resolve_external_id, questions)
    checks += check_quotas(cluster.name, cluster.region, instance_types_of(cluster), questions)
    checks += check_headroom(cluster.name, cluster.region, questions)
    return checks


def _check_credentials(cluster: DesiredCluster, questions: Questions) -> Check:
    region = cluster.region
    try:
        who = questions.identity(global_region(region))
    except Unanswered as u:
        if u.bad_credentials:
            return Check(cluster.name, region, "credentials", "fail",
                         f"the AWS credentials do not work: {u.reason}", u.hint)
        return unanswered_check(cluster.name, region, "credentials", u)
    return Check(cluster.name, region, "credentials", "pass",
                 f"account {who.get('Account', '?')} as {who.get('Arn', '?')}")


def _caller_account(cluster: DesiredCluster, questions: Questions) -> str:
    try:
        return str(questions.identity(global_region(cluster.region)).get("Account", ""))
    except Unanswered:
        return ""


def _check_regional_sts(cluster: DesiredCluster, questions: Questions) -> Check:
    region, name = cluster.region, "sts-regional-endpoint"
    try:
        questions.identity(region)
    except Unanswered as u:
        if u.code == "RegionDisabledException":
            return Check(cluster.name, region, name, "fail",
                         f"STS is not active in {region}",
                         f"activate STS for {region} in IAM > Account settings > "
                         "Security Token Service (STS) endpoints")
        return unanswered_check(cluster.name, region, name, u)
    return Check(cluster.name, region, name, "pass", f"the STS endpoint of {region} answers")


def _other_account(cluster: DesiredCluster, caller: str, owner: str) -> Check:
    return Check(cluster.name, cluster.region, "account", "warn",
                 f"the credentials are for account {caller} but the role is in account "
                 f"{owner}: the role, quota and headroom checks were not run",
                 f"run preflight with credentials for account {owner}")


def _account_of(role_arn: str) -> str:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _check_role(cluster: DesiredCluster, resolve_external_id: ExternalIdResolver,
                questions: Questions) -> list[Check]:
    region, role_name = cluster.region, cluster.role_arn.rsplit("/", 1)[-1]
    try:
        role = questions.role(region, role_name)
    except Unanswered as u:
        return [unanswered_check(cluster.name, region, "role", u)]
    if role is None or role.get("Arn") != cluster.role_arn:
        return [Check(cluster.name, region, "role", "fail",
                      f"the role {cluster.role_arn} does not exist",
                      "create it with the terraform module in terraform/, or fix roleArn")]
    found = Check(cluster.name, region, "role", "pass", f"the role {role_name} exists")
    external_id = _resolve(cluster, resolve_external_id)
    verdict = check_trust_policy(role.get("AssumeRolePolicyDocument"), external_id)
    return [found, Check(cluster.name, region, "trust-policy", verdict.status,
                         verdict.message, verdict.hint)]


def _resolve(cluster: DesiredCluster, resolve_external_id: ExternalIdResolver) -> str | None:
    try:
        return resolve_external_id(cluster)
    except SecretError:
        return None


def _check_instance_types(cluster: DesiredCluster, questions: Questions) -> list[Check]:
    region, name = cluster.region, "instance-type"
    try:
        offered = questions.offered_types(region)
        archs = questions.architectures(region)
    except Unanswered as u:
        return [unanswered_check(cluster.name, region, name, u)]
    return [_instance_type_check(cluster.name, region, t, offered, archs)
            for t in instance_types_of(cluster)]


def _instance_type_check(cluster: str, region: str, instance_type: str,
                         offered: frozenset[str], archs: dict[str, tuple[str, ...]]) -> Check:
    name = "instance-type"
    if instance_type not in offered:
        return Check(cluster, region, name, "fail",
                     f"{instance_type} is not offered in {region}",
                     f"pick a type EC2 offers there (aws ec2 describe-instance-type-offerings "
                     f"--region {region})")
    supported = archs.get(instance_type, ())
    if "x86_64" not in supported:
        shown = ", ".join(supported) or "unknown"
        return Check(cluster, region, name, "fail",
                     f"{instance_type} is {shown}, not x86_64: Grid supports only amd64 types",
                     "use an x86_64 type (for example g4dn.xlarge or m5.large)")
    return Check(cluster, region, name, "pass",
                 f"{instance_type} is offered in {region} and is x86_64")
