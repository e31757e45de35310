"""``gridops sweep NAME``: find, and on request delete, what a cluster left in the account.

Finding uses the Resource Groups Tagging API for EC2 instances, EBS volumes, load balancers
and S3 buckets, and each service's own API where the tagging API does not reach (Auto Scaling
groups, launch templates, EKS clusters, IAM roles and policies). ``leftovers.py`` says which
tags and names mark a resource as the cluster's; deletion lives in ``cleanup.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.calls import Unanswered, ask
from reconciler.aws.cleanup import delete_leftovers
from reconciler.aws.leftovers import (
    Leftover,
    SweepResult,
    belongs_to,
    cluster_resource_names,
    in_delete_order,
    owner_tags,
    tag_dict,
)
from reconciler.aws.session import SessionFactory, global_region
from reconciler.errors import AWSError

__all__ = ["Leftover", "SweepResult", "delete_leftovers", "find_leftovers"]

_TAGGED_TYPES = ["ec2:instance", "ec2:volume", "elasticloadbalancing:loadbalancer", "s3"]


def find_leftovers(cluster_name: str, region: str, sessions: SessionFactory, *,
                   names: Iterable[str] = ()) -> list[Leftover]:
    """Every resource of ``cluster_name`` in ``region`` (and the account's IAM), in delete
    order. ``names`` are extra exact resource names known to be the cluster's (its
    ``bucketName``). Raises ``AWSError`` when a kind cannot be listed, so an unreadable
    service is never mistaken for a clean one."""
    extra = tuple(names)
    finders: list[tuple[str, str, Callable[[], list[Leftover]]]] = [
        ("tagged resources", "tag:GetResources",
         lambda: _tagged(cluster_name, region, sessions, extra)),
        ("Auto Scaling groups", "autoscaling:DescribeAutoScalingGroups",
         lambda: _autoscaling_groups(cluster_name, region, sessions, extra)),
        ("launch templates", "ec2:DescribeLaunchTemplates",
         lambda: _launch_templates(cluster_name, region, sessions, extra)),
        ("EKS clusters", "eks:ListClusters, eks:DescribeCluster",
         lambda: _eks_clusters(cluster_name, region, sessions, extra)),
        ("IAM roles", "iam:GetAccountAuthorizationDetails",
         lambda: _iam_roles(cluster_name, region, sessions, extra)),
        ("IAM policies", "iam:ListPolicies, iam:ListPolicyTags",
         lambda: _iam_policies(cluster_name, region, sessions, extra)),
    ]
    found: dict[str, Leftover] = {}
    for what, permission, finder in finders:
        try:
            for leftover in ask(finder, permission=permission):
                found.setdefault(leftover.ref, leftover)
        except Unanswered as u:
            raise AWSError(f"cannot look for {what} of cluster {cluster_name} in {region}: "
                           f"{u.reason}", hint=u.hint) from u
    return in_delete_order(found.values())


def _tagged(cluster: str, region: str, sessions: SessionFactory,
            extra: tuple[str, ...]) -> list[Leftover]:
    tagging = sessions.client("resourcegroupstaggingapi", region)
    filters = [[{"Key": k, "Values": [v]}] for k, v in owner_tags(cluster)]
    filters += [[{"Key": "Name", "Values": sorted(cluster_resource_names(cluster, extra))}]]
    tags_by_arn: dict[str, dict[str, str]] = {}
    for tag_filter in filters:
        pages = tagging.get_paginator("get_resources").paginate(
            TagFilters=tag_filter, ResourceTypeFilters=_TAGGED_TYPES)
        for page in pages:
            for mapping in page["ResourceTagMappingList"]:
                tags_by_arn[mapping["ResourceARN"]] = tag_dict(mapping.get("Tags"))
    found = [_from_arn(arn, tags, region) for arn, tags in tags_by_arn.items()]
    mine = [x for x in found if x and belongs_to(cluster, x.name, tags_by_arn[x.arn], extra)]
    mine += _buckets_by_name(cluster, sessions, region, extra, {x.id for x in mine})
    return _drop_terminated(mine, sessions, region)


def _from_arn(arn: str, tags: dict[str, str], region: str) -> Leftover | None:
    service, resource = arn.split(":")[2], arn.split(":", 5)[-1]
    if service == "s3":
        return Leftover("s3-bucket", resource, resource, region, arn)
    if service == "elasticloadbalancing" and resource.startswith("loadbalancer/"):
        return Leftover("load-balancer", arn, resource.split("/")[2], region, arn)
    if service == "ec2" and "/" in resource:
        kind, resource_id = resource.split("/", 1)
        kinds = {"instance": "ec2-instance", "volume": "ebs-volume"}
        if kind in kinds:
            return Leftover(kinds[kind], resource_id, tags.get("Name", resource_id), region, arn)
    return None


def _buckets_by_name(cluster: str, sessions: SessionFactory, region: str,
                     extra: tuple[str, ...], seen: set[str]) -> list[Leftover]:
    """Untagged buckets named exactly as the cluster's (the tagging API skips them)."""
    s3 = sessions.client("s3", global_region(region))
    wanted = cluster_resource_names(cluster, extra) - seen
    pages = s3.get_paginator("list_buckets").paginate()
    names = {b["Name"] for page in pages for b in page.get("Buckets", [])}
    return [Leftover("s3-bucket", n, n, region, f"arn:aws:s3:::{n}") for n in sorted(wanted & names)
            if belongs_to(cluster, n, _bucket_tags(s3, n), extra)]


def _bucket_tags(s3: Any, bucket: str) -> dict[str, str]:
    try:
        return tag_dict(s3.get_bucket_tagging(Bucket=bucket).get("TagSet"))
    except ClientError:
        return {}  # NoSuchTagSet: an untagged bucket


def _drop_terminated(leftovers: list[Leftover], sessions: SessionFactory,
                     region: str) -> list[Leftover]:
    """EC2 keeps terminated instances visible for a while: they are not leftovers."""
    ids = [x.id for x in leftovers if x.kind == "ec2-instance"]
    if not ids:
        return leftovers
    ec2 = sessions.client("ec2", region)
    pages = ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
    gone = {i["InstanceId"] for page in pages for r in page["Reservations"]
            for i in r["Instances"] if i["State"]["Name"] in ("terminated", "shutting-down")}
    return [x for x in leftovers if not (x.kind == "ec2-instance" and x.id in gone)]


def _autoscaling_groups(cluster: str, region: str, sessions: SessionFactory,
                        extra: tuple[str, ...]) -> list[Leftover]:
    autoscaling = sessions.client("autoscaling", region)
    paginator = autoscaling.get_paginator("describe_auto_scaling_groups")
    groups: dict[str, Any] = {}
    for key, value in owner_tags(cluster):
        for page in paginator.paginate(Filters=[{"Name": f"tag:{key}", "Values": [value]}]):
            groups.update({g["AutoScalingGroupName"]: g for g in page["AutoScalingGroups"]})
    names = sorted(cluster_resource_names(cluster, extra))
    for page in paginator.paginate(AutoScalingGroupNames=names):
        groups.update({g["AutoScalingGroupName"]: g for g in page["AutoScalingGroups"]})
    return [Leftover("autoscaling-group", name, name, region, g.get("AutoScalingGroupARN", ""))
            for name, g in groups.items() if belongs_to(cluster, name, tag_dict(g.get("Tags")),
                                                        extra)]


def _launch_templates(cluster: str, region: str, sessions: SessionFactory,
                      extra: tuple[str, ...]) -> list[Leftover]:
    ec2 = sessions.client("ec2", region)
    paginator = ec2.get_paginator("describe_launch_templates")
    filters = [[{"Name": f"tag:{k}", "Values": [v]}] for k, v in owner_tags(cluster)]
    filters += [[{"Name": "launch-template-name",
                  "Values": sorted(cluster_resource_names(cluster, extra))}]]
    templates: dict[str, Any] = {}
    for f in filters:
        for page in paginator.paginate(Filters=f):
            templates.update({t["LaunchTemplateId"]: t for t in page["LaunchTemplates"]})
    return [Leftover("launch-template", tid, t["LaunchTemplateName"], region, "")
            for tid, t in templates.items()
            if belongs_to(cluster, t["LaunchTemplateName"], tag_dict(t.get("Tags")), extra)]


def _eks_clusters(cluster: str, region: str, sessions: SessionFactory,
                  extra: tuple[str, ...]) -> list[Leftover]:
    eks = sessions.client("eks", region)
    names = [n for page in eks.get_paginator("list_clusters").paginate()
             for n in page["clusters"]]
    found = []
    for name in names:
        described = eks.describe_cluster(name=name)["cluster"]
        if belongs_to(cluster, name, dict(described.get("tags") or {}), extra):
            found.append(Leftover("eks-cluster", name, name, region, described.get("arn", "")))
    return found


def _iam_roles(cluster: str, region: str, sessions: SessionFactory,
               extra: tuple[str, ...]) -> list[Leftover]:
    iam = sessions.client("iam", global_region(region))
    pages = iam.get_paginator("get_account_authorization_details").paginate(Filter=["Role"])
    return [Leftover("iam-role", r["RoleName"], r["RoleName"], region, r["Arn"])
            for page in pages for r in page["RoleDetailList"]
            if not r.get("Path", "/").startswith("/aws-service-role/")
            and belongs_to(cluster, r["RoleName"], tag_dict(r.get("Tags")), extra)]


def _iam_policies(cluster: str, region: str, sessions: SessionFactory,
                  extra: tuple[str, ...]) -> list[Leftover]:
    iam = sessions.client("iam", global_region(region))
    pages = iam.get_paginator("list_policies").paginate(Scope="Local")
    found = []
    for policy in (p for page in pages for p in page["Policies"]):
        tags = tag_dict(iam.list_policy_tags(PolicyArn=policy["Arn"]).get("Tags"))
        if belongs_to(cluster, policy["PolicyName"], tags, extra):
            found.append(Leftover("iam-policy", policy["Arn"], policy["PolicyName"], region,
                                  policy["Arn"]))
    return found
