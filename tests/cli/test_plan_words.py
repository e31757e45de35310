"""The plan in the document's own words: document paths and values, the file and line of the
field causing each change, and why (new in git, changed in git, drift, both)."""

from __future__ import annotations

import copy
import json
import re

from tests.cli.conftest import GitOpsRepo, cluster_doc

BETA = "clusters/team-b/beta.yaml"
BETA_TYPES = ["m5.xlarge", {"name": "g4dn.xlarge", "overprovisionedOnDemand": 1}]


def _beta(**changes: object) -> str:
    options: dict[str, object] = {"region": "us-west-2", "env_var": "GRID_EXTERNAL_ID_B",
                                  "protection": True, "instance_types": BETA_TYPES}
    options.update(changes)
    return cluster_doc("beta", **options)  # type: ignore[arg-type]


def _applied(gitops: GitOpsRepo) -> str:
    result = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                            "--timeout", "20")
    assert result.exit_code == 0, result.output
    return gitops.repo.head.commit.hexsha


def _edit_live(gitops: GitOpsRepo, name: str, **aws: object) -> None:
    """Someone changes the cluster in Grid, outside git."""
    live = gitops.live()[name]
    spec = copy.deepcopy(dict(live.spec))
    spec["driver"]["kubernetes"]["aws"].update(aws)
    gitops.grid.update_cluster(live.id, name, spec)


def test_a_git_change_reads_as_the_document_writes_it_with_file_and_line(
        gitops: GitOpsRepo) -> None:
    applied = _applied(gitops)
    gitops.write(BETA, _beta(profile="cost-saving", instance_types=[
        "m5.xlarge", {"name": "g4dn.xlarge", "overprovisionedOnDemand": 2}]))
    gitops.commit("beta: cost-saving, two warm GPUs")
    out = gitops.gridops("plan").stdout
    assert f"~ beta: update (changed in git since the last applied commit {applied[:12]})" in out
    assert re.search(r"spec\.instanceTypes\[g4dn\.xlarge\]\.overprovisionedOnDemand: 1 -> 2 +"
                     r"\(clusters/team-b/beta\.yaml:10\)", out), out
    assert re.search(r"spec\.performanceProfile: default -> cost-saving +"
                     r"\(clusters/team-b/beta\.yaml:9\)", out), out
    assert "driver.kubernetes" not in out and "CLUSTER_PERFORMANCE_PROFILE" not in out


def test_a_field_from_a_defaults_file_points_at_the_defaults_file(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-b/_defaults.yaml", "apiVersion: gridops/v1\n"
                 "kind: GridClusterDefaults\nspec:\n  aws: {kubernetesVersion: \"1.29\"}\n")
    gitops.commit("team-b defaults")
    _applied(gitops)
    gitops.write("clusters/team-b/_defaults.yaml", "apiVersion: gridops/v1\n"
                 "kind: GridClusterDefaults\nspec:\n  aws:\n    kubernetesVersion: \"1.30\"\n")
    gitops.commit("team-b: 1.30")
    out = gitops.gridops("plan").stdout
    assert re.search(r'spec\.aws\.kubernetesVersion: "1\.29" -> "1\.30" +'
                     r"\(clusters/team-b/_defaults\.yaml:5\)", out), out


def test_a_field_the_document_starts_to_manage_is_a_git_change(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    _edit_live(gitops, "beta", fsxEnabled=True)
    gitops.write(BETA, _beta(extra="  aws: {fsxEnabled: false}\n"))
    gitops.commit("beta: no FSx")
    out = gitops.gridops("plan").stdout
    assert "drift" not in out
    assert re.search(r"spec\.aws\.fsxEnabled: true -> false +"
                     r"\(clusters/team-b/beta\.yaml:12\)", out), out


def test_a_change_made_in_grid_alone_is_drift(gitops: GitOpsRepo) -> None:
    applied = _applied(gitops)
    _edit_live(gitops, "alpha", instanceTypes=[{"name": "t3.large",
                                                "overprovisionedOndemandCount": 3}])
    out = gitops.gridops("plan").stdout
    assert (f"~ alpha: update (drift: the document is as at the last applied commit "
            f"{applied[:12]}, but Grid differs (changed outside git))") in out
    assert "spec.instanceTypes[t3.large].overprovisionedOnDemand: 3 -> 0" in out


def test_a_git_change_and_drift_together_read_both_and_mark_the_drifted_field(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    _edit_live(gitops, "beta", instanceTypes=[
        {"name": "m5.xlarge", "overprovisionedOndemandCount": 2},
        {"name": "g4dn.xlarge", "overprovisionedOndemandCount": 1}])
    gitops.write(BETA, _beta(profile="cost-saving"))
    gitops.commit("beta: cost-saving")
    out = gitops.gridops("plan").stdout
    assert "~ beta: update (changed in git since the last applied commit" in out
    assert ", and drift in Grid)" in out
    # the document never changed m5.xlarge's warm count; Grid did: drift
    assert re.search(r"spec\.instanceTypes\[m5\.xlarge\]\.overprovisionedOnDemand: 2 -> 0 +"
                     r"\(drift; clusters/team-b/beta\.yaml:10\)", out), out
    assert re.search(r"spec\.performanceProfile: default -> cost-saving +"
                     r"\(clusters/team-b/beta\.yaml:9\)", out), out


def test_without_a_recorded_apply_the_commit_before_head_is_the_base(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    state = gitops.state()
    for entry in state["inventory"]:
        entry["appliedSha"] = None
    (gitops.root / ".gridops" / "state.json").write_text(json.dumps(state))
    gitops.write(BETA, _beta(profile="cost-saving"))
    gitops.commit("beta: cost-saving")
    out = gitops.gridops("plan").stdout
    assert "~ beta: update (changed in git since HEAD~)" in out


def test_plan_json_keeps_the_document_and_the_wire_path_and_the_cause(
        gitops: GitOpsRepo) -> None:
    _applied(gitops)
    gitops.write(BETA, _beta(profile="cost-saving"))
    gitops.commit("beta: cost-saving")
    plan = json.loads(gitops.gridops("plan", "--json").stdout)
    beta = next(c for c in plan["changes"] if c["name"] == "beta")
    assert beta["cause"] == "changed"
    assert beta["fieldChanges"] == [{
        "path": "performanceProfile", "old": "CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
        "new": "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING", "sensitive": False,
        "documentPath": "spec.performanceProfile", "documentOld": "default",
        "documentNew": "cost-saving", "source": "clusters/team-b/beta.yaml:9", "cause": "git"}]


def test_a_new_document_is_new_in_git(gitops: GitOpsRepo) -> None:
    out = gitops.gridops("plan").stdout
    assert "+ alpha: create (new in git)" in out
    assert re.search(r"spec\.instanceTypes\[t3\.large\]: \{overprovisionedOnDemand: 0\} +"
                     r"\(clusters/team-a/alpha\.yaml:10\)", out), out
    plan = json.loads(gitops.gridops("plan", "--json").stdout)
    assert {c["cause"] for c in plan["changes"]} == {"new"}


def test_a_saved_plan_still_applies_when_its_display_words_differ(gitops: GitOpsRepo) -> None:
    _applied(gitops)
    gitops.write(BETA, _beta(profile="cost-saving"))
    gitops.commit("beta: cost-saving")
    saved = json.loads(gitops.gridops("plan", "--json").stdout)
    for change in saved["changes"]:  # e.g. planned in a PR against its base
        change["reason"], change["cause"] = "changed in git since the PR's base", "both"
    path = gitops.root / "plan.json"
    path.write_text(json.dumps(saved))
    result = gitops.gridops("apply", str(path), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert gitops.live()["beta"].spec["performanceProfile"].endswith("COST_SAVING")
