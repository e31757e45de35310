"""The AWS account side through the CLI: preflight, plan --strict, sweep, and leftovers after a
forced delete, against moto (in-process) and the emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.cli.conftest import SECRET_A, SECRET_B, GitOpsRepo, cluster_doc

ROLE = "grid-byoc"


def _trust(external_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::302180240179:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield


def _volume(name: str, cluster: str, region: str = "us-east-1") -> str:
    ec2 = boto3.client("ec2", region_name=region)
    return str(ec2.create_volume(AvailabilityZone=f"{region}a", Size=10, TagSpecifications=[{
        "ResourceType": "volume",
        "Tags": [{"Key": "Name", "Value": name},
                 {"Key": "grid.ai/cluster-name", "Value": cluster}]}])["VolumeId"])


def _volumes() -> set[str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}


def test_preflight_passes_a_good_role_and_fails_a_missing_one(gitops: GitOpsRepo,
                                                              aws: None) -> None:
    boto3.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=_trust(SECRET_A))
    gitops.write("clusters/team-b/beta.yaml", cluster_doc(
        "beta", env_var="GRID_EXTERNAL_ID_B").replace("role/grid-byoc", "role/missing"))
    gitops.commit("beta: another role")
    result = gitops.gridops("preflight")
    assert result.exit_code == 1, result.output
    rows = [line.lower().split() for line in result.stdout.splitlines()]
    role_rows = {r[0]: r[3] for r in rows if len(r) > 3 and r[2] == "role"}
    assert role_rows == {"alpha": "ok", "beta": "fail"}, result.stdout
    assert SECRET_A not in result.output and SECRET_B not in result.output


def test_preflight_fails_a_wrong_external_id_without_printing_it(gitops: GitOpsRepo,
                                                                 aws: None) -> None:
    boto3.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=_trust("other-id"))
    result = gitops.gridops("preflight", "alpha")
    assert result.exit_code == 1
    assert "external" in result.stdout.lower()
    assert SECRET_A not in result.output and "other-id" not in result.output


def test_plan_strict_stops_on_a_failing_preflight_and_changes_nothing(gitops: GitOpsRepo,
                                                                      aws: None) -> None:
    result = gitops.gridops("plan", "--strict")
    assert result.exit_code == 1
    assert "preflight" in result.stderr
    warned = gitops.gridops("plan", "--preflight")
    assert warned.exit_code == 0
    assert "preflight alpha (us-east-1) role: fail" in warned.stdout
    assert "alpha" not in gitops.live()


def test_sweep_refuses_a_cluster_that_still_exists_in_grid(gitops: GitOpsRepo,
                                                           aws: None) -> None:
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    result = gitops.gridops("sweep", "alpha", "--delete", "--yes")
    assert result.exit_code == 1 and "still exists in Grid" in result.stderr


def test_a_forced_delete_is_swept_and_leftovers_are_remembered_until_removed(
        gitops: GitOpsRepo, aws: None) -> None:
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    mine = _volume("grid-alpha-data", "alpha")
    other = _volume("grid-alphabet-data", "alphabet")
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.commit("remove alpha")
    result = gitops.gridops("apply", "--auto-approve", "--force-delete")
    assert result.exit_code == 0, result.output
    assert "left behind" in result.stderr
    assert gitops.inventory()["alpha"]["leftovers"]
    plan = gitops.gridops("plan")
    assert "gridops sweep alpha --delete" in plan.stdout
    listed = gitops.gridops("sweep", "alpha")
    assert listed.exit_code == 0 and mine in listed.stdout and other not in listed.stdout
    assert mine in _volumes()  # listing deletes nothing
    swept = gitops.gridops("sweep", "alpha", "--delete", "--yes")
    assert swept.exit_code == 0, swept.output
    assert mine not in _volumes() and other in _volumes()
    assert "alpha" not in gitops.inventory()


def test_a_normal_delete_is_swept_once_it_has_finished_when_aws_checks_are_on(
        gitops: GitOpsRepo, aws: None) -> None:
    settings = (gitops.root / "gridops.yaml").read_text() + "awsChecks: always\n"
    gitops.write("gridops.yaml", settings)
    gitops.write("clusters/team-b/beta.yaml", cluster_doc("beta", env_var="GRID_EXTERNAL_ID_B"))
    gitops.commit("aws checks on")
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    gitops.remove("clusters/team-a/alpha.yaml")
    gitops.commit("remove alpha")
    assert gitops.gridops("apply", "--auto-approve").exit_code == 0
    assert gitops.inventory()["alpha"]["pendingDelete"] is True
    _volume("grid-alpha-data", "alpha")
    time.sleep(0.3)  # teardown finishes in the emulator
    result = gitops.gridops("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert gitops.inventory()["alpha"]["leftovers"]


def test_sweep_delete_refuses_a_cluster_gridops_never_owned(gitops: GitOpsRepo,
                                                            aws: None) -> None:
    theirs = _volume("grid-prod-data", "prod")
    refused = gitops.gridops("sweep", "prod", "--region", "us-east-1", "--delete", "--yes")
    assert refused.exit_code == 1 and "no record of owning prod" in refused.stderr
    assert theirs in _volumes()
    listed = gitops.gridops("sweep", "prod", "--region", "us-east-1")
    assert listed.exit_code == 0 and theirs in listed.stdout
    forced = gitops.gridops("sweep", "prod", "--region", "us-east-1", "--delete", "--yes",
                            "--unowned")
    assert forced.exit_code == 0, forced.output
    assert theirs not in _volumes()
