"""Orchestration: each command's work as one function that receives its collaborators
(Grid client, state backend, secret resolver) as arguments. The CLI builds them; tests may too.
Nothing here parses options or prints. The repository is loaded by ``sources.workspace``, whose
``Workspace``, ``load_workspace`` and ``collect_findings`` the commands use through here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from reconciler.errors import (
    ConfigError,
    GitError,
    GridopsError,
    SecretError,
    StalePlan,
)
from reconciler.gridurl import KIND_REMOTE, KIND_SIM, check_grid_url, redact_url
from reconciler.live import wire
from reconciler.model import (
    DesiredCluster,
    InventoryEntry,
    LiveCluster,
    Ownership,
    SecretRef,
    State,
)
from reconciler.model import now_iso as now_iso
from reconciler.plan import cost, guards, planner, why
from reconciler.plan.types import Action, ApplyResult, Outcome, Plan
from reconciler.ports import GridAPI, LockInfo, SecretResolver, StateBackend
from reconciler.sources import gitsource, loader, settings_loader
from reconciler.sources.settings import Settings
from reconciler.sources.workspace import Configured as Configured
from reconciler.sources.workspace import GitRead as GitRead
from reconciler.sources.workspace import Workspace as Workspace
from reconciler.sources.workspace import collect_findings as collect_findings
from reconciler.sources.workspace import load_workspace as load_workspace
from reconciler.sources.workspace import output_reader
from reconciler.sources.workspace import read_git as read_git
from reconciler.sources.workspace import read_settings as read_settings

_T = TypeVar("_T")

if TYPE_CHECKING:  # apply's machinery loads when a command applies, not when it plans
    from reconciler.apply.engine import Inventory


class Background(Generic[_T]):
    """``call()`` in a thread of its own, started at once, while the caller works on: a large
    Grid takes seconds to list, and git reads a commit on the other core while Python imports
    what the run needs next. ``result`` waits for it (and raises what it raised); a run that
    stops first leaves it to end with the process."""

    def __init__(self, call: Callable[[], _T], *, name: str) -> None:
        self._call = call
        self._done = threading.Event()
        self._value: _T | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as e:  # handed to whoever asks for the result
            self._error = e
        finally:
            self._done.set()

    def result(self) -> _T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return cast(_T, self._value)


class Listing(Background[list[LiveCluster]]):
    """Grid's cluster list, asked as soon as the client is open, while the cluster files load."""

    def __init__(self, grid: GridAPI) -> None:
        super().__init__(grid.list_clusters, name="gridops-list")


def _secret_for_diff(resolver: SecretResolver) -> Callable[[DesiredCluster, SecretRef],
                                                           str | None]:
    def resolve(cluster: DesiredCluster, ref: SecretRef) -> str | None:
        return resolver.resolve(ref, cluster=cluster.name)

    return resolve


def _require_secrets(plan: Plan, resolver: SecretResolver) -> None:
    """Fail the plan early when a cluster about to be sent to Grid has an unresolvable secret:
    every missing secret is named at once, each problem once with the clusters it stops."""
    from reconciler.sources.secrets import UnresolvedSecret

    stopped: dict[tuple[str, str | None], list[str]] = {}  # problem and hint -> clusters
    for change in plan.changes:
        if change.action not in (Action.CREATE, Action.UPDATE):
            continue
        for ref in change.secrets.values():
            try:
                resolver.resolve(ref, cluster=change.name)
            except UnresolvedSecret as e:
                stopped.setdefault((e.problem, e.hint), []).append(change.name)
            except SecretError as e:  # a resolver that does not say which cluster
                stopped.setdefault((e.message, e.hint), [])
    if stopped:
        raise SecretError("; ".join(
            (f"{_clusters(names)}: " if names else "") + problem + (f" ({hint})" if hint else "")
            for (problem, hint), names in stopped.items()),
            hint="make the secrets above resolvable, then plan again")


#: how many clusters a problem shared by many names before it says how many more
_NAMED = 3


def _clusters(names: Sequence[str]) -> str:
    """``cluster a``; ``clusters a, b``; ``5 clusters (a, b, c and 2 more)``."""
    if len(names) == 1:
        return f"cluster {names[0]}"
    if len(names) <= _NAMED:
        return "clusters " + ", ".join(names)
    return (f"{len(names)} clusters ({', '.join(names[:_NAMED])} and "
            f"{len(names) - _NAMED} more)")


def make_live_plan(ws: Workspace, grid: GridAPI, backend: StateBackend,
                   resolver: SecretResolver, *, allow_empty: bool = False,
                   guarded: bool = True, base_rev: str | None = None,
                   listing: Listing | None = None) -> tuple[Plan, list[LiveCluster]]:
    """One list call, one state read, one pure plan. ``guarded``: the safety guards refuse a
    plan that would delete too much (plan and apply; read-only reports only show it).
    ``base_rev``: the commit to tell git changes from drift by (a pull request's base);
    None means each cluster's last applied commit, else HEAD~ (see ``change_bases``).
    ``listing``: the list call, already under way."""
    live = listing.result() if listing is not None else grid.list_clusters()
    state = backend.read().state
    plan = planner.make_plan(ws.desired, live, state, resolve_secret=_secret_for_diff(resolver),
                             prune=ws.settings.prune, now=now_iso())
    plan = why.explain_plan(plan, ws.desired.clusters, change_bases(ws, plan, state, base_rev))
    plan = price_plan(plan, ws.desired.clusters, live, grid)
    _require_secrets(plan, resolver)
    notes = list(plan.warnings)
    if ws.desired.uncommitted:
        notes.append("uncommitted changes in " + ", ".join(ws.desired.uncommitted)
                     + ": this plan shows the working tree; apply uses only what is committed")
    notes.extend(f.format() for f in ws.warnings)
    plan = replace(plan, warnings=tuple(notes), settings_file=ws.settings.file)
    if guarded:
        guards.check_guards(plan, max_deletes=ws.settings.max_deletes,
                            desired_count=len(ws.desired.clusters),
                            inventory_count=len(state.inventory), allow_empty=allow_empty)
    return plan, live


def price_plan(plan: Plan, desired: Mapping[str, DesiredCluster], live: Sequence[LiveCluster],
               grid: GridAPI) -> Plan:
    """``plan`` with the monthly cost of each change that moves a warm count. Grid's prices
    come from a cluster's instance-types answer (which lists the types that cluster uses),
    asked once per cluster and only when needed: the cluster's own answer first, then those
    of live clusters in its region for types it lacks (and for a cluster still to be
    created). A price no answer gives stays unknown (never guessed)."""
    byoc = {c.name: c for c in live if c.is_byoc and not c.terminating}
    wanted = {c.name: cost.warm_changes(c, desired.get(c.name), byoc.get(c.name))
              for c in plan.changes}
    wanted = {name: moves for name, moves in wanted.items() if moves}
    if not wanted:
        return plan
    answers: dict[str, Mapping[str, float]] = {}

    def prices_of(cluster: LiveCluster) -> Mapping[str, float]:
        if cluster.id not in answers:
            try:
                answers[cluster.id] = cost.on_demand_prices(grid.instance_types(cluster.id))
            except GridopsError:
                answers[cluster.id] = {}
        return answers[cluster.id]

    prices: dict[str, Mapping[str, float] | None] = {}
    for name, moves in wanted.items():
        found: dict[str, float] = {}
        for source in _price_sources(name, desired.get(name), byoc):
            if set(moves) <= set(found):
                break
            found = {**prices_of(source), **found}
        prices[name] = found
    changes = [c for c in plan.changes if c.name in wanted]
    return replace(plan, costs=cost.price_changes(changes, desired, byoc, prices))


def _price_sources(name: str, cluster: DesiredCluster | None,
                   live: Mapping[str, LiveCluster]) -> list[LiveCluster]:
    """The cluster itself when live, then the live clusters in its region, by name."""
    own = live.get(name)
    region = cluster.region if cluster else (
        str(wire.aws_of(own.spec).get("region", "")) if own else "")
    neighbours = [c for n, c in sorted(live.items())
                  if n != name and wire.aws_of(c.spec).get("region") == region]
    return ([own] if own else []) + neighbours


def change_bases(ws: Workspace, plan: Plan, state: State,
                 base_rev: str | None = None) -> dict[str, why.Base]:
    """What each update's document is compared with to tell a change in git from drift:
    ``base_rev`` when given (a pull request's base), else the commit gridops last applied to
    the cluster (recorded in the state), else HEAD~. A base git cannot read (a shallow clone,
    the first commit) leaves that cluster's cause unknown."""
    names = [c.name for c in plan.changes if c.action is Action.UPDATE]
    if not names or ws.desired.git_sha is None:
        return {}
    loaded: dict[str, Mapping[str, DesiredCluster] | None] = {}
    bases: dict[str, why.Base] = {}
    for name in names:
        rev, label = _base_of(state.inventory.get(name), base_rev)
        if rev not in loaded:
            loaded[rev] = _desired_at(ws, rev)
        clusters = loaded[rev]
        if clusters is not None:
            bases[name] = why.Base(label=label, cluster=clusters.get(name))
    return bases


def _base_of(entry: InventoryEntry | None, base_rev: str | None) -> tuple[str, str]:
    if base_rev:
        return base_rev, f"the pull request's base {base_rev[:12]}"
    if entry is not None and entry.applied_sha:
        return entry.applied_sha, f"the last applied commit {entry.applied_sha[:12]}"
    return "HEAD~", "HEAD~"


def _desired_at(ws: Workspace, rev: str) -> Mapping[str, DesiredCluster] | None:
    if rev == ws.desired.git_sha and not ws.desired.uncommitted:
        return ws.desired.clusters  # already loaded: the working tree is that commit
    try:
        files = gitsource.read_tree_files(ws.root, rev, ws.settings.clusters_dir)
    except GitError:
        return None
    return loader.load_desired(files, read_output=output_reader(ws.root))[0]


def pull_request_base(ws: Workspace, base: str | None, head: str | None) -> str | None:
    """The merge base of a pull request's base and head (as GitHub's PR diff), or None when
    either is unknown or not in the clone."""
    if not base or not (head or ws.desired.git_sha):
        return None
    try:
        return gitsource.merge_base(ws.root, base, head or ws.desired.git_sha or "")
    except GitError:
        return None


def check_not_stale(saved: Plan, fresh: Plan) -> None:
    """A saved plan is carried out only when it is exactly what gridops would plan now: the
    same commit, the same committed files, the same live state, the same changes."""
    if saved.git_sha != fresh.git_sha:
        raise StalePlan(f"the plan was made at commit {_short(saved.git_sha)} but the repository "
                        f"is now at {_short(fresh.git_sha)}", hint=_REPLAN)
    if saved.desired_digest != fresh.desired_digest:
        raise StalePlan("the plan was made from files that are not what is committed "
                        "(uncommitted or ignored changes, or another settings file)",
                        hint="commit the change, then " + _REPLAN)
    if saved.live_fingerprint != fresh.live_fingerprint:
        raise StalePlan("the live clusters in Grid changed since the plan was made",
                        hint=_REPLAN + " and review it again")
    changed = sorted(name for name in {*saved.inputs, *fresh.inputs}
                     if saved.inputs.get(name) != fresh.inputs.get(name))
    if changed:
        sources = "; ".join(f"{n}: {(fresh.inputs.get(n) or saved.inputs[n]).get('source', '')}"
                            for n in changed)
        raise StalePlan(f"the terraform output of a self-managed cluster changed since the plan "
                        f"was made ({sources})", hint=_REPLAN + " and review it again")
    if [c.essentials() for c in saved.changes] != [c.essentials() for c in fresh.changes] \
            or saved.unmanaged != fresh.unmanaged:
        raise StalePlan("the plan file does not match what gridops plans now (the file was "
                        "edited, or the inventory changed)", hint=_REPLAN)


_REPLAN = "make a new plan with `gridops plan --out`"


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "(no commit)"


def require_committed(ws: Workspace) -> None:
    """What is applied is what is in git: a commit, and nothing uncommitted or ignored."""
    if ws.desired.git_sha is None:
        raise ConfigError(f"{ws.root} is not a git repository with a commit",
                          hint="apply works on committed documents: commit them first")
    if ws.desired.uncommitted:
        raise ConfigError(
            "uncommitted or ignored changes: " + ", ".join(ws.desired.uncommitted),
            hint="commit them (what is applied is what is in git), or stash them; "
                 "an ignored file under the clusters folder must be removed")


def plan_for_apply(ws: Workspace, grid: GridAPI, backend: StateBackend,
                   resolver: SecretResolver, *, saved: Plan | None = None,
                   allow_empty: bool = False, listing: Listing | None = None) -> Plan:
    """The plan apply carries out: a fresh one, or ``saved`` once it is shown to be exactly
    what gridops plans now (so an edited or stale file can never do more). ``listing``: the
    list call, already under way."""
    require_committed(ws)
    fresh, _ = make_live_plan(ws, grid, backend, resolver, allow_empty=allow_empty,
                              listing=listing)
    if saved is None:
        return fresh
    check_not_stale(saved, fresh)
    return saved


def apply_changes(plan: Plan, grid: GridAPI, backend: StateBackend,
                  resolver: SecretResolver, *, force_delete: bool,
                  find_leftovers: LeftoverFinder | None, run_id: str = "",
                  parallelism: int | None = None,
                  ) -> tuple[ApplyResult, list[str]]:
    """Carry out ``plan`` (the caller holds the lock; ``run_id`` marks its intents), then
    sweep what finished deletes left behind when ``find_leftovers`` is given. Returns the
    result and notes for the reader. ``parallelism``: None is the engine's default."""
    from reconciler.apply.engine import DEFAULT_PARALLELISM, apply_plan

    before = backend.read().state
    result = apply_plan(plan, grid, resolver, backend, force_delete=force_delete,
                        git_sha=plan.git_sha, run_id=run_id,
                        parallelism=DEFAULT_PARALLELISM if parallelism is None else parallelism)
    if find_leftovers is None:
        return result, list(result.notes)
    return result, [*result.notes, *record_leftovers(backend, sweep_targets(before, plan, result),
                                                     find_leftovers)]


def import_cluster(name: str, ws: Workspace, grid: GridAPI, backend: StateBackend, *,
                   lock: LockInfo) -> InventoryEntry:
    """Adopt a live BYOC cluster into the inventory. Protected unless git says otherwise."""
    live = {c.name: c for c in grid.list_clusters()}
    cluster = live.get(name)
    if cluster is None:
        raise ConfigError(f"no live cluster named {name!r} in Grid",
                          hint="check the name with `gridops status`")
    if not cluster.is_byoc:
        raise ConfigError(f"{name} is a {cluster.cluster_type} cluster: only BYOC clusters "
                          "can be managed by gridops")
    doc = ws.desired.clusters.get(name)
    aws = cluster.spec.get("driver", {}).get("kubernetes", {}).get("aws", {})
    entry = InventoryEntry(
        name=name, ownership=Ownership.IMPORTED,
        deletion_protection=doc.deletion_protection if doc else True,
        region=str(aws.get("region", "")), role_arn=str(aws.get("roleArn", "")),
        applied_sha=ws.desired.git_sha)
    with backend.lock(lock):
        snap = backend.read()
        current = snap.state.inventory.get(name)
        if current is not None and not current.creating:
            raise ConfigError(f"{name} is already managed by gridops")
        inventory = {**snap.state.inventory, name: entry}
        backend.write(State(inventory=inventory, serial=snap.state.serial),
                      expected_version=snap.version)
    return entry


def exit_code_for_plan(plan: Plan) -> int:
    """2 whenever live differs from git (changes to make, blocked and FAILED clusters, a wait
    that will still leave a difference), 0 when every cluster is as written or on its way
    there; 1 is any error. ``plan --detailed-exitcode`` and ``drift`` share it."""
    return 2 if plan.has_drift else 0


#: Finds what a deleted cluster left in its AWS account, as inventory references.
LeftoverFinder = Callable[[InventoryEntry], tuple[str, ...]]


def sweep_targets(before: State, plan: Plan, result: ApplyResult) -> list[InventoryEntry]:
    """The owned clusters whose AWS account should be swept after this apply: those whose
    delete has finished, those remembered with leftovers, and those just deleted by force."""
    forced_ok = {r.name for r in result.results
                 if r.action is Action.DELETE and r.outcome is Outcome.OK}
    desired = _desired_names(plan)
    targets = []
    for change in plan.changes:
        entry = before.inventory.get(change.name)
        if entry is None or entry.creating or change.forget or change.name in desired:
            continue
        finished = planner.is_dropped_from_inventory(change)
        remembered = change.action is Action.NOOP and bool(entry.leftovers)
        if finished or remembered or change.name in forced_ok:
            targets.append(entry)
    return targets


def _desired_names(plan: Plan) -> set[str]:
    """The clusters the plan has a document for (their changes carry where it came from)."""
    return {c.name for c in plan.changes if c.spec is not None or c.source}


def record_leftovers(backend: StateBackend, targets: Sequence[InventoryEntry],
                     find: LeftoverFinder) -> list[str]:
    """Sweep each target and remember its leftovers in the inventory until it is clean.
    Returns notes for the reader; a sweep that cannot run is a note, never a failure."""
    from reconciler.apply.engine import update_inventory

    notes: list[str] = []
    for entry in targets:
        try:
            refs = find(entry)
        except GridopsError as e:
            notes.append(f"{entry.name}: AWS leftovers not checked: {e.message}")
            continue
        update_inventory(backend, _leftovers_edit(entry, refs))
        if refs:
            notes.append(f"{entry.name}: {len(refs)} AWS resource(s) left behind: see "
                         f"`gridops sweep {entry.name}`")
    return notes


def _leftovers_edit(entry: InventoryEntry, refs: tuple[str, ...]) -> Callable[
        [Inventory], Inventory]:
    def edit(inv: Inventory) -> Inventory:
        if refs:
            return {**inv, entry.name: replace(inv.get(entry.name, entry), leftovers=refs)}
        current = inv.get(entry.name)
        if current is not None and current.leftovers:  # clean now: forget it
            return {k: v for k, v in inv.items() if k != entry.name}
        return inv

    return edit


def checks_enabled(setting: str, grid_url: str) -> bool:
    """``awsChecks: auto`` is on against a real Grid and off against the emulator: a
    ``sim://`` URL, or a Grid on a loopback address (``gridops sim serve``). A URL the
    policy refuses is never taken for a real Grid: its ConfigError is raised here."""
    if setting == "auto":
        return check_grid_url(grid_url).kind == KIND_REMOTE
    return setting == "always"


def pinned_grid_url(root: Path, settings_file: str, *, url: str | None,
                    from_rev: str | None) -> str | None:
    """The Grid URL credentials belong to: ``url`` when given, else the ``gridUrl`` of the
    settings file at ``from_rev`` (the pull request's base); None when nothing is pinned.
    A base whose settings cannot be read pins nothing usable ("")."""
    if url:
        return url
    if not from_rev:
        return None
    data = gitsource.read_file_at(root, from_rev, settings_file)
    if data is None:
        return Settings().grid_url
    settings, _ = settings_loader.parse_settings(data, settings_file)
    return settings.grid_url if settings is not None else ""


def check_pinned(url: str, pinned: str | None, *, changes: bool = False) -> str | None:
    """None when ``url`` is the pinned Grid (or nothing is pinned); else what to say: for a
    command that ``changes`` Grid, that it refuses; for any other, that it runs without
    credentials."""
    if pinned is None or same_grid(url, pinned):
        return None
    then = "gridops refuses to send credentials or secrets there" if changes else \
        "gridops runs WITHOUT Grid credentials"
    if not pinned:
        return (f"the Grid URL {redact_url(url)} cannot be checked against the pinned one (the "
                f"base's settings do not parse): {then}")
    if changes:
        return (f"the Grid URL {redact_url(url)} is not the pinned Grid URL "
                f"{redact_url(pinned)}: the credentials go to the pinned Grid only, so {then}")
    return (f"the Grid URL {redact_url(url)} is not the pinned Grid URL {redact_url(pinned)}: "
            f"a change of gridUrl in a pull request cannot move the credentials, so {then} "
            "(set the repository variable GRID_URL, or merge the change first)")


def same_grid(a: str, b: str) -> bool:
    """Whether two Grid URLs name the same Grid (scheme and host case, a trailing slash and
    the default port do not matter); an invalid URL is the same as nothing."""
    try:
        return _normal(a) == _normal(b)
    except ConfigError:
        return False


def _normal(url: str) -> str:
    target = check_grid_url(url)
    if target.kind == KIND_SIM:
        return target.url
    parts = urlsplit(target.url)
    port = parts.port if parts.port not in (None, _DEFAULT_PORTS[parts.scheme]) else None
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    netloc = f"{host}:{port}" if port else str(host)
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


_DEFAULT_PORTS = {"https": 443, "http": 80}


def remember_leftovers(backend: StateBackend, name: str, refs: tuple[str, ...]) -> None:
    """After a sweep: an owned cluster keeps its leftovers listed until none remain."""
    from reconciler.apply.engine import update_inventory

    entry = backend.read().state.inventory.get(name)
    if entry is not None:
        update_inventory(backend, _leftovers_edit(entry, refs))
