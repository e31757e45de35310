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

import compileall
import functools
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

import reconciler
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
    """One measured command: median wall and CPU seconds and the largest peak RSS of its runs.
    The ratios use CPU time (user + system): on a shared machine wall time mostly measures the
    neighbours, and the emulator's work, in this process, is not in a command's CPU time."""

    seconds: float
    rss_mb: float
    cpu: float = 0.0


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


def _floor(root: Path, answer: bytes) -> Figure:
    """Read and parse every cluster file with CSafeLoader, and decode the list answer."""
    start, cpu = time.perf_counter(), time.process_time()
    for path in sorted((root / "clusters").rglob("*.yaml")):
        list(yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))  # noqa: S506 - safe
    json.loads(answer)
    return Figure(time.perf_counter() - start, 0.0, time.process_time() - cpu)


#: Runs one command and prints its wall seconds, peak RSS (KiB) and exit code. Linux counts
#: the spawning process's memory in a child's peak RSS (at exec), so the command is started
#: from this small interpreter rather than from the bench with its emulator.
_LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
      usage.ru_utime + usage.ru_stime)
"""


def run_command(argv: Sequence[str], env: dict[str, str], ok: Sequence[int] = (0,)) -> Figure:
    """One process: its wall time and peak RSS."""
    done = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *argv], env=env,
                          capture_output=True, text=True)
    seconds, rss_kib, code, cpu = done.stdout.split()
    if int(code) not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{done.stderr}")
    return Figure(float(seconds), int(rss_kib) / 1024, float(cpu))


def _measure(runs: int, once: Callable[[], Figure]) -> Figure:
    figures = [once() for _ in range(runs)]
    return Figure(statistics.median(f.seconds for f in figures), max(f.rss_mb for f in figures),
                  statistics.median(f.cpu for f in figures))


def _row(label: str, figure: Figure, floor: float | None = None) -> str:
    ratio = f"{figure.cpu / floor:6.1f}x" if floor else " " * 7
    return (f"  {label:<30}{figure.seconds * 1000:8.0f} ms {figure.cpu * 1000:8.0f} ms "
            f"{ratio} {figure.rss_mb:7.0f} MB")


def bench_size(count: int, tmp: Path, env: dict[str, str]) -> list[str]:
    root = tmp / f"repo-{count}"
    _make_repo(root, count)
    specs = _wire_specs(root)
    runs = 3
    lines = [f"{count} clusters ({count} live in the emulator):"]
    with SimServer(tmp / f"sim-{count}.db", user_id=USER, api_key=KEY, create_seconds=0,
                   delete_seconds=0) as server:
        _seed(server, root, specs)
        env = {**env, "GRID_URL": server.url}
        cli = [GRIDOPS, "--repo", str(root)]
        answer = _list_answer(server.url)
        floors = [_floor(root, answer) for _ in range(3)]
        floor = min(f.cpu for f in floors)
        serve = statistics.median(_timed(lambda: _list_answer(server.url)) for _ in range(3))
        lines.append(f"  {'floor (parse YAML, decode list)':<30}"
                     f"{min(f.seconds for f in floors) * 1000:8.0f} ms {floor * 1000:8.0f} ms")
        lines.append(f"  (the emulator takes {serve * 1000:.0f} ms to answer the list: in "
                     "plan's wall time, not in its CPU time)")
        validate = _measure(runs, lambda: run_command([*cli, "validate"], env))
        lines.append(_row("gridops validate", validate, floor))
        plan = _measure(runs, lambda: run_command([*cli, "plan", "--detailed-exitcode"], env))
        lines.append(_row("gridops plan (no changes)", plan, floor))
        drifted = _drift(server, specs)
        plan = _measure(runs, lambda: run_command([*cli, "plan", "--detailed-exitcode"], env, (2,)))
        lines.append(_row(f"gridops plan ({drifted} drifted)", plan, floor))
    return lines


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_startup(env: dict[str, str]) -> list[str]:
    bare = _measure(9, lambda: run_command([sys.executable, "-c", "pass"], env))
    lines = ["start-up:", _row("python -c pass", bare)]
    for option in ("--version", "--help"):
        figure = _measure(9, functools.partial(run_command, [GRIDOPS, option], env))
        lines.append(_row(f"gridops {option}", figure, bare.cpu))
    return lines


def byte_compile() -> None:
    """Compile gridops' modules to bytecode first, as `pip install` does for an installed
    package. An editable install leaves that to the first run, and PYTHONDONTWRITEBYTECODE
    stops even that: every run would then time compiling gridops rather than running it."""
    compileall.compile_dir(Path(reconciler.__file__).parent, quiet=1)


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
    byte_compile()
    print(f"machine: {_machine()}")
    print(f"  {'':<30}{'wall':>11} {'CPU':>11} {'ratio':>7} {'peak RSS':>10}")
    for line in bench_startup(env):
        print(line, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            for line in bench_size(count, Path(tmp), env):
                print(line, flush=True)
    print("ratio: CPU time against the floor's (validate, plan) or bare Python's (start-up)")


if __name__ == "__main__":
    main(sys.argv[1:])
