"""apply_plan and wait_for against the Grid emulator over loopback HTTP."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.engine import apply_plan, is_settled, wait_for
from reconciler.live import wire
from reconciler.live.client import GridClient
from reconciler.model import (
    PHASE_DELETED,
    PHASE_QUEUED,
    PHASE_RUNNING,
    PROFILE_COST_SAVING,
    DesiredCluster,
    InstanceSpec,
    SecretRef,
)
from reconciler.plan.planner import make_plan
from reconciler.plan.types import Action, ApplyResult, Outcome, Plan
from reconciler.sim.server import SimServer
from reconciler.sources.secrets import Resolver, env_provider
from reconciler.state import LocalStateBackend
from tests.core.factories import EXTERNAL_ID_ENV, desired_cluster, desired_state
from tests.sim_fixtures import byoc_spec, make_client, sim_server_fixture

SECRET = "ext-secret-for-apply-7d2e"
SHA = "b" * 40
slow_sim = sim_server_fixture("slow_sim", create_seconds=60.0)


class Repo:
    """One GitOps repository's view of the world: desired clusters, state, secrets."""

    def __init__(self, grid: GridClient, state_path: Path) -> None:
        self.grid = grid
        self.backend = LocalStateBackend(state_path)
        self.resolver = Resolver({"fromEnv": env_provider({EXTERNAL_ID_ENV: SECRET})})

    def plan(self, *clusters: DesiredCluster) -> Plan:
        return make_plan(desired_state(*clusters, git_sha=SHA), self.grid.list_clusters(),
                         self.backend.read().state, prune=True, now="2024-05-01T12:00:00Z",
                         resolve_secret=lambda c, ref: self.resolver.resolve(
                             ref, cluster=c.name))

    def apply(self, plan: Plan, **options: Any) -> ApplyResult:
        return apply_plan(plan, self.grid, self.resolver, self.backend, git_sha=SHA, **options)

    def reconcile(self, *clusters: DesiredCluster, **options: Any) -> ApplyResult:
        return self.apply(self.plan(*clusters), **options)

    def settle(self, *names: str, action: Action = Action.CREATE) -> None:
        phases = wait_for(self.grid, dict.fromkeys(names, action), timeout=10, interval=0.05)
        assert all(is_settled(action, p) for p in phases.values()), phases

    def live_spec(self, name: str) -> dict[str, Any]:
        return dict(self.grid.get_cluster(name).spec)


@pytest.fixture
def repo(grid_client: GridClient, tmp_path: Path) -> Repo:
    return Repo(grid_client, tmp_path / ".gridops" / "state.json")


def _outcomes(result: ApplyResult) -> dict[str, tuple[Action, Outcome]]:
    return {r.name: (r.action, r.outcome) for r in result.results}


def test_apply_creates_clusters_with_their_secret_and_records_them(repo: Repo) -> None:
    a, b = desired_cluster("a", deletion_protection=True), desired_cluster("b")
    result = repo.reconcile(a, b)
    assert _outcomes(result) == {"a": (Action.CREATE, Outcome.OK),
                                 "b": (Action.CREATE, Outcome.OK)}
    aws = wire.aws_of(repo.live_spec("a"))
    assert aws["externalId"] == SECRET and aws["region"] == "us-east-1"
    inventory = repo.backend.read().state.inventory
    assert set(inventory) == {"a", "b"}
    assert inventory["a"].deletion_protection and not inventory["b"].deletion_protection
    assert (inventory["a"].role_arn, inventory["a"].applied_sha) == (a.role_arn, SHA)


def test_apply_records_each_create_as_intended_before_it_asks_grid(repo: Repo) -> None:
    seen: dict[str, str | None] = {}
    real_create = repo.grid.create_cluster

    def create(name: str, spec: Any) -> Any:
        entry = repo.backend.read().state.inventory.get(name)
        seen[name] = entry.intent.action if entry and entry.intent else None
        return real_create(name, spec)

    repo.grid.create_cluster = create  # type: ignore[method-assign]
    repo.reconcile(desired_cluster("a"), desired_cluster("b"))
    assert seen == {"a": "create", "b": "create"}
    inventory = repo.backend.read().state.inventory
    assert [inventory[n].intent for n in ("a", "b")] == [None, None]


def test_second_apply_of_the_same_repo_changes_nothing(repo: Repo) -> None:
    clusters = (desired_cluster("a", aws_extra=(("guarddutyIntegration", False),)),
                desired_cluster("b", instance_types=(InstanceSpec("t3.large"),)))
    repo.reconcile(*clusters)
    serial = repo.backend.read().state.serial
    assert not repo.plan(*clusters).has_changes  # still being created: wait
    repo.settle("a", "b")
    plan = repo.plan(*clusters)
    assert [c.action for c in plan.changes] == [Action.NOOP, Action.NOOP]
    assert not repo.apply(plan).failed
    assert repo.backend.read().state.serial == serial


def test_update_replaces_managed_fields_and_keeps_what_the_server_set(repo: Repo) -> None:
    repo.reconcile(desired_cluster("a"))
    repo.settle("a")
    # another tool sets fields gridops does not manage
    edited = copy.deepcopy(repo.live_spec("a"))
    edited["pauseAutomation"] = True
    edited["driver"]["kubernetes"]["aws"]["bucketName"] = "team-bucket"
    repo.grid.update_cluster("a", "a", edited)
    before = repo.live_spec("a")
    target = desired_cluster("a", performance_profile=PROFILE_COST_SAVING,
                             instance_types=(InstanceSpec("g4dn.xlarge", 2, 200),))
    result = repo.reconcile(target)
    assert _outcomes(result) == {"a": (Action.UPDATE, Outcome.OK)}
    after = repo.live_spec("a")
    assert after["performanceProfile"] == PROFILE_COST_SAVING
    assert wire.aws_of(after)["instanceTypes"] == [
        {"name": "g4dn.xlarge", "overprovisionedOndemandCount": 2, "rootVolumeSize": 200}]
    for key in ("userId", "gridletVersion", "costFactor", "paddingFactor", "pauseAutomation"):
        assert after[key] == before[key]
    assert wire.aws_of(after)["bucketName"] == "team-bucket"
    assert wire.aws_of(after)["externalId"] == SECRET
    assert not repo.plan(target).has_changes


def test_update_of_a_changed_secret_sends_the_new_value(repo: Repo) -> None:
    repo.reconcile(desired_cluster("a"))
    repo.settle("a")
    repo.resolver = Resolver({"fromEnv": env_provider({EXTERNAL_ID_ENV: "ext-rotated-91"})})
    plan = repo.plan(desired_cluster("a"))
    assert [f.sensitive for f in plan.changes[0].field_changes] == [True]
    repo.apply(plan)
    assert wire.aws_of(repo.live_spec("a"))["externalId"] == "ext-rotated-91"


@pytest.mark.parametrize(("force", "listed_after"), [(False, True), (True, False)],
                         ids=["normal", "forced"])
def test_delete_is_forced_only_when_asked(repo: Repo, force: bool, listed_after: bool) -> None:
    repo.reconcile(desired_cluster("a"))
    repo.settle("a")
    result = repo.reconcile(force_delete=force)
    assert _outcomes(result) == {"a": (Action.DELETE, Outcome.OK)}
    listed = {c.name: c for c in repo.grid.list_clusters()}
    assert ("a" in listed) is listed_after
    if listed_after:
        assert listed["a"].terminating
    assert repo.backend.read().state.inventory["a"].pending_delete


def test_deleted_cluster_leaves_the_inventory_once_grid_has_dropped_it(repo: Repo) -> None:
    repo.reconcile(desired_cluster("a"))
    repo.settle("a")
    repo.reconcile()
    assert [c.action for c in repo.plan().changes] == [Action.WAIT]  # terminating
    repo.settle("a", action=Action.DELETE)
    result = repo.reconcile()
    assert _outcomes(result) == {"a": (Action.NOOP, Outcome.OK)}
    assert repo.backend.read().state.inventory == {}
    assert repo.plan().changes == ()


def test_one_failing_cluster_does_not_stop_the_others(repo: Repo) -> None:
    unset = SecretRef(kind="fromEnv", params=(("name", "GRID_EXTERNAL_ID_UNSET"),))
    broken = desired_cluster("a-broken", external_id=unset)
    result = repo.reconcile(broken, desired_cluster("b-fine"))
    assert _outcomes(result) == {"a-broken": (Action.CREATE, Outcome.FAILED),
                                 "b-fine": (Action.CREATE, Outcome.OK)}
    assert "GRID_EXTERNAL_ID_UNSET is not set" in result.results[0].error
    assert result.failed
    assert set(repo.backend.read().state.inventory) == {"b-fine"}


def test_create_of_a_name_taken_meanwhile_says_to_import_it(repo: Repo) -> None:
    plan = repo.plan(desired_cluster("a"))
    repo.grid.create_cluster("a", byoc_spec())
    (result,) = repo.apply(plan).results
    assert result.outcome is Outcome.FAILED
    assert "already exists in Grid" in result.error and "gridops import a" in result.error
    assert SECRET not in result.error
    assert repo.backend.read().state.inventory == {}


@pytest.fixture
def impatient_repo(sim_server: SimServer, tmp_path: Path) -> Iterator[Repo]:
    """A repo whose client never retries, so one injected fault fails one call."""
    with make_client(sim_server, max_retries=0) as client:
        yield Repo(client, tmp_path / ".gridops" / "state.json")


def test_failed_delete_keeps_the_inventory_entry_for_the_next_run(impatient_repo: Repo,
                                                                  sim_server: SimServer) -> None:
    repo = impatient_repo
    repo.reconcile(desired_cluster("a"))
    repo.settle("a")
    plan = repo.plan()
    sim_server.inject_faults(500)
    (result,) = repo.apply(plan).results
    assert (result.action, result.outcome) == (Action.DELETE, Outcome.FAILED)
    assert "HTTP 500" in result.error
    entry = repo.backend.read().state.inventory["a"]
    assert not entry.pending_delete
    assert [c.action for c in repo.plan().changes] == [Action.DELETE]


def test_merged_unprotect_takes_effect_before_the_cluster_leaves_git(repo: Repo) -> None:
    repo.reconcile(desired_cluster("a", deletion_protection=True))
    repo.settle("a")
    assert [c.action for c in repo.plan().changes] == [Action.BLOCKED]
    result = repo.reconcile(desired_cluster("a", deletion_protection=False))
    assert _outcomes(result) == {"a": (Action.NOOP, Outcome.OK)}
    assert [c.action for c in repo.plan().changes] == [Action.DELETE]


def test_wait_follows_creates_to_running_and_deletes_to_deleted(repo: Repo) -> None:
    repo.reconcile(desired_cluster("a"), desired_cluster("b"))
    repo.settle("b")
    repo.reconcile(desired_cluster("a"))  # deletes b
    progress: list[tuple[str, str]] = []
    phases = wait_for(repo.grid, {"a": Action.CREATE, "b": Action.DELETE}, timeout=10,
                      interval=0.05, on_progress=lambda n, p, s: progress.append((n, p)))
    assert phases == {"a": PHASE_RUNNING, "b": PHASE_DELETED}
    assert progress[-1] in {("a", PHASE_RUNNING), ("b", PHASE_DELETED)}


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def slow_grid(slow_sim: SimServer) -> Iterator[GridClient]:
    with make_client(slow_sim) as client:
        yield client


def test_wait_gives_up_after_the_timeout_with_the_last_phase(slow_grid: GridClient) -> None:
    slow_grid.create_cluster("a", byoc_spec())
    fake = FakeTime()
    seen: list[float] = []
    phases = wait_for(slow_grid, {"a": Action.CREATE}, timeout=25, interval=10,
                      on_progress=lambda n, p, elapsed: seen.append(elapsed),
                      clock=fake.clock, sleep=fake.sleep)
    assert phases == {"a": PHASE_QUEUED}
    assert not is_settled(Action.CREATE, phases["a"])
    assert fake.sleeps == [10, 10, 5] and seen == [0, 10, 20, 25]



def test_an_inventory_edit_is_applied_again_after_a_concurrent_write(tmp_path: Path) -> None:
    from reconciler.apply.engine import update_inventory
    from reconciler.model import InventoryEntry, State
    from reconciler.state.local import LocalStateBackend

    backend = LocalStateBackend(tmp_path / "state.json")
    backend.write(State(inventory={}), expected_version=None)
    other = LocalStateBackend(tmp_path / "state.json")
    raced = []

    def edit(inv: dict[str, InventoryEntry]) -> dict[str, InventoryEntry]:
        if not raced:  # another run writes between this read and this write
            raced.append(True)
            snap = other.read()
            other.write(State(inventory={"theirs": InventoryEntry("theirs")},
                              serial=snap.state.serial), expected_version=snap.version)
        return {**inv, "mine": InventoryEntry("mine")}

    update_inventory(backend, edit)
    assert set(backend.read().state.inventory) == {"theirs", "mine"}


def test_a_state_that_cannot_be_compacted_keeps_every_result_and_says_so(repo: Repo) -> None:
    from reconciler.errors import StateError

    def settle() -> None:  # as a full disk would refuse the state file's rewrite
        raise StateError("cannot write state file state.json: No space left on device")

    repo.backend.settle = settle  # type: ignore[method-assign]
    result = repo.reconcile(desired_cluster("a"), desired_cluster("b"))

    assert _outcomes(result) == {"a": (Action.CREATE, Outcome.OK),
                                 "b": (Action.CREATE, Outcome.OK)}
    assert len(result.notes) == 1 and "recorded in the state's journal" in result.notes[0]
    assert "No space left on device" in result.notes[0]
    # what the note says is true: a new reader of the state sees every result
    inventory = LocalStateBackend(repo.backend.path).read().state.inventory
    assert set(inventory) == {"a", "b"}
    assert [inventory[n].intent for n in ("a", "b")] == [None, None]
