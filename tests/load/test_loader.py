from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.model import (
    PROFILE_COST_SAVING,
    PROFILE_DEFAULT,
    DesiredCluster,
    InstanceSpec,
    SecretRef,
    SourceLocation,
)
from reconciler.sources.loader import load_desired, merge_defaults, read_cluster_files
from tests.load.conftest import CLUSTER, Load, Write

DEFAULTS = """\
apiVersion: gridops/v1
kind: GridClusterDefaults
metadata:
  labels: {team: research, tier: gpu}
spec:
  region: us-east-1
  roleArn: arn:aws:iam::123456789012:role/grid-byoc
  externalId: {fromEnv: GRID_EXTERNAL_ID_RESEARCH}
  performanceProfile: cost-saving
  instanceTypes: [t3.medium]
  aws: {kubernetesVersion: "1.29", guarddutyIntegration: true}
"""


def test_valid_example_set_loads_into_desired_clusters(write: Write, load: Load) -> None:
    write("clusters/research/_defaults.yaml", DEFAULTS)
    write("clusters/research/use1.yaml", """\
        # the research team's main cluster
        apiVersion: gridops/v1
        kind: GridCluster
        metadata:
          name: research-use1
          labels: {owner: vision}
        spec:
          performanceProfile: default
          instanceTypes:
            - t3.large
            - {name: g4dn.xlarge, overprovisionedOnDemand: 1, rootVolumeGiB: 200}
          deletionProtection: true
          aws: {guarddutyIntegration: false, azSkipIds: [use1-az3]}
        """)
    write("clusters/platform.yml", CLUSTER.format(name="platform-use1"))

    clusters, findings = load()

    assert findings == []
    assert clusters["research-use1"] == DesiredCluster(
        name="research-use1", region="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/grid-byoc",
        external_id=SecretRef("fromEnv", (("name", "GRID_EXTERNAL_ID_RESEARCH"),)),
        performance_profile=PROFILE_DEFAULT,
        instance_types=(InstanceSpec("t3.large"), InstanceSpec("g4dn.xlarge", 1, 200)),
        deletion_protection=True,
        labels=(("owner", "vision"), ("team", "research"), ("tier", "gpu")),
        aws_extra=(("azSkipIds", ["use1-az3"]), ("guarddutyIntegration", False),
                   ("kubernetesVersion", "1.29")),
        source=SourceLocation("clusters/research/use1.yaml", 2),
    )
    platform = clusters["platform-use1"]
    assert (platform.deletion_protection, platform.labels, platform.aws_extra) == (False, (), ())
    assert platform.instance_types == (InstanceSpec("t3.large"),)


def test_nearer_defaults_win_and_apply_only_to_their_folder_and_below(write: Write,
                                                                      load: Load) -> None:
    write("clusters/_defaults.yaml", DEFAULTS)
    write("clusters/prod/_defaults.yaml", """\
        apiVersion: gridops/v1
        kind: GridClusterDefaults
        spec: {region: eu-west-1, instanceTypes: [m5.large, m5.xlarge]}
        """)
    write("clusters/prod/deep/a.yaml", CLUSTER.format(name="prod-a").replace(
        "  region: us-east-1\n", "").replace("  instanceTypes: [t3.large]\n", ""))
    write("clusters/staging/b.yaml", CLUSTER.format(name="staging-b").replace(
        "  region: us-east-1\n", ""))

    clusters, findings = load()

    assert findings == []
    prod, staging = clusters["prod-a"], clusters["staging-b"]
    assert (prod.region, [i.name for i in prod.instance_types]) == (
        "eu-west-1", ["m5.large", "m5.xlarge"])
    assert prod.performance_profile == PROFILE_COST_SAVING
    assert (staging.region, [i.name for i in staging.instance_types]) == ("us-east-1",
                                                                          ["t3.large"])


@pytest.mark.parametrize(("layers", "cluster", "expected"), [
    ([{"spec": {"instanceTypes": ["a.x", "b.x"]}}], {"spec": {"instanceTypes": ["c.x"]}},
     {"instanceTypes": ["c.x"]}),
    ([{"spec": {"aws": {"fsxEnabled": True, "xMultiAzCount": 2}}}],
     {"spec": {"aws": {"xMultiAzCount": 3}}},
     {"aws": {"fsxEnabled": True, "xMultiAzCount": 3}}),
    ([{"spec": {"externalId": {"fromEnv": "A"}}}],
     {"spec": {"externalId": {"fromSsm": "/b"}}},
     {"externalId": {"fromSsm": "/b"}}),
    ([{"spec": {"region": "us-east-1"}}, {"spec": {"region": "eu-west-1"}}], {"spec": {}},
     {"region": "eu-west-1"}),
], ids=["lists-replace", "aws-merges-key-by-key", "secret-replaces-whole", "nearer-wins"])
def test_merge_defaults(layers: list[dict[str, object]], cluster: dict[str, object],
                        expected: dict[str, object]) -> None:
    assert merge_defaults(cluster, layers)["spec"] == expected


@pytest.mark.parametrize(("reference", "expected"), [
    ("{fromSsm: /grid/external-id}",
     SecretRef("fromSsm", (("name", "/grid/external-id"), ("region", "eu-west-1")))),
    ("{fromSecretsManager: {secretId: grid/byoc, key: externalId}}",
     SecretRef("fromSecretsManager", (("key", "externalId"), ("region", "eu-west-1"),
                                      ("secretId", "grid/byoc")))),
    ("{fromSsm: {name: /grid/external-id, region: us-west-2}}",
     SecretRef("fromSsm", (("name", "/grid/external-id"), ("region", "us-west-2")))),
    ("{fromEnv: GRID_EXTERNAL_ID}", SecretRef("fromEnv", (("name", "GRID_EXTERNAL_ID"),))),
    ("{fromTerraformOutput: {file: tf.json, output: external_id}}",
     SecretRef("fromTerraformOutput", (("file", "tf.json"), ("output", "external_id")))),
], ids=["ssm-takes-the-cluster-region", "secrets-manager-takes-the-cluster-region",
        "explicit-region-is-kept", "from-env-untouched", "terraform-output-untouched"])
def test_aws_secret_without_a_region_uses_the_cluster_region(write: Write, load: Load,
                                                             reference: str,
                                                             expected: SecretRef) -> None:
    write("clusters/_defaults.yaml", DEFAULTS.replace("us-east-1", "eu-west-1"))
    write("clusters/a.yaml", CLUSTER.format(name="a").replace("  region: us-east-1\n", "")
          .replace("{fromEnv: GRID_EXTERNAL_ID}", reference))

    clusters, findings = load()

    assert findings == []
    assert clusters["a"].external_id == expected


def test_aws_secret_in_defaults_takes_the_region_of_each_cluster(write: Write,
                                                                  load: Load) -> None:
    write("clusters/_defaults.yaml", DEFAULTS.replace("{fromEnv: GRID_EXTERNAL_ID_RESEARCH}",
                                                      "{fromSsm: /grid/external-id}"))
    write("clusters/a.yaml", CLUSTER.format(name="a").replace(
        "  externalId: {fromEnv: GRID_EXTERNAL_ID}\n", ""))
    write("clusters/b.yaml", CLUSTER.format(name="b").replace("us-east-1", "ap-south-1").replace(
        "  externalId: {fromEnv: GRID_EXTERNAL_ID}\n", ""))

    clusters, findings = load()

    assert findings == []
    assert [dict(clusters[n].external_id.params)["region"] for n in ("a", "b")] == [
        "us-east-1", "ap-south-1"]


def test_two_defaults_documents_in_one_folder_are_both_reported(write: Write,
                                                                 load: Load) -> None:
    write("clusters/a.yaml", DEFAULTS)
    write("clusters/b.yaml", CLUSTER.format(name="x") + "---\n" + DEFAULTS)

    _, findings = load()

    assert findings == [
        "clusters/a.yaml:2:7: another GridClusterDefaults document for folder clusters is at "
        "clusters/b.yaml:11: keep one per folder",
        "clusters/b.yaml:12:7: another GridClusterDefaults document for folder clusters is at "
        "clusters/a.yaml:1: keep one per folder",
    ]


def test_second_defaults_is_reported_even_when_the_first_is_invalid(write: Write,
                                                                    load: Load) -> None:
    write("clusters/a.yaml", DEFAULTS.replace("region:", "regoin:"))
    write("clusters/b.yaml", DEFAULTS)
    write("clusters/c.yaml", CLUSTER.format(name="c"))

    clusters, findings = load()

    assert clusters == {}
    assert [f.split(": ")[0] for f in findings] == [
        "clusters/a.yaml:2:7", "clusters/a.yaml:6:3", "clusters/b.yaml:2:7"]


def test_field_set_by_neither_cluster_nor_defaults_is_reported(write: Write,
                                                                load: Load) -> None:
    write("clusters/a.yaml", CLUSTER.format(name="a").replace("  region: us-east-1\n", ""))

    clusters, findings = load()

    assert clusters == {}
    assert findings == ["clusters/a.yaml:5:1: spec.region is not set: set it here or in a "
                        "GridClusterDefaults document of this folder"]


def test_duplicate_names_across_files_report_both_places(write: Write, load: Load) -> None:
    write("clusters/a.yaml", CLUSTER.format(name="shared"))
    write("clusters/team/b.yaml", "# copy\n" + CLUSTER.format(name="shared"))

    _, findings = load()

    assert findings == [
        "clusters/a.yaml:4:9: cluster name 'shared' is also defined at clusters/team/b.yaml:5: "
        "names must be unique",
        "clusters/team/b.yaml:5:9: cluster name 'shared' is also defined at clusters/a.yaml:4: "
        "names must be unique",
    ]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("region: us-east-1", "region: us-east-1a",
     "6:11: 'us-east-1a' is an availability zone, not a region: use 'us-east-1'"),
    ("region: us-east-1", "region: mars-1",
     "6:11: 'mars-1' is not an AWS region"),
    ("[t3.large]", "[t3.large, m6g.large]",
     "9:29: instance type 'm6g.large' is arm64 (Graviton)"),
    ("[t3.large]", "[{name: c7gn.xlarge}]",
     "9:26: instance type 'c7gn.xlarge' is arm64 (Graviton)"),
    ("[t3.large]", "[t3.large, {name: t3.large}]",
     "9:29: instance type 't3.large' is listed twice (first on line 9)"),
    ("[t3.large]", "[t3large]", "9:19: 't3large' is not an EC2 instance type"),
    ("role/grid-byoc", "user/grid-byoc",
     "7:12: roleArn 'arn:aws:iam::123456789012:user/grid-byoc' is not an IAM role ARN"),
    ("name: a", "name: Research_A", "4:9: cluster name 'Research_A' contains '_'"),
    ("{fromEnv: GRID_EXTERNAL_ID}", "{fromSsm: {region: us-east-1}}",
     "8:16: spec.externalId.fromSsm: missing required field 'name'"),
    ("[t3.large]", "[t3.large]\n  aws: {builderNodeInstanceType: t4g.large}",
     "10:34: instance type 't4g.large' is arm64 (Graviton)"),
], ids=["zone", "not-a-region", "arm64-listed-family", "arm64-by-pattern", "duplicate-type",
        "not-an-instance-type", "not-a-role", "bad-name", "secret-missing-field",
        "arm64-node-type"])
def test_semantic_check_is_reported_at_the_value(write: Write, load: Load, old: str, new: str,
                                                 expected: str) -> None:
    write("clusters/a.yaml", CLUSTER.format(name="a").replace(old, new))

    clusters, findings = load()

    assert clusters == {}
    assert [f for f in findings if f.startswith(f"clusters/a.yaml:{expected}")] != [], findings


def test_defaults_document_with_a_name_is_refused(write: Write, load: Load) -> None:
    write("clusters/_defaults.yaml", DEFAULTS.replace("metadata:\n",
                                                      "metadata:\n  name: research\n"))

    _, findings = load()

    assert findings == ["clusters/_defaults.yaml:4:9: a GridClusterDefaults document has no "
                        "name: remove metadata.name (it applies to every cluster in its folder "
                        "and below)"]


def test_every_finding_of_every_file_is_reported_at_once_in_order(write: Write,
                                                                    load: Load) -> None:
    write("clusters/b.yaml", CLUSTER.format(name="b").replace("region:", "regoin:"))
    write("clusters/a.yaml", CLUSTER.format(name="a").replace("us-east-1", "us-east-1c")
          + "---\n" + CLUSTER.format(name="a2").replace("[t3.large]", "[a1.large]"))
    write("clusters/c.yaml", "spec: {deletionProtection: yes}\nspec: 1\n")

    _, findings = load()

    assert [f.split(": ")[0] for f in findings] == [
        "clusters/a.yaml:6:11", "clusters/a.yaml:19:19", "clusters/b.yaml:6:3",
        "clusters/c.yaml:1:1", "clusters/c.yaml:1:28",
        "clusters/c.yaml:2:1",
    ]
    assert "did you mean 'region'?" in findings[2]


def test_a_yaml_hazard_is_not_reported_again_by_the_schema(write: Write, load: Load) -> None:
    write("clusters/a.yaml", CLUSTER.format(name="a") + "  deletionProtection: no\n")

    _, findings = load()

    assert findings == ["clusters/a.yaml:10:23: 'no' is a YAML 1.1 boolean: write \"no\" "
                        "(quoted) for the string, or true/false for a boolean"]


def test_schema_finding_does_not_hide_the_semantic_ones(write: Write, load: Load) -> None:
    write("clusters/a.yaml", """\
        apiVersion: gridops/v1
        kind: GridCluster
        metadata:
          name: Bad_Name
        spec:
          regoin: us-east-1
          region: us-east-1a
          roleArn: arn:aws:iam::123456789012:role/grid-byoc
          externalId: {fromEnv: GRID_EXTERNAL_ID}
          instanceTypes: [t4g.large]
        """)

    clusters, findings = load()

    assert clusters == {}
    assert findings == [
        "clusters/a.yaml:4:9: cluster name 'Bad_Name' contains '_': use '-' instead",
        "clusters/a.yaml:6:3: spec: unknown field 'regoin'; did you mean 'region'?",
        "clusters/a.yaml:7:11: 'us-east-1a' is an availability zone, not a region: "
        "use 'us-east-1' (clusters use zone a)",
        "clusters/a.yaml:10:19: instance type 't4g.large' is arm64 (Graviton); Grid supports "
        "only amd64 (x86_64) instance types",
    ]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("region: us-east-1", 'region: ""', ["6:11: spec.region: must not be empty"]),
    ("{fromEnv: GRID_EXTERNAL_ID}", "{fromSsm: {region: us-east-1}}",
     ["8:16: spec.externalId.fromSsm: missing required field 'name'"]),
    ("{fromEnv: GRID_EXTERNAL_ID}", "plain-secret",
     ["8:15: spec.externalId: a secret must be a reference, never a plain string: write "
      "`externalId: {fromEnv: GRID_EXTERNAL_ID}` (or fromSsm, fromSecretsManager, "
      "fromTerraformOutput, fromTerraformState)"]),
    ("[t3.large]", '[t3.large, ""]', ["9:29: spec.instanceTypes[1]: must not be empty"]),
], ids=["empty-region", "secret-missing-name", "plain-string-secret", "empty-instance-type"])
def test_a_problem_seen_by_schema_and_semantic_check_is_reported_once(
        write: Write, load: Load, old: str, new: str, expected: list[str]) -> None:
    write("clusters/a.yaml", CLUSTER.format(name="a").replace(old, new))

    _, findings = load()

    assert findings == [f"clusters/a.yaml:{e}" for e in expected]


@pytest.mark.parametrize(("old", "new", "places", "message"), [
    ("spec:\n", "spec: [a, b]\nnotSpec:\n", ["5:1", "6:1"],
     "spec: expected a mapping, got a list"),
    ("[t3.large]", "t3.large", ["9:18"], "spec.instanceTypes: expected a list, got a string"),
    ("[t3.large]", "[7, {name: 8}, {size: 1}, [t3.large]]",
     ["9:19", "9:29", "9:33", "9:34", "9:44"], "spec.instanceTypes[0]: expected a string or"),
    ("metadata:\n  name: a", "metadata: [a]", ["3:1"], "metadata: expected a mapping"),
    ("name: a", "name: {first: a}", ["4:3"], "metadata.name: expected a string"),
    ("region: us-east-1", "region: [us-east-1]", ["6:3"], "spec.region: expected a string"),
    ("region: us-east-1", "region: 1", ["6:11"], "spec.region: expected a string"),
    ("role/grid-byoc", "role/grid-byoc\n  aws: [x]", ["8:3"], "spec.aws: expected a mapping"),
    ("role/grid-byoc", "role/grid-byoc\n  aws: {builderNodeInstanceType: 3}", ["8:34"],
     "spec.aws.builderNodeInstanceType: expected a string"),
    ("{fromEnv: GRID_EXTERNAL_ID}", "[{fromEnv: X}]", ["8:3"],
     "spec.externalId: a secret reference has exactly one of"),
], ids=["spec-is-a-list", "instance-types-is-a-string", "instance-type-items-of-odd-shapes",
        "metadata-is-a-list", "name-is-a-mapping", "region-is-a-list", "region-is-a-number",
        "aws-is-a-list", "node-type-is-a-number", "secret-is-a-list"])
def test_wrong_shape_is_a_finding_not_a_crash(write: Write, load: Load, old: str, new: str,
                                              places: list[str], message: str) -> None:
    text = CLUSTER.format(name="a")
    assert old in text
    write("clusters/a.yaml", text.replace(old, new, 1))

    clusters, findings = load()

    assert clusters == {}
    assert [f.split(": ")[0] for f in findings] == [f"clusters/a.yaml:{p}" for p in places]
    assert findings[0].startswith(f"clusters/a.yaml:{places[0]}: {message}"), findings


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"],
                         ids=["list", "string", "number"])
def test_document_that_is_not_a_mapping_is_a_finding_not_a_crash(text: str) -> None:
    clusters, findings = load_desired({"clusters/a.yaml": text.encode()})

    assert clusters == {}
    assert [(f.line, f.col, f.message.split(",")[0]) for f in findings] == [
        (1, 1, "expected a mapping")]


def test_load_desired_is_pure_over_bytes() -> None:
    files = {"clusters/a.yaml": CLUSTER.format(name="a").encode()}

    clusters, findings = load_desired(files)

    assert (list(clusters), findings) == (["a"], [])


# --- reading the working tree -----------------------------------------------------------------

def test_reads_yaml_and_yml_skipping_hidden_folders_and_other_files(tmp_path: Path,
                                                                     write: Write) -> None:
    write("clusters/a.yaml", "a: 1\n")
    write("clusters/sub/b.yml", "b: 1\n")
    write("clusters/.drafts/c.yaml", "c: 1\n")
    write("clusters/README.md", "# notes\n")

    files, findings = read_cluster_files(tmp_path, "clusters")

    assert (list(files), findings) == (["clusters/a.yaml", "clusters/sub/b.yml"], [])


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path, write: Write) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    write("outside/secret.yaml", "a: 1\n")
    write("repo/clusters/shared.yaml", "b: 1\n")
    (repo / "clusters/evil.yaml").symlink_to(outside / "secret.yaml")
    (repo / "clusters/evil-dir").symlink_to(outside)
    (repo / "clusters/alias.yaml").symlink_to(repo / "clusters/shared.yaml")

    files, findings = read_cluster_files(repo, "clusters")

    assert list(files) == ["clusters/alias.yaml", "clusters/shared.yaml"]
    assert [f.format() for f in findings] == [
        f"clusters/evil-dir:1:1: symlink leads outside the repository (to {outside}): refused",
        f"clusters/evil.yaml:1:1: symlink leads outside the repository "
        f"(to {outside / 'secret.yaml'}): refused",
    ]


def test_missing_clusters_folder_says_to_create_it(tmp_path: Path) -> None:
    files, findings = read_cluster_files(tmp_path, "clusters")

    assert files == {}
    assert [f.format() for f in findings] == [
        "clusters: clusters folder 'clusters' does not exist: create it (mkdir -p clusters) and "
        "add GridCluster documents, or set clustersDir in gridops.yaml"]


def test_a_single_file_can_be_read(tmp_path: Path, write: Write) -> None:
    write("clusters/team/a.yaml", "a: 1\n")
    write("clusters/team/b.yaml", "b: 1\n")

    files, findings = read_cluster_files(tmp_path, "clusters/team/b.yaml")

    assert (files, findings) == ({"clusters/team/b.yaml": b"b: 1\n"}, [])


def test_clusters_folder_outside_the_repository_is_refused(tmp_path: Path, write: Write) -> None:
    write("elsewhere/a.yaml", "a: 1\n")
    (tmp_path / "repo").mkdir()

    files, findings = read_cluster_files(tmp_path / "repo", "../elsewhere")

    assert files == {}
    assert [f.message for f in findings] == [
        "clusters folder '../elsewhere' is outside the repository: set clustersDir to a "
        "folder in it"]
