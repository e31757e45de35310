"""Deleting a cluster's leftovers in a safe order, each with its own outcome.

Auto Scaling groups go first (so they stop replacing instances), then instances (waiting, up to
a limit, until they are terminated so their volumes come free), load balancers, EKS clusters
(their node groups first), launch templates, volumes, buckets (emptied of every object version
first), roles (detached from policies and instance profiles first), and policies (detached
from every user, group and role first). One failure never stops the rest.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from reconciler.aws.calls import error_code, error_message
from reconciler.aws.leftovers import Leftover, SweepResult, in_delete_order
from reconciler.aws.session import SessionFactory, global_region

#: Error codes meaning the resource is already gone.
_GONE_CODES = frozenset({
    "NoSuchEntity", "NoSuchBucket", "InvalidInstanceID.NotFound", "InvalidVolume.NotFound",
    "InvalidLaunchTemplateId.NotFound", "LoadBalancerNotFound", "ResourceNotFoundException",
    "InvalidLaunchTemplateId.Malformed",
})
_WAIT_DELAY = 5


def delete_leftovers(leftovers: Sequence[Leftover], sessions: SessionFactory, *,
                     wait_seconds: float = 600) -> list[SweepResult]:
    """Delete every leftover in dependency order; one result per leftover.

    ``wait_seconds`` bounds each wait for EC2 and EKS to finish deleting what later
    deletions depend on (terminated instances, deleted node groups)."""
    deleters: dict[str, Callable[[Leftover], None]] = {
        "autoscaling-group": lambda x: _delete_asg(x, sessions),
        "ec2-instance": lambda x: _terminate_instance(x, sessions),
        "load-balancer": lambda x: _delete_load_balancer(x, sessions),
        "eks-cluster": lambda x: _delete_eks(x, sessions, wait_seconds),
        "launch-template": lambda x: _delete_launch_template(x, sessions),
        "ebs-volume": lambda x: _delete_volume(x, sessions),
        "s3-bucket": lambda x: _delete_bucket(x, sessions),
        "iam-role": lambda x: _delete_role(x, sessions),
        "iam-policy": lambda x: _delete_policy(x, sessions),
    }
    ordered = in_delete_order(leftovers)
    results: list[SweepResult] = []
    for i, leftover in enumerate(ordered):
        results.append(_delete_one(leftover, deleters))
        next_kind = ordered[i + 1].kind if i + 1 < len(ordered) else ""
        if leftover.kind == "ec2-instance" and next_kind != "ec2-instance":
            _wait_terminated(results, sessions, wait_seconds)
    return results


def _delete_one(leftover: Leftover,
                deleters: dict[str, Callable[[Leftover], None]]) -> SweepResult:
    deleter = deleters.get(leftover.kind)
    if deleter is None:
        return SweepResult(leftover, "failed", f"gridops cannot delete a {leftover.kind}")
    try:
        deleter(leftover)
    except ClientError as e:
        if error_code(e) in _GONE_CODES:
            return SweepResult(leftover, "gone")
        return SweepResult(leftover, "failed", f"{error_code(e)}: {error_message(e)}")
    except (BotoCoreError, NotImplementedError) as e:
        return SweepResult(leftover, "failed", str(e) or type(e).__name__)
    return SweepResult(leftover, "deleted")


def _waiter_config(wait_seconds: float) -> dict[str, int]:
    return {"Delay": _WAIT_DELAY, "MaxAttempts": max(1, math.ceil(wait_seconds / _WAIT_DELAY))}


def _wait_terminated(results: list[SweepResult], sessions: SessionFactory,
                     wait_seconds: float) -> None:
    """Wait until the instances just terminated are gone, so their volumes come free."""
    by_region: dict[str, list[str]] = {}
    for r in results:
        if r.leftover.kind == "ec2-instance" and r.outcome == "deleted":
            by_region.setdefault(r.leftover.region, []).append(r.leftover.id)
    for region, ids in by_region.items():
        waiter = sessions.client("ec2", region).get_waiter("instance_terminated")
        # On timeout the volumes' own deletions say what is still in use.
        with contextlib.suppress(WaiterError):
            waiter.wait(InstanceIds=ids, WaiterConfig=_waiter_config(wait_seconds))


def _delete_asg(x: Leftover, sessions: SessionFactory) -> None:
    sessions.client("autoscaling", x.region).delete_auto_scaling_group(
        AutoScalingGroupName=x.id, ForceDelete=True)


def _terminate_instance(x: Leftover, sessions: SessionFactory) -> None:
    sessions.client("ec2", x.region).terminate_instances(InstanceIds=[x.id])


def _delete_load_balancer(x: Leftover, sessions: SessionFactory) -> None:
    sessions.client("elbv2", x.region).delete_load_balancer(LoadBalancerArn=x.id)


def _delete_eks(x: Leftover, sessions: SessionFactory, wait_seconds: float) -> None:
    eks = sessions.client("eks", x.region)
    groups = [g for page in eks.get_paginator("list_nodegroups").paginate(clusterName=x.id)
              for g in page["nodegroups"]]
    for group in groups:
        eks.delete_nodegroup(clusterName=x.id, nodegroupName=group)
    for group in groups:
        eks.get_waiter("nodegroup_deleted").wait(
            clusterName=x.id, nodegroupName=group, WaiterConfig=_waiter_config(wait_seconds))
    eks.delete_cluster(name=x.id)


def _delete_launch_template(x: Leftover, sessions: SessionFactory) -> None:
    sessions.client("ec2", x.region).delete_launch_template(LaunchTemplateId=x.id)


def _delete_volume(x: Leftover, sessions: SessionFactory) -> None:
    sessions.client("ec2", x.region).delete_volume(VolumeId=x.id)


def _delete_bucket(x: Leftover, sessions: SessionFactory) -> None:
    s3 = sessions.client("s3", global_region(x.region))
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=x.id):
        objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                   for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objects:
            s3.delete_objects(Bucket=x.id, Delete={"Objects": objects, "Quiet": True})
    s3.delete_bucket(Bucket=x.id)


def _delete_role(x: Leftover, sessions: SessionFactory) -> None:
    iam = sessions.client("iam", global_region(x.region))
    for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=x.id):
        for profile in page["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=x.id)
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=x.id):
        for policy in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=x.id, PolicyArn=policy["PolicyArn"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=x.id):
        for name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=x.id, PolicyName=name)
    iam.delete_role(RoleName=x.id)


def _delete_policy(x: Leftover, sessions: SessionFactory) -> None:
    iam = sessions.client("iam", global_region(x.region))
    _detach_policy_everywhere(iam, x.id)
    for page in iam.get_paginator("list_policy_versions").paginate(PolicyArn=x.id):
        for version in page["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=x.id, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=x.id)


def _detach_policy_everywhere(iam: Any, policy_arn: str) -> None:
    for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=policy_arn):
        for role in page.get("PolicyRoles", []):
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=policy_arn)
        for user in page.get("PolicyUsers", []):
            iam.detach_user_policy(UserName=user["UserName"], PolicyArn=policy_arn)
        for group in page.get("PolicyGroups", []):
            iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=policy_arn)
