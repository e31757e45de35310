"""The S3 state backend through the CLI (moto): a fresh runner knows what it owns, a second
apply cannot take the lock while one holds it, and force-unlock releases a dead run's lock."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from reconciler.model import State
from reconciler.ports import LockInfo
from reconciler.state.s3 import S3StateBackend
from tests.cli.conftest import GitOpsRepo

BUCKET = "acme-gridops-state"


@pytest.fixture
def s3_repo(gitops: GitOpsRepo) -> Iterator[GitOpsRepo]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        settings = (gitops.root / "gridops.yaml").read_text().replace(
            "state: {backend: local, path: .gridops/state.json}",
            f"state: {{backend: s3, bucket: {BUCKET}, key: gridops/state.json, "
            "region: us-east-1}")
        gitops.write("gridops.yaml", settings)
        gitops.commit("state in s3")
        yield gitops


def _stored() -> dict[str, object]:
    body = boto3.client("s3", region_name="us-east-1").get_object(
        Bucket=BUCKET, Key="gridops/state.json")["Body"].read()
    return {e["name"]: e for e in json.loads(body)["inventory"]}


def test_apply_keeps_the_inventory_in_s3(s3_repo: GitOpsRepo) -> None:
    result = s3_repo.gridops("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert set(_stored()) == {"alpha", "beta"}
    assert not (s3_repo.root / ".gridops" / "state.json").exists()


def test_a_second_apply_fails_with_the_holders_details_until_force_unlock(
        s3_repo: GitOpsRepo) -> None:
    backend = S3StateBackend(BUCKET, "gridops/state.json", "us-east-1")
    held = LockInfo(id="dead0001run", who="ci@runner-7", when="2026-11-25T08:00:00Z",
                    run="acme/cluster-config run 41")
    with backend.lock(held):
        blocked = s3_repo.gridops("apply", "--auto-approve")
        assert blocked.exit_code == 1
        assert "ci@runner-7" in blocked.stderr and "force-unlock dead0001run" in blocked.stderr
        assert "alpha" not in s3_repo.live()
        plan = s3_repo.gridops("plan")  # plan reads without the lock
        assert plan.exit_code == 0, plan.output
        wrong = s3_repo.gridops("force-unlock", "not-it")
        assert wrong.exit_code == 1 and "dead0001run" in wrong.stderr
        released = s3_repo.gridops("force-unlock", "dead0001run")
        assert released.exit_code == 0, released.output
        applied = s3_repo.gridops("apply", "--auto-approve")
        assert applied.exit_code == 0, applied.output
    assert backend.read().state != State.empty()
