"""Self-managed BYOC clusters through the CLI: the create body of a terraform output (a
git-ignored `terraform output -json` file, or an S3 state read with moto) planned and applied
against the emulator, its secrets never shown."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.cli.conftest import GitOpsRepo

TF_SECRET = "tf-external-id-91c2a7d04e"
OUTPUT_FILE = ".gridops/tf/foo-01.json"
DOC = "clusters/self/foo-01.yaml"


def create_body(*, region: str = "us-east-1", count: Any = "1", secret: str = TF_SECRET,
                version: str = "1.29", name: str = "foo-01",
                types: tuple[str, ...] = ("t3.large",)) -> dict[str, Any]:
    """The create body as the module's gridv1_cluster output holds it (the CLI's snake_case)."""
    return {"name": name, "spec": {
        "cluster_type": "CLUSTER_TYPE_BYOC",
        "performance_profile": "CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
        "driver": {"kubernetes": {
            "root_domain_name": "foo-01.grid.example.com",
            "aws": {"region": region, "role_arn": "arn:aws:iam::123456789012:role/grid-full",
                    "external_id": secret, "kubernetes_version": version,
                    "az_skip_ids": ["use1-az3"],
                    "instance_types": [*({"name": t} for t in types),
                                       {"name": "g4dn.xlarge",
                                        "overprovisioned_ondemand_count": count}]}}}}}


def outputs(value: Any, name: str = "gridv1_cluster") -> str:
    return json.dumps({name: {"sensitive": True, "type": "string", "value": value},
                       "vpc_id": {"sensitive": False, "type": "string", "value": "vpc-1"}})


def document(source: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        apiVersion: gridops/v1
        kind: GridCluster
        metadata:
          name: foo-01
        spec:
          selfManaged:
            {source}
        """) + extra


FROM_FILE = f"fromTerraformOutput: {{file: {OUTPUT_FILE}, output: gridv1_cluster}}"


@pytest.fixture
def self_managed(gitops: GitOpsRepo) -> GitOpsRepo:
    gitops.write(OUTPUT_FILE, outputs(create_body()))
    gitops.write(DOC, document(FROM_FILE, "  performanceProfile: cost-saving\n"
                                          "  deletionProtection: true\n"))
    gitops.commit("foo-01: self-managed")
    return gitops


def _secret_free(*texts: str) -> None:
    for text in texts:
        assert TF_SECRET not in text and "tf-external-id-rotated" not in text


def test_plan_shows_every_field_of_the_output_and_the_document_wins(
        self_managed: GitOpsRepo, tmp_path: Path) -> None:
    assert self_managed.gridops("validate").exit_code == 0
    plan = self_managed.gridops("plan", "--out", str(tmp_path / "plan.json"))
    assert plan.exit_code == 0, plan.output
    block = plan.stdout[plan.stdout.index("+ foo-01: create"):]
    source = f"(output 'gridv1_cluster' of {OUTPUT_FILE})"
    for line in ("spec.region: us-east-1", "spec.roleArn: arn:aws:iam::123456789012:role/grid-full",
                 'spec.aws.kubernetesVersion: "1.29"', "spec.aws.azSkipIds: [use1-az3]",
                 "driver.kubernetes.rootDomainName: foo-01.grid.example.com",
                 "spec.externalId: (sensitive value)",
                 "spec.instanceTypes[g4dn.xlarge]: {overprovisionedOnDemand: 1}"):
        (shown,) = [text for text in block.splitlines() if line in text]
        assert shown.endswith(source), shown
    (profile,) = [text for text in block.splitlines() if "spec.performanceProfile" in text]
    assert "cost-saving" in profile and profile.endswith(f"({DOC}:8)")  # the document wins
    _secret_free(plan.output, (tmp_path / "plan.json").read_text())


def test_apply_creates_it_with_the_outputs_secret_and_fields(self_managed: GitOpsRepo) -> None:
    applied = self_managed.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    _secret_free(applied.output)
    spec = self_managed.live()["foo-01"].spec
    aws = spec["driver"]["kubernetes"]["aws"]
    assert aws["externalId"] == TF_SECRET
    assert aws["instanceTypes"][1] == {"name": "g4dn.xlarge", "overprovisionedOndemandCount": 1}
    assert spec["driver"]["kubernetes"]["rootDomainName"] == "foo-01.grid.example.com"
    assert spec["performanceProfile"] == "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    assert self_managed.inventory()["foo-01"]["deletionProtection"] is True


def _running(g: GitOpsRepo) -> None:
    assert g.gridops("apply", "--auto-approve").exit_code == 0
    deadline = time.monotonic() + 5
    while g.live()["foo-01"].phase != "CLUSTER_STATE_RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_changed_output_is_a_field_level_update_and_a_rotated_secret_stays_hidden(
        self_managed: GitOpsRepo) -> None:
    _running(self_managed)
    assert self_managed.gridops("plan", "--detailed-exitcode").exit_code == 0
    self_managed.write(OUTPUT_FILE, outputs(create_body(count=2, secret="tf-external-id-rotated")))
    plan = self_managed.gridops("plan")
    assert plan.exit_code == 0, plan.output
    assert "~ foo-01: update" in plan.stdout
    assert ("Grid differs from it or from its terraform output (changed outside git, or "
            "terraform changed the output)") in plan.stdout
    assert "spec.instanceTypes[g4dn.xlarge].overprovisionedOnDemand: 1 -> 2" in plan.stdout
    assert "spec.externalId: (sensitive value changed)" in plan.stdout
    _secret_free(plan.output)
    applied = self_managed.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    _secret_free(applied.output)
    aws = self_managed.live()["foo-01"].spec["driver"]["kubernetes"]["aws"]
    assert aws["externalId"] == "tf-external-id-rotated"
    assert self_managed.gridops("plan", "--detailed-exitcode").exit_code == 0


def test_drift_on_a_field_the_output_sets_is_reported(self_managed: GitOpsRepo) -> None:
    _running(self_managed)
    live = dict(self_managed.live()["foo-01"].spec)
    live["driver"]["kubernetes"]["rootDomainName"] = "elsewhere.example.com"
    live["driver"]["kubernetes"]["aws"]["kubernetesVersion"] = "1.30"
    self_managed.grid.update_cluster("foo-01", "foo-01", live)
    drift = self_managed.gridops("drift")
    assert drift.exit_code == 2, drift.output
    assert 'spec.aws.kubernetesVersion: "1.30" -> "1.29"' in drift.stdout
    assert ("driver.kubernetes.rootDomainName: elsewhere.example.com -> "
            "foo-01.grid.example.com") in drift.stdout


def test_a_saved_plan_is_stale_once_the_output_changes(self_managed: GitOpsRepo,
                                                       tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert self_managed.gridops("plan", "--out", str(saved)).exit_code == 0
    assert json.loads(saved.read_text())["inputs"]["foo-01"]["source"] == \
        f"output 'gridv1_cluster' of {OUTPUT_FILE}"
    self_managed.write(OUTPUT_FILE, outputs(create_body(version="1.30")))
    applied = self_managed.gridops("apply", "--auto-approve", str(saved))
    assert applied.exit_code == 1
    assert "the terraform output of a self-managed cluster changed since the plan was made" \
        in applied.stderr
    assert "foo-01" not in self_managed.live()


def test_the_output_may_be_a_json_string_holding_the_body(self_managed: GitOpsRepo) -> None:
    self_managed.write(OUTPUT_FILE, outputs(json.dumps(create_body())))
    plan = self_managed.gridops("plan")
    assert plan.exit_code == 0, plan.output
    assert "+ foo-01: create" in plan.stdout


@pytest.mark.parametrize(("output", "message"), [
    (None, f"spec.selfManaged: {OUTPUT_FILE} does not exist (looking for output "
           f"'gridv1_cluster' of {OUTPUT_FILE}) (run `terraform output -json > {OUTPUT_FILE}`"),
    (outputs(create_body(), name="other"), f"{OUTPUT_FILE} has no output 'gridv1_cluster' "
                                           "(its outputs are: other, vpc_id"),
    ("{not json " + TF_SECRET, f"{OUTPUT_FILE} is not JSON"),
    (outputs(create_body(region="us-east-1a")),
     "'spec.driver.kubernetes.aws.region': 'us-east-1a' is an availability zone"),
    (outputs({**create_body(), "spec": {"driver": {"kubernetes": {"aws": {
        **create_body()["spec"]["driver"]["kubernetes"]["aws"], "role_arn": "grid-full"}}}}}),
     "'spec.driver.kubernetes.aws.roleArn': roleArn 'grid-full' is not an IAM role ARN"),
    (outputs(create_body(types=("m6g.large",))),
     "'spec.driver.kubernetes.aws.instanceTypes[0]': instance type 'm6g.large' is arm64"),
    (outputs(create_body(name="foo-02")),
     "'name' is 'foo-02', but the document's metadata.name is 'foo-01'"),
    (outputs(create_body(count="many")),
     "'spec.driver.kubernetes.aws.instanceTypes[1].overprovisionedOndemandCount' is 'many', "
     "not a whole number"),
    (outputs("{not json " + TF_SECRET), "the value is a string but not JSON"),
    (outputs({**create_body(), "spec": {"driver": {"slurm": {}}}}),
     "'spec.driver.slurm' is not supported"),
], ids=["missing-file", "missing-output", "file-not-json", "zone", "role-arn", "arm64",
        "other-name", "count-not-a-number", "value-not-json", "not-aws"])
def test_validate_explains_what_is_wrong_with_the_output(self_managed: GitOpsRepo,
                                                          output: str | None,
                                                          message: str) -> None:
    path = self_managed.root / OUTPUT_FILE
    if output is None:
        path.unlink()
    else:
        path.write_text(output)
    for command in ("validate", "plan"):
        result = self_managed.gridops(command)
        assert result.exit_code == 1, result.output
        assert f"{DOC}:6:3: " in result.output and message in result.output, result.output
        assert "Traceback" not in result.output
        _secret_free(result.output)


def test_an_output_file_tracked_by_git_is_refused(self_managed: GitOpsRepo) -> None:
    self_managed.repo.git.add("-f", OUTPUT_FILE)
    result = self_managed.gridops("validate")
    assert result.exit_code == 1
    assert f"{OUTPUT_FILE} holds secrets and is tracked by git" in result.output


def test_an_output_file_git_does_not_ignore_is_a_warning(self_managed: GitOpsRepo) -> None:
    self_managed.write(DOC, document("fromTerraformOutput: {file: infra/foo-01.json, "
                                     "output: gridv1_cluster}"))
    self_managed.commit("move the output")
    self_managed.write("infra/foo-01.json", outputs(create_body()))
    result = self_managed.gridops("validate")
    assert result.exit_code == 0, result.output
    assert "infra/foo-01.json holds secrets and git does not ignore it" in result.output


# --- CI: the module's S3-backed state, read with boto3 (moto) --------------------------------

STATE = {"bucket": "tf-state-grid", "key": "byoc/foo-01.tfstate", "region": "us-east-1"}


def _put_state(value: Any, *, serial: int = 7, outputs_name: str = "gridv1_cluster") -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=STATE["bucket"], Key=STATE["key"], Body=json.dumps({
        "version": 4, "serial": serial, "lineage": "5c1e-lineage",
        "outputs": {outputs_name: {"value": value, "type": "string", "sensitive": True}}}))


@pytest.fixture
def from_state(gitops: GitOpsRepo) -> Iterator[GitOpsRepo]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=STATE["bucket"])
        _put_state(create_body())
        gitops.write(DOC, document(
            "fromTerraformState: {bucket: tf-state-grid, key: byoc/foo-01.tfstate, "
            "region: us-east-1, output: gridv1_cluster}"))
        gitops.commit("foo-01 from the state")
        yield gitops


def test_the_state_in_s3_serves_a_self_managed_cluster(from_state: GitOpsRepo) -> None:
    applied = from_state.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    _secret_free(applied.output)
    assert from_state.live()["foo-01"].spec["driver"]["kubernetes"]["aws"]["externalId"] == \
        TF_SECRET


def test_a_saved_plan_is_stale_when_the_state_serial_changes(from_state: GitOpsRepo,
                                                             tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert from_state.gridops("plan", "--out", str(saved)).exit_code == 0
    inputs = json.loads(saved.read_text())["inputs"]["foo-01"]
    assert (inputs["serial"], inputs["lineage"]) == ("7", "5c1e-lineage")
    _put_state(create_body(), serial=8)
    applied = from_state.gridops("apply", "--auto-approve", str(saved))
    assert applied.exit_code == 1
    assert "changed since the plan was made" in applied.stderr


@pytest.mark.parametrize(("change", "message"), [
    ("key", "the terraform state s3://tf-state-grid/byoc/missing.tfstate does not exist"),
    ("output", "s3://tf-state-grid/byoc/foo-01.tfstate has no output 'gridv1_cluster' "
               "(its outputs are: other"),
], ids=["missing-state", "missing-output"])
def test_validate_explains_a_missing_state_or_output(from_state: GitOpsRepo, change: str,
                                                      message: str) -> None:
    if change == "key":
        from_state.write(DOC, document(
            "fromTerraformState: {bucket: tf-state-grid, key: byoc/missing.tfstate, "
            "region: us-east-1, output: gridv1_cluster}"))
    else:
        _put_state(create_body(), outputs_name="other")
    result = from_state.gridops("validate")
    assert result.exit_code == 1
    assert message in result.output, result.output


def test_an_external_id_can_come_from_the_state_too(from_state: GitOpsRepo) -> None:
    _put_state(TF_SECRET, outputs_name="external_id")
    from_state.write("clusters/team-a/alpha.yaml", textwrap.dedent("""\
        apiVersion: gridops/v1
        kind: GridCluster
        metadata: {name: alpha}
        spec:
          region: us-east-1
          roleArn: arn:aws:iam::123456789012:role/grid-byoc
          externalId:
            fromTerraformState: {bucket: tf-state-grid, key: byoc/foo-01.tfstate,
                                 output: external_id}
          instanceTypes: [t3.large]
        """))
    from_state.remove(DOC)
    from_state.commit("alpha: external id from the state")
    applied = from_state.gridops("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    _secret_free(applied.output)
    assert from_state.live()["alpha"].spec["driver"]["kubernetes"]["aws"]["externalId"] == \
        TF_SECRET
