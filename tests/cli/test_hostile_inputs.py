"""Hostile input, through the CLI against the emulator: every case is refused with a clear
message naming the file (FILE:LINE:COL) or setting, exit 1, no traceback, no request that
changes anything in Grid (the emulator's request log), and no canary secret in any output,
in any encoding."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from reconciler.sources.secrets import encoded_forms
from tests.cli.conftest import SECRET_A, SECRET_B, SETTINGS, GitOpsRepo, cluster_doc
from tests.sim_fixtures import SIM_API_KEY, SIM_USER_ID

MUTATING = {"POST", "PUT", "DELETE", "PATCH"}
CANARIES = [SECRET_A, SECRET_B, SIM_API_KEY, f"{SIM_USER_ID}:{SIM_API_KEY}"]


@dataclass(frozen=True)
class Case:
    #: files to write (repo-relative path -> text)
    files: dict[str, str] = field(default_factory=dict)
    #: symlinks to make (link -> target)
    links: dict[str, str] = field(default_factory=dict)
    #: what the output must say
    expected: str = ""
    #: environment for the run
    env: dict[str, str] = field(default_factory=dict)
    #: validate is not expected to see it (a problem of the Grid URL, not of the documents)
    plan_only: bool = False


def _doc(name: str = "gamma", **options: object) -> str:
    return cluster_doc(name, **options)  # type: ignore[arg-type]


BIG = 10 ** 30
CASES: dict[str, Case] = {
    "name-trailing-newline": Case({"clusters/g.yaml": _doc('"gamma\\n"')},
                                  expected="clusters/g.yaml:4:9: cluster name 'gamma\\n'"),
    "region-unicode-digit": Case({"clusters/g.yaml": _doc(region="us-west-\u0662")},
                                 expected="clusters/g.yaml:6:11: 'us-west-\u0662' is not an "
                                          "AWS region"),
    "region-trailing-newline": Case({"clusters/g.yaml": _doc(region='"us-east-1\\n"')},
                                    expected="clusters/g.yaml:6:11: 'us-east-1\\n' is not"),
    "role-arn-partition": Case({"clusters/g.yaml": _doc().replace("arn:aws:", "arn:aws-iso:")},
                               expected="clusters/g.yaml:7:12: roleArn "
                                        "'arn:aws-iso:iam::123456789012:role/grid-byoc' is in "
                                        "partition 'aws-iso'"),
    "role-arn-wrong-partition-for-region": Case(
        {"clusters/g.yaml": _doc(region="cn-north-1")},
        expected="clusters/g.yaml:7:12: roleArn 'arn:aws:iam::123456789012:role/grid-byoc' is "
                 "not in aws-cn"),
    "account-unicode-digits": Case(
        {"clusters/g.yaml": _doc().replace("123456789012", "12345678901\u0662")},
        expected="clusters/g.yaml:7:12: roleArn"),
    "root-volume-huge": Case(
        {"clusters/g.yaml": _doc(instance_types=[{"name": "t3.large", "rootVolumeGiB": BIG}])},
        expected="must be 16384 or less"),
    "overprovisioned-int32": Case(
        {"clusters/g.yaml": _doc(instance_types=[
            {"name": "t3.large", "overprovisionedOnDemand": 2 ** 31}])},
        expected="must be 1000 or less, not 2147483648"),
    "multi-az-huge": Case({"clusters/g.yaml": _doc(extra=f"  aws: {{xMultiAzCount: {BIG}}}\n")},
                          expected="clusters/g.yaml:12:24: spec.aws.xMultiAzCount: must be 6 "
                                   "or less"),
    "apple-silicon": Case({"clusters/g.yaml": _doc(instance_types=["mac2.metal"])},
                          expected="'mac2.metal' is arm64 (Apple silicon)"),
    "apple-silicon-pro": Case({"clusters/g.yaml": _doc(instance_types=["mac2-m2pro.metal"])},
                              expected="'mac2-m2pro.metal' is arm64"),
    "graviton-flex": Case({"clusters/g.yaml": _doc(instance_types=["c7g-flex.large"])},
                          expected="'c7g-flex.large' is arm64 (Graviton)"),
    "global-name": Case({"clusters/g.yaml": _doc("grid-cloud-prod")},
                        expected="clusters/g.yaml:4:9: 'grid-cloud-prod' is Grid's shared "
                                 "GLOBAL cluster"),
    "upper-case-suffix": Case({"clusters/g.YAML": _doc(region="us-east-1a")},
                              expected="clusters/g.YAML:6:11: 'us-east-1a' is an availability "
                                       "zone"),
    "self-link": Case(links={"clusters/loop.yaml": "loop.yaml"},
                      expected="clusters/loop.yaml:1:1: symlink loop"),
    "link-loop": Case(links={"clusters/a.yaml": "b.yaml", "clusters/b.yaml": "a.yaml"},
                      expected="clusters/a.yaml:1:1: symlink loop"),
    "folder-loop": Case(links={"clusters/team-a/again": ".."},
                        expected="clusters/team-a/again:1:1: symlinked folder loops back"),
    "link-out-of-repo": Case(links={"clusters/etc.yaml": "/etc/hostname"},
                             expected="clusters/etc.yaml:1:1: symlink leads outside the "
                                      "repository"),
    "workflow-command-file-name": Case(
        {"clusters/x\n::warning title=injected::PWNED\n.yaml": _doc()},
        expected="clusters/x\\n::warning title=injected::PWNED\\n.yaml: the file name holds "
                 "control"),
    "grid-url-plain-http": Case(
        {"gridops.yaml": SETTINGS.replace("sim://unused.db", "http://grid.attacker.example")
         % {"max_deletes": 1}},
        expected="gridops.yaml:3:10: gridUrl: Grid URL 'http://grid.attacker.example' is "
                 "plain http"),
    "grid-url-metadata": Case(
        {"gridops.yaml": SETTINGS.replace("sim://unused.db", "https://169.254.169.254/")
         % {"max_deletes": 1}},
        expected="gridops.yaml:3:10: gridUrl: Grid URL 'https://169.254.169.254/' is a "
                 "link-local or cloud metadata address"),
    "grid-url-user-info": Case(
        {"gridops.yaml": SETTINGS.replace("sim://unused.db", f"https://u:{SECRET_A}@grid.example")
         % {"max_deletes": 1}},
        expected="gridops.yaml:3:10: gridUrl: Grid URL 'https://***@grid.example' carries "
                 "user info"),
    "state-path-outside": Case(
        {"gridops.yaml": SETTINGS.replace(".gridops/state.json", "../../tmp/state.json")
         % {"max_deletes": 1}},
        expected="gridops.yaml:5:31: state.path '../../tmp/state.json' must be a file inside"),
    "sim-latency-huge": Case(env={"GRID_URL": "sim://x.db?latency=1e9"}, plan_only=True,
                             expected="latency: '1e9' is not a number of seconds >= 0 and "
                                      "<= 60"),
    "sim-param-twice": Case(env={"GRID_URL": "sim://x.db?latency=0&latency=9"}, plan_only=True,
                            expected="latency is given 2 times"),
    "grid-url-crlf": Case(env={"GRID_URL": "https://grid.example\r\nX: 1"}, plan_only=True,
                          expected="Grid URL 'https://grid.example\\r\\nX: 1' contains"),
    "output-file-forging-a-workflow-command": Case(
        {"clusters/g.yaml": "apiVersion: gridops/v1\nkind: GridCluster\nmetadata:\n  name: "
         "gamma\nspec:\n  selfManaged:\n    fromTerraformOutput: {file: \"x\\n::warning "
         "title=injected::owned\\n.json\", output: gridv1_cluster}\n"},
        expected="x\\n::warning title=injected::owned\\n.json does not exist"),
    "output-file-outside": Case(
        {"clusters/g.yaml": "apiVersion: gridops/v1\nkind: GridCluster\nmetadata:\n  name: "
         "gamma\nspec:\n  selfManaged:\n    fromTerraformOutput: {file: ../../etc/x.json, "
         "output: gridv1_cluster}\n"},
        expected="clusters/g.yaml:6:3: spec.selfManaged: terraform output file "
                 "../../etc/x.json is outside the repository"),
    "grid-url-unclosed-bracket": Case(env={"GRID_URL": "http://[::1"}, plan_only=True,
                                      expected="Grid URL 'http://[::1' is not a valid URL"),
}


def _canary_forms() -> set[str]:
    forms = {f for c in CANARIES for f in encoded_forms(c)}
    forms |= {base64.b64encode(c.encode()).decode() for c in CANARIES}
    return forms | {quote(c, safe="") for c in CANARIES}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_input_is_refused_clearly_and_changes_nothing(gitops: GitOpsRepo,
                                                              case: Case) -> None:
    for rel, text in case.files.items():
        gitops.write(rel, text)
    for link, target in case.links.items():
        os.symlink(target, gitops.root / link)
    gitops.commit("hostile")
    commands = [("plan",), ("apply", "--auto-approve")]
    if not case.plan_only:
        commands.insert(0, ("validate",))

    for command in commands:
        result = gitops.gridops(*command, env=case.env)
        output = result.output
        assert result.exit_code == 1, (command, output)
        assert case.expected in output, (command, output)
        assert "Traceback" not in output and "internal error" not in output, output
        assert not [line for line in output.splitlines() if line.startswith("::warning title"
                                                                             "=injected")]
        assert not [form for form in _canary_forms() if form in output], command
    assert [r for r in gitops.sim.requests() if r.method in MUTATING] == []
    assert not gitops.live().keys() - {"alpha", "beta", "grid-cloud-prod"}


def test_git_dubious_ownership_is_a_clear_error(gitops: GitOpsRepo) -> None:
    env = {"GIT_TEST_ASSUME_DIFFERENT_OWNER": "1"}  # git's own switch for this check
    for command in (("plan",), ("apply", "--auto-approve")):
        result = gitops.gridops(*command, env=env)
        assert result.exit_code == 1
        assert "dubious ownership" in result.stderr and "safe.directory" in result.stderr
        assert "Traceback" not in result.output and "internal error" not in result.output
    assert [r for r in gitops.sim.requests() if r.method in MUTATING] == []


def test_links_that_fan_out_read_each_folder_once(gitops: GitOpsRepo) -> None:
    # 12 folders, each with two links to the next: every way through would be 4,096 copies
    # of the one file at the end; each folder is read once, every other way is a finding
    for level in range(12):
        (gitops.root / f"clusters/fan/f{level}").mkdir(parents=True)
        for link in ("a", "b"):
            os.symlink(f"../f{level + 1}", gitops.root / f"clusters/fan/f{level}/{link}")
    gitops.write("clusters/fan/f12/gamma.yaml", cluster_doc("gamma"))
    gitops.commit("links that fan out")

    for command in (("validate",), ("apply", "--auto-approve")):
        result = gitops.gridops(*command)
        assert result.exit_code == 1, result.output
        twice = [line for line in result.output.splitlines()
                 if "leads to a folder already read as" in line]
        assert 1 <= len(twice) <= 24, result.output[-2000:]
        assert "Traceback" not in result.output
    assert [r for r in gitops.sim.requests() if r.method in MUTATING] == []


def test_apply_of_a_commit_without_the_clusters_folder_reads_no_files(
        gitops: GitOpsRepo) -> None:
    for name in ("team-a/alpha", "team-b/beta"):
        gitops.remove(f"clusters/{name}.yaml")
    gitops.commit("no cluster files left")
    assert not list((gitops.root / "clusters").rglob("*.yaml"))

    plan = gitops.gridops("plan")
    result = gitops.gridops("apply", "--auto-approve")

    assert "symlink" not in plan.output + result.output
    assert result.exit_code == plan.exit_code == 0, result.output  # as plan reads the tree
    assert "Plan: 0 to create, 0 to change, 0 to delete." in plan.output + result.output
    assert [r for r in gitops.sim.requests() if r.method in MUTATING] == []
