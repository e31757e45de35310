"""`make bench`: how long `gridops validate` and `gridops plan` take, and how much memory they
use, on 1,000 and 10,000 clusters against as many live ones in the emulator (first none
drifted, then a tenth), and how long `gridops --version` and `--help` take against bare Python.
Prints figures; it asserts nothing about time.

Every figure is a fresh `gridops` process (the median wall time of a few runs, and its peak
RSS), as a person or CI would run it. The floor is what gridops cannot beat: read and parse the
same YAML files with libyaml's CSafeLoader and JSON-decode the one list answer a plan reads.

    python tests/bench.py [N ...]      # default: 1000 10000
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import structlog
import yaml

from reconciler import run
from reconciler.live import wire
from reconciler.live.credentials import Credentials
from reconciler.model import InventoryEntry, State
from reconciler.sim.server import SimServer
from reconciler.sources import settings_loader
from reconciler.state.local import LocalStateBackend

SIZES = (1000, 10000)
TEAMS = 10
DRIFTED_EVERY = 10
USER, KEY = "bench-user", "bench-key-0a1b2c3d"
SECRET = "bench-external-id-5f2c"
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
GRIDOPS = str(Path(sys.executable).with_name("gridops"))


@dataclass(frozen=True)
class Figure:
    """One measured command: median wall seconds and the largest peak RSS of its runs."""

    seconds: float
    rss_mb: float


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _make_repo(root: Path, count: int) -> None:
    root.mkdir()
    (root / "gridops.yaml").write_text(SETTINGS)
    (root / ".gitignore").write_text(".gridops/\n")
    for i in range(count):
        team = f"team-{i % TEAMS:02d}"
        folder = root / "clusters" / team
        if not folder.exists():
            folder.mkdir(parents=True)
            (folder / "_defaults.yaml").write_text(DEFAULTS)
        (folder / f"c{i:05d}.yaml").write_text(CLUSTER % {"name": f"c{i:05d}", "team": team})
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=bench", "-c", "user.email=bench@example.com",
         "commit", "-q", "-m", f"{count} clusters")


def _wire_specs(root: Path) -> dict[str, dict[str, Any]]:
    settings = settings_loader.load_settings(root)
    clusters, findings = run.collect_findings(root, settings)
    if findings:
        raise SystemExit(f"the bench documents are not valid: {findings[:3]}")
    return {name: wire.put_secrets(wire.to_wire_spec(cluster),
                                   {p: SECRET for p in wire.secret_paths(cluster)})
            for name, cluster in sorted(clusters.items())}


def _seed(server: SimServer, root: Path, specs: dict[str, dict[str, Any]]) -> None:
    server.seed_clusters(specs, running=True)
    backend = LocalStateBackend(root / ".gridops" / "state.json")
    inventory = {n: InventoryEntry(name=n) for n in specs}
    backend.write(State(inventory=inventory), expected_version=backend.read().version)


def _drift(server: SimServer, specs: dict[str, dict[str, Any]]) -> int:
    drifted = {name: {**spec, "performanceProfile": "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"}
               for i, (name, spec) in enumerate(specs.items()) if i % DRIFTED_EVERY == 0}
    server.seed_clusters(drifted, running=True)
    return len(drifted)


def _list_answer(url: str) -> bytes:
    auth = Credentials(USER, KEY)
    response = httpx.get(f"{url}/v1/core/clusters", auth=(auth.user_id, auth.api_key),
                         timeout=120)
    response.raise_for_status()
    return response.content


def _floor(root: Path, answer: bytes) -> float:
    """Read and parse every cluster file with CSafeLoader, and decode the list answer."""
    start = time.perf_counter()
    for path in sorted((root / "clusters").rglob("*.yaml")):
        list(yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))  # noqa: S506 - safe
    json.loads(answer)
    return time.perf_counter() - start


def _run(argv: Sequence[str], env: dict[str, str], ok: Sequence[int] = (0,)) -> Figure:
    """One process: wall time and peak RSS (from wait4, so only this child is counted)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {process.returncode}:\n{errors.decode()}")
    return Figure(elapsed, usage.ru_maxrss / 1024)


def _measure(runs: int, once: Callable[[], Figure]) -> Figure:
    figures = [once() for _ in range(runs)]
    return Figure(statistics.median(f.seconds for f in figures), max(f.rss_mb for f in figures))


def _row(label: str, figure: Figure, floor: float | None = None, grid: float = 0.0) -> str:
    """``grid``: seconds of the wall time spent waiting for the Grid answer, not counted in
    the ratio (the floor decodes that answer; producing it is Grid's work)."""
    ratio = f"{(figure.seconds - grid) / floor:6.1f}x" if floor else " " * 7
    return f"  {label:<34}{figure.seconds * 1000:8.0f} ms {ratio} {figure.rss_mb:7.0f} MB"


def bench_size(count: int, tmp: Path, env: dict[str, str]) -> list[str]:
    root = tmp / f"repo-{count}"
    _make_repo(root, count)
    specs = _wire_specs(root)
    runs = 3 if count <= 1000 else 2
    lines = [f"{count} clusters ({count} live in the emulator):"]
    with SimServer(tmp / f"sim-{count}.db", user_id=USER, api_key=KEY, create_seconds=0,
                   delete_seconds=0) as server:
        _seed(server, root, specs)
        env = {**env, "GRID_URL": server.url}
        cli = [GRIDOPS, "--repo", str(root)]
        answer = _list_answer(server.url)
        floor = min(_floor(root, answer) for _ in range(3))
        serve = statistics.median(_timed(lambda: _list_answer(server.url)) for _ in range(3))
        lines.append(f"  {'floor (parse YAML + decode list)':<34}{floor * 1000:8.0f} ms")
        lines.append(f"  {'(the emulator answers the list in':<34}{serve * 1000:8.0f} ms: "
                     "Grid's time, in plan's wall, not in its ratio)")
        validate = _measure(runs, lambda: _run([*cli, "validate"], env))
        lines.append(_row("gridops validate", validate, floor))
        plan = _measure(runs, lambda: _run([*cli, "plan", "--detailed-exitcode"], env))
        lines.append(_row("gridops plan (no changes)", plan, floor, serve))
        drifted = _drift(server, specs)
        plan = _measure(runs, lambda: _run([*cli, "plan", "--detailed-exitcode"], env, (2,)))
        lines.append(_row(f"gridops plan ({drifted} drifted)", plan, floor, serve))
    return lines


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_startup(env: dict[str, str]) -> list[str]:
    bare = _measure(9, lambda: _run([sys.executable, "-c", "pass"], env))
    lines = ["start-up:", _row("python -c pass", bare)]
    for args in (("--version",), ("--help",)):
        figure = _measure(9, lambda args=args: _run([GRIDOPS, *args], env))
        lines.append(_row(f"gridops {' '.join(args)}", figure, bare.seconds))
    return lines


def _machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d', time.gmtime())}")


def main(argv: Sequence[str]) -> None:
    sizes = [int(a) for a in argv] or list(SIZES)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    env = {**os.environ, "BENCH_EXTERNAL_ID": SECRET, "GRID_USER_ID": USER,
           "GRID_API_KEY": KEY, "NO_COLOR": "1"}
    print(f"machine: {_machine()}")
    print(f"  {'':<34}{'wall':>11} {'ratio':>7} {'peak RSS':>10}")
    for line in bench_startup(env):
        print(line, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            for line in bench_size(count, Path(tmp), env):
                print(line, flush=True)
    print("ratio: against the floor for validate and plan, against bare Python for start-up")


if __name__ == "__main__":
    main(sys.argv[1:])
