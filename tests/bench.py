"""`make bench`: how long validate and plan take on 1,000 clusters, against 1,000 live ones in
the emulator (a tenth drifted), and how many HTTP requests a plan makes. Prints figures; it
asserts nothing about time.

The floor is the time to only read and parse the same YAML files: gridops cannot be faster
than that.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git
import yaml

from reconciler import run
from reconciler.live import wire
from reconciler.live.client import GridClient
from reconciler.live.credentials import Credentials
from reconciler.logs import configure_logging
from reconciler.model import InventoryEntry, State
from reconciler.sim.server import SimServer
from reconciler.sources import settings_loader
from reconciler.sources.secrets import Masker, Resolver, env_provider
from reconciler.state.local import LocalStateBackend

CLUSTERS = 1000
TEAMS = 10
DRIFTED_EVERY = 10
USER, KEY = "bench-user", "bench-key-0a1b2c3d"
SETTINGS = """\
apiVersion: gridops/v1
kind: Settings
gridUrl: sim://unused.db
clustersDir: clusters
state: {backend: local, path: .gridops/state.json}
maxDeletes: 1
"""
DEFAULTS = """\
apiVersion: gridops/v1
kind: GridClusterDefaults
spec:
  region: us-east-1
  roleArn: arn:aws:iam::123456789012:role/grid-byoc
  externalId: {fromEnv: BENCH_EXTERNAL_ID}
  performanceProfile: default
  aws: {kubernetesVersion: "1.29"}
"""
CLUSTER = """\
apiVersion: gridops/v1
kind: GridCluster
metadata:
  name: %(name)s
  labels: {team: %(team)s}
spec:
  instanceTypes:
    - t3.large
    - {name: g4dn.xlarge, overprovisionedOnDemand: 1, rootVolumeGiB: 200}
"""


def _make_repo(root: Path) -> None:
    repo = git.Repo.init(root, initial_branch="main")
    (root / "gridops.yaml").write_text(SETTINGS)
    (root / ".gitignore").write_text(".gridops/\n")
    for i in range(CLUSTERS):
        team = f"team-{i % TEAMS:02d}"
        folder = root / "clusters" / team
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_defaults.yaml").write_text(DEFAULTS)
        (folder / f"c{i:04d}.yaml").write_text(CLUSTER % {"name": f"c{i:04d}", "team": team})
    repo.git.add(A=True)
    repo.index.commit("1,000 clusters")


def _seed(server: SimServer, root: Path, secret: str) -> None:
    settings = settings_loader.load_settings(root)
    clusters, findings = run.collect_findings(root, settings)
    assert not findings, findings[:3]
    specs: dict[str, dict[str, Any]] = {}
    for i, (name, cluster) in enumerate(sorted(clusters.items())):
        spec = wire.put_secrets(wire.to_wire_spec(cluster),
                                {p: secret for p in wire.secret_paths(cluster)})
        if i % DRIFTED_EVERY == 0:
            spec["performanceProfile"] = "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
        specs[name] = spec
    server.seed_clusters(specs, running=True)
    inventory = {n: InventoryEntry(name=n) for n in clusters}
    backend = LocalStateBackend(root / ".gridops" / "state.json")
    backend.write(State(inventory=inventory), expected_version=backend.read().version)


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _floor(root: Path) -> None:
    load = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted((root / "clusters").rglob("*.yaml")):
        list(yaml.load_all(path.read_bytes(), Loader=load))  # noqa: S506 - a safe loader


def _cli(root: Path, env: dict[str, str], *args: str) -> float:
    gridops = Path(sys.executable).with_name("gridops")
    start = time.perf_counter()
    done = subprocess.run([str(gridops), "--repo", str(root), *args], env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise SystemExit(f"gridops {' '.join(args)} failed:\n{done.stderr}")
    return elapsed


def main() -> None:
    configure_logging(fmt="console", verbose=0, masker=Masker(env={}))
    secret = "bench-external-id-5f2c"
    os.environ["BENCH_EXTERNAL_ID"] = secret
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        _make_repo(root)
        with SimServer(Path(tmp) / "sim.db", user_id=USER, api_key=KEY, create_seconds=0,
                       delete_seconds=0) as server:
            _seed(server, root, secret)
            settings = settings_loader.load_settings(root)
            floor = _best(lambda: _floor(root))
            validate = _best(lambda: run.collect_findings(root, settings))
            client = GridClient(server.url, Credentials(USER, KEY))
            resolver = Resolver({"fromEnv": env_provider()})
            backend = LocalStateBackend(root / ".gridops" / "state.json")
            ws = run.load_workspace(root, "gridops.yaml")
            before = client.request_count
            plan, _ = run.make_live_plan(ws, client, backend, resolver)
            requests = client.request_count - before
            plan_time = _best(lambda: run.make_live_plan(ws, client, backend, resolver))
            env = {**os.environ, "GRID_URL": server.url, "GRID_USER_ID": USER,
                   "GRID_API_KEY": KEY}
            cli_validate = statistics.median(_cli(root, env, "validate") for _ in range(3))
            cli_plan = statistics.median(
                _cli(root, env, "plan", "--detailed-exitcode") for _ in range(3))
    changed = sum(1 for c in plan.changes if c.action.value == "update")
    print(f"clusters: {CLUSTERS} desired, {CLUSTERS} live, {changed} drifted")
    print(f"floor (read + parse the YAML only):   {floor * 1000:8.0f} ms")
    print(f"validate (in-process):                {validate * 1000:8.0f} ms")
    print(f"plan (in-process, load excluded):     {plan_time * 1000:8.0f} ms")
    print(f"gridops validate (CLI, wall):         {cli_validate * 1000:8.0f} ms")
    print(f"gridops plan (CLI, wall):             {cli_plan * 1000:8.0f} ms")
    print(f"HTTP requests for one plan:           {requests:8d}")


if __name__ == "__main__":
    main()
