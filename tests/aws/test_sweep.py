"""Finding and deleting a cluster's leftovers in a moto account planted with the cluster's
resources and with look-alikes that must never be touched."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from reconciler.aws.leftovers import Leftover, belongs_to
from reconciler.aws.session import SessionFactory
from reconciler.aws.sweep import delete_leftovers, find_leftovers
from reconciler.errors import AWSError

R = "us-east-1"
MINE = {"grid.ai/cluster-name": "prod"}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
     "Action": "sts:AssumeRole"}]})

#: (kind, name) of every resource planted for cluster "prod".
PLANTED = {
    ("autoscaling-group", "grid-prod-workers"), ("ec2-instance", "grid-prod-bastion"),
    ("load-balancer", "grid-prod-ingress"), ("eks-cluster", "grid-prod"),
    ("launch-template", "grid-prod-workers"), ("ebs-volume", "grid-prod-data"),
    ("s3-bucket", "grid-prod"), ("s3-bucket", "grid-prod-datastore-7a1c"),
    ("iam-role", "grid-prod-node"), ("iam-policy", "grid-prod-node-access"),
}


def tags(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in mapping.items()]


def ec2_tags(kind: str, mapping: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": tags(mapping)}]


def plant_ec2(s: SessionFactory, region: str = R) -> list[str]:
    ec2 = s.client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    for name, extra in (("grid-prod-bastion", MINE), ("grid-prod-2-bastion",
                                                      {"grid.ai/cluster-name": "prod-2"})):
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="m5.large",
                          SubnetId=subnets[0],
                          TagSpecifications=ec2_tags("instance", {"Name": name, **extra}))
    for name, extra in (("grid-prod-data", {"kubernetes.io/cluster/prod": "owned"}),
                        ("shared-data", {"kubernetes.io/cluster/prod": "shared"})):
        ec2.create_volume(AvailabilityZone=f"{region}a", Size=10,
                          TagSpecifications=ec2_tags("volume", {"Name": name, **extra}))
    for name, extra in (("grid-prod-workers", MINE),
                        ("grid-prod", {"grid.ai/cluster-name": "prod-2"})):
        ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={},
                                   TagSpecifications=ec2_tags("launch-template", extra))
    return subnets


def plant_regional(s: SessionFactory, subnets: list[str]) -> None:
    autoscaling = s.client("autoscaling", R)
    for name, extra in (("grid-prod-workers", MINE), ("grid-prod-2-workers",
                                                      {"grid.ai/cluster-name": "prod-2"})):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name, MinSize=0, MaxSize=2, DesiredCapacity=0,
            LaunchTemplate={"LaunchTemplateName": "grid-prod-workers"},
            VPCZoneIdentifier=",".join(subnets),
            Tags=[{**t, "PropagateAtLaunch": True} for t in tags(extra)])
    elbv2 = s.client("elbv2", R)
    elbv2.create_load_balancer(Name="grid-prod-ingress", Subnets=subnets, Tags=tags(MINE))
    elbv2.create_load_balancer(Name="grid-production", Subnets=subnets)
    eks = s.client("eks", R)
    for name in ("grid-prod", "grid-prod-2"):
        eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/eks",
                           resourcesVpcConfig={"subnetIds": subnets})
    eks.create_nodegroup(clusterName="grid-prod", nodegroupName="workers", subnets=subnets,
                         nodeRole="arn:aws:iam::123456789012:role/eks")


def plant_global(s: SessionFactory) -> None:
    s3 = s.client("s3", R)
    for name, extra in (("grid-prod", {}), ("grid-prod-datastore-7a1c", MINE),
                        ("grid-prod-2", {}), ("prod", {})):
        s3.create_bucket(Bucket=name)
        if extra:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags(extra)})
    s3.put_bucket_versioning(Bucket="grid-prod-datastore-7a1c",
                             VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket="grid-prod-datastore-7a1c", Key="experiments/a", Body=body)
    iam = s.client("iam", R)
    arn = iam.create_policy(PolicyName="grid-prod-node-access", PolicyDocument=POLICY,
                            Tags=tags(MINE))["Policy"]["Arn"]
    iam.create_policy(PolicyName="grid-prod-2-node-access", PolicyDocument=POLICY,
                      Tags=tags({"grid.ai/cluster": "production"}))
    iam.create_role(RoleName="grid-prod-node", AssumeRolePolicyDocument=TRUST, Tags=tags(MINE))
    iam.create_role(RoleName="grid-prod-2-node", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="grid-prod-node", PolicyArn=arn)
    iam.attach_role_policy(RoleName="grid-prod-2-node", PolicyArn=arn)
    iam.put_role_policy(RoleName="grid-prod-node", PolicyName="inline", PolicyDocument=POLICY)
    iam.create_instance_profile(InstanceProfileName="grid-prod-node")
    iam.add_role_to_instance_profile(InstanceProfileName="grid-prod-node",
                                     RoleName="grid-prod-node")


@pytest.fixture
def account(sessions: SessionFactory) -> SessionFactory:
    plant_regional(sessions, plant_ec2(sessions))
    plant_global(sessions)
    plant_ec2(sessions, "eu-west-1")  # the same cluster's name in another region
    return sessions


def kinds_and_names(leftovers: list[Leftover]) -> set[tuple[str, str]]:
    return {(x.kind, x.name) for x in leftovers}


def test_finds_exactly_the_clusters_resources(account: SessionFactory) -> None:
    found = find_leftovers("prod", R, account)
    assert kinds_and_names(found) == PLANTED
    assert [x.kind for x in found][:2] == ["autoscaling-group", "ec2-instance"]
    assert {x.region for x in found} == {R}


def test_a_clean_account_has_no_leftovers(sessions: SessionFactory) -> None:
    assert find_leftovers("prod", R, sessions) == []


def test_delete_removes_them_and_leaves_the_look_alikes(account: SessionFactory) -> None:
    results = delete_leftovers(find_leftovers("prod", R, account), account)
    assert [(r.leftover.name, r.outcome, r.error) for r in results if not r.ok] == []
    assert find_leftovers("prod", R, account) == []
    assert kinds_and_names(find_leftovers("prod-2", R, account)) == {
        ("ec2-instance", "grid-prod-2-bastion"), ("autoscaling-group", "grid-prod-2-workers"),
        ("launch-template", "grid-prod"), ("s3-bucket", "grid-prod-2"),
        ("eks-cluster", "grid-prod-2")}
    iam = account.client("iam", R)
    assert iam.get_role(RoleName="grid-prod-2-node")["Role"]["RoleName"] == "grid-prod-2-node"
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == \
        ["grid-prod-2-node-access"]
    assert {b["Name"] for b in account.client("s3", R).list_buckets()["Buckets"]} == \
        {"grid-prod-2", "prod"}
    assert len(find_leftovers("prod", "eu-west-1", account)) == 3


def test_one_failure_does_not_stop_the_rest(account: SessionFactory) -> None:
    leftovers = find_leftovers("prod", R, account)
    stub = Stubber(account.client("elbv2", R))
    stub.add_client_error("delete_load_balancer", "AccessDenied", "not authorized", 403)
    with stub:
        results = delete_leftovers(leftovers, account)
    failed = [(r.leftover.kind, r.outcome) for r in results if not r.ok]
    assert failed == [("load-balancer", "failed")]
    assert "AccessDenied" in next(r.error for r in results if not r.ok)
    assert kinds_and_names(find_leftovers("prod", R, account)) == \
        {("load-balancer", "grid-prod-ingress")}


def test_already_deleted_resources_count_as_gone(sessions: SessionFactory) -> None:
    ghosts = [Leftover("ebs-volume", "vol-0123456789abcdef0", "old", R),
              Leftover("iam-role", "grid-prod-node", "grid-prod-node", R)]
    results = delete_leftovers(ghosts, sessions)
    assert [r.outcome for r in results] == ["gone", "gone"]


@pytest.mark.parametrize(("name", "tag_set", "mine"), [
    ("anything", {"grid.ai/cluster-name": "prod"}, True),
    ("anything", {"grid.ai/cluster": "prod"}, True),
    ("anything", {"kubernetes.io/cluster/prod": "owned"}, True),
    ("anything", {"kubernetes.io/cluster/prod": "shared"}, False),
    ("anything", {"aws:eks:cluster-name": "prod"}, True),
    ("grid-prod", {}, True),
    ("grid-prod", {"grid.ai/cluster-name": "prod-2"}, False),
    ("grid-prod", {"kubernetes.io/cluster/prod-2": "owned"}, False),
    ("grid-prod-2", {}, False),
    ("grid-prod-workers", {}, False),
    ("prod", {}, False),
    ("grid-production", {"grid.ai/cluster-name": "production"}, False),
], ids=["grid-tag", "grid-short-tag", "kubernetes-owned", "kubernetes-shared", "eks-tag",
        "exact-name", "exact-name-but-tagged-other", "exact-name-but-k8s-other",
        "other-clusters-name", "prefix-is-not-enough", "bare-name", "longer-tag-value"])
def test_matching_rules(name: str, tag_set: dict[str, str], mine: bool) -> None:
    assert belongs_to("prod", name, tag_set) is mine


def test_an_unreadable_service_is_an_error_not_a_clean_account(
        sessions: SessionFactory) -> None:
    stub = Stubber(sessions.client("resourcegroupstaggingapi", R))
    stub.add_client_error("get_resources", "AccessDeniedException", "not authorized", 400)
    with stub, pytest.raises(AWSError, match="cannot look for tagged resources") as raised:
        find_leftovers("prod", R, sessions)
    assert "tag:GetResources" in (raised.value.hint or "")


def test_the_role_grid_assumes_is_never_a_leftover() -> None:
    from reconciler.aws.leftovers import without_grid_role

    found = [Leftover("iam-role", "grid-prod", "grid-prod", R),
             Leftover("iam-role", "grid-prod-node", "grid-prod-node", R),
             Leftover("ebs-volume", "vol-1", "grid-prod", R)]
    kept = without_grid_role(found, "arn:aws:iam::123456789012:role/team/grid-prod")
    assert [x.id for x in kept] == ["grid-prod-node", "vol-1"]
