"""What a change costs: warm on-demand instances x Grid's on-demand price x 730 hours, per
cluster and in total; deletes show the saving; unknown prices are said, never guessed."""

from __future__ import annotations

import json

import pytest

from reconciler.plan.cost import describe_cost, describe_total, on_demand_prices
from reconciler.plan.types import Action, ClusterCost, WarmChange
from reconciler.sim.catalog import CATALOG
from tests.cli.conftest import GitOpsRepo, cluster_doc

BETA = "clusters/team-b/beta.yaml"


def _beta(warm: int, *, protection: bool = True) -> str:
    return cluster_doc("beta", region="us-west-2", env_var="GRID_EXTERNAL_ID_B",
                       protection=protection, instance_types=[
                           "m5.xlarge", {"name": "g4dn.xlarge", "overprovisionedOnDemand": warm}])


def _running(gitops: GitOpsRepo) -> None:
    result = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                            "--timeout", "20")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("name", "hourly"), [
    ("t3.large", 0.0832), ("m5.2xlarge", 0.384), ("g4dn.xlarge", 0.526), ("p3.2xlarge", 3.06)],
    ids=["t3.large", "m5.2xlarge", "g4dn.xlarge", "p3.2xlarge"])
def test_the_emulator_prices_are_aws_us_east_1_on_demand(name: str, hourly: float) -> None:
    entry = next(e for e in CATALOG if e.name == name)
    assert entry.hourly_cost == hourly
    assert 0 < entry.spot_hourly_cost < entry.hourly_cost


def test_more_warm_instances_cost_count_times_price_times_730(gitops: GitOpsRepo) -> None:
    _running(gitops)
    gitops.write(BETA, _beta(3))
    gitops.commit("beta: three warm GPUs")
    out = gitops.gridops("plan").stdout
    assert "    cost: +$767.96/month (g4dn.xlarge: 1 -> 3 warm at $0.526/h)" in out
    assert "Cost: +$767.96/month in warm on-demand instances.\nPlan: " in out
    plan = json.loads(gitops.gridops("plan", "--json").stdout)
    assert plan["costMonthlyTotal"] == 767.96
    assert plan["costs"] == [{"name": "beta", "action": "update", "monthly": 767.96, "warm": [
        {"instanceType": "g4dn.xlarge", "old": 1, "new": 3, "hourly": 0.526,
         "monthly": 767.96}]}]


def test_a_delete_shows_the_saving(gitops: GitOpsRepo) -> None:
    gitops.write(BETA, _beta(1, protection=False))
    gitops.commit("beta: unprotected")
    _running(gitops)
    gitops.remove(BETA)
    gitops.commit("drop beta")
    out = gitops.gridops("plan").stdout
    assert "- beta: delete" in out
    assert "    saves: $383.98/month (g4dn.xlarge: 1 -> 0 warm at $0.526/h)" in out
    assert "Cost: -$383.98/month in warm on-demand instances." in out


def test_a_new_cluster_with_no_neighbour_in_its_region_says_prices_are_not_available(
        gitops: GitOpsRepo) -> None:
    out = gitops.gridops("plan").stdout  # nothing is live yet: no instance-types answer
    assert "cost: prices not available from Grid (g4dn.xlarge: 0 -> 1 warm (no price))" in out
    assert "Cost: prices not available from Grid for beta." in out
    assert json.loads(gitops.gridops("plan", "--json").stdout)["costMonthlyTotal"] is None


def test_a_new_cluster_takes_the_prices_of_a_live_one_in_its_region(gitops: GitOpsRepo) -> None:
    _running(gitops)
    gitops.write("clusters/team-b/gamma.yaml", cluster_doc(
        "gamma", region="us-west-2", instance_types=[
            {"name": "g4dn.xlarge", "overprovisionedOnDemand": 4},
            {"name": "p3.2xlarge", "overprovisionedOnDemand": 1}]))
    gitops.commit("gamma")
    out = gitops.gridops("plan").stdout
    # beta (us-west-2) uses g4dn.xlarge, so Grid's answer for it has that price; no live
    # cluster there uses p3.2xlarge: its price is not known, and nothing is guessed
    assert ("cost: prices not available from Grid (g4dn.xlarge: 0 -> 4 warm at $0.526/h, "
            "p3.2xlarge: 0 -> 1 warm (no price))") in out


def test_a_type_new_to_a_cluster_takes_its_price_from_a_neighbour(gitops: GitOpsRepo) -> None:
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc(
        "alpha", region="us-west-2", instance_types=["p3.2xlarge"]))
    gitops.commit("alpha in us-west-2")
    _running(gitops)
    gitops.write(BETA, cluster_doc("beta", region="us-west-2", env_var="GRID_EXTERNAL_ID_B",
                                   protection=True, instance_types=[
                                       {"name": "p3.2xlarge", "overprovisionedOnDemand": 1}]))
    gitops.commit("beta: a warm p3")
    out = gitops.gridops("plan").stdout
    assert "cost: +$1,849.82/month (g4dn.xlarge: 1 -> 0 warm at $0.526/h, p3.2xlarge: " \
           "0 -> 1 warm at $3.06/h)" in out


def test_prices_are_asked_only_when_a_warm_count_moves_and_once_per_cluster(
        gitops: GitOpsRepo) -> None:
    _running(gitops)
    before = gitops.sim.request_count
    gitops.gridops("plan")
    assert gitops.sim.request_count - before == 1  # the one list call, no instance types
    gitops.write(BETA, _beta(2))
    gitops.commit("beta: two warm")
    before = gitops.sim.request_count
    gitops.gridops("plan")
    assert gitops.sim.request_count - before == 2  # the list call and beta's instance types


def test_the_profile_change_says_what_each_profile_means(gitops: GitOpsRepo) -> None:
    _running(gitops)
    gitops.write("clusters/team-a/alpha.yaml", cluster_doc("alpha", profile="cost-saving"))
    gitops.commit("alpha: cost-saving")
    out = gitops.gridops("plan").stdout
    assert "spec.performanceProfile: default -> cost-saving" in out
    assert "cost-saving: fewer nodes, no metrics or monitoring, cheaper" in out


def test_spot_entries_and_missing_prices_are_not_on_demand_prices() -> None:
    answer = [{"name": "g4dn.xlarge", "hourlyCost": 0.526},
              {"name": "g4dn.xlarge", "hourlyCost": 0.1578, "spot": True},
              {"name": "t3.large"}, {"name": "m5.large", "hourlyCost": "0.096"}]
    assert on_demand_prices(answer) == {"g4dn.xlarge": 0.526}


def test_a_partly_priced_total_says_which_clusters_are_unknown() -> None:
    costs = [ClusterCost("a", Action.UPDATE, (WarmChange("g4dn.xlarge", 1, 3, 0.526),)),
             ClusterCost("b", Action.CREATE, (WarmChange("p3.2xlarge", 0, 1, None),))]
    assert describe_cost(costs[0]) == "cost: +$767.96/month (g4dn.xlarge: 1 -> 3 warm at $0.526/h)"
    assert describe_total(costs) == ("Cost: +$767.96/month known; prices not available from "
                                     "Grid for b.")
    assert describe_total([]) == ""
