"""`make chaos`: gridops against a Grid that misbehaves on purpose, and kill -9 during apply.

Not a test (it asserts nothing and takes minutes): it prints, for each phase, the runs needed
to converge, duplicate creates, unintended deletes, orphans (clusters in git that are live but
not owned at the end) and corrupt states (a state gridops could not read).

- Faults: the emulator answers 30% of API requests with a 5xx, a 429 with Retry-After, a reset
  or a cut-off body, half of those on changes after the change was made (seeded).
- Phase 1: 50 new clusters. Phase 2: 10 of them edited, 5 removed from git.
- 10 kill -9 trials: 5 clusters added and 2 removed, an apply killed at a random instant,
  then applies (faults still on) until converged.

    python tests/chaos.py [--seed 7] [--clusters 50] [--trials 10]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import git
import structlog

from reconciler.errors import StateError
from reconciler.live.client import GridClient
from reconciler.live.credentials import Credentials
from reconciler.sim.faults import FaultPolicy, LoggedRequest
from reconciler.sim.server import SimServer
from reconciler.state import LocalStateBackend

GRIDOPS = Path(sys.executable).with_name("gridops")
USER, KEY = "chaos-user", "chaos-key-5e6f7a8b"
MAX_RUNS = 10
SETTINGS = """\
apiVersion: gridops/v1
kind: Settings
clustersDir: clusters
state: {backend: local, path: .gridops/state.json}
maxDeletes: 10
"""
CLUSTER = """\
apiVersion: gridops/v1
kind: GridCluster
metadata:
  name: %(name)s
spec:
  region: us-east-1
  roleArn: arn:aws:iam::123456789012:role/grid-byoc
  externalId: {fromEnv: CHAOS_EXTERNAL_ID}
  performanceProfile: %(profile)s
  instanceTypes: [t3.large]
"""


@dataclass
class Tally:
    """What one phase came to."""

    runs: int = 0
    converged: bool = False
    corrupt: int = 0
    notes: list[str] = field(default_factory=list)


class Chaos:
    def __init__(self, folder: Path, seed: int) -> None:
        self.root = folder / "repo"
        self.root.mkdir()
        self.repo = git.Repo.init(self.root, initial_branch="main")
        (self.root / ".gitignore").write_text(".gridops/\n")
        (self.root / "gridops.yaml").write_text(SETTINGS)
        self.policy = FaultPolicy(rate=0.3, seed=seed, kinds=("5xx", "429", "reset",
                                                              "malformed"),
                                  after_commit=0.5, retry_after=0.05)
        self.sim = SimServer(folder / "sim.db", user_id=USER, api_key=KEY, create_seconds=0.5,
                             delete_seconds=0.3, fault_policy=self.policy).start()
        self.grid = GridClient(self.sim.url, Credentials(USER, KEY), backoff=0.05)
        self.backend = LocalStateBackend(self.root / ".gridops" / "state.json")
        self.desired: dict[str, str] = {}
        self.deleted: set[str] = set()  # removed from git at some point: deletes expected

    def set_clusters(self, names: dict[str, str], message: str) -> None:
        for old in set(self.desired) - set(names):
            (self.root / "clusters" / f"{old}.yaml").unlink()
            self.deleted.add(old)
        (self.root / "clusters").mkdir(exist_ok=True)
        for name, profile in names.items():
            (self.root / "clusters" / f"{name}.yaml").write_text(
                CLUSTER % {"name": name, "profile": profile})
        self.desired = dict(names)
        self.repo.git.add(A=True)
        self.repo.index.commit(message)

    def gridops(self, *args: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "GRID_URL": self.sim.url, "GRID_USER_ID": USER,
               "GRID_API_KEY": KEY, "CHAOS_EXTERNAL_ID": "chaos-external-id"}
        return subprocess.Popen([str(GRIDOPS), "--repo", str(self.root), *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def apply_in_background(self) -> subprocess.Popen[bytes]:
        return self.gridops("apply", "--auto-approve", "--parallelism", "10")

    def apply(self) -> int:
        return self.apply_in_background().wait()

    def converge(self, tally: Tally) -> Tally:
        """Apply (under faults) until git and Grid agree, at most MAX_RUNS times."""
        while tally.runs < MAX_RUNS:
            tally.runs += 1
            code = self.apply()
            try:
                self.backend.read()
            except StateError as e:
                tally.corrupt += 1
                tally.notes.append(e.message)
            if code == 0 and self.in_sync():
                tally.converged = True
                break
            time.sleep(0.6)  # let creates and deletes under way finish
        return tally

    def in_sync(self) -> bool:
        with self.quiet():
            live = {c.name: c for c in self.grid.list_clusters() if c.is_byoc}
        inventory = self.backend.read().state.inventory
        owned = {n for n, e in inventory.items() if e.intent is None}
        return all(n in live and n in owned for n in self.desired) and \
            not (set(live) - set(self.desired)) and not (set(inventory) - set(self.desired))

    def orphans(self) -> list[str]:
        with self.quiet():
            live = {c.name for c in self.grid.list_clusters() if c.is_byoc}
        inventory = self.backend.read().state.inventory
        return sorted(n for n in live & set(self.desired)
                      if n not in inventory or inventory[n].creating)

    def quiet(self) -> _Paused:
        return _Paused(self.sim, self.policy)

    def requests(self) -> list[LoggedRequest]:
        return self.sim.requests()


class _Paused:
    """Faults off while the script itself looks at Grid."""

    def __init__(self, sim: SimServer, policy: FaultPolicy) -> None:
        self.sim, self.policy = sim, policy

    def __enter__(self) -> None:
        self.sim.set_fault_policy(FaultPolicy())

    def __exit__(self, *exc: object) -> None:
        self.sim.set_fault_policy(self.policy)


def duplicate_creates(log: list[LoggedRequest]) -> int:
    """Creates Grid made of a name that already existed (not deleted in between)."""
    alive: set[str] = set()
    duplicates = 0
    for item in log:
        done = 200 <= item.handled < 300
        if item.method == "POST" and done and item.name:
            duplicates += item.name in alive
            alive.add(item.name)
        elif item.method == "DELETE" and done:
            alive.discard(item.path.rsplit("/", 1)[-1])
    return duplicates


def unintended_deletes(log: list[LoggedRequest], expected: set[str]) -> int:
    return sum(1 for item in log if item.method == "DELETE" and 200 <= item.handled < 300
               and item.path.rsplit("/", 1)[-1] not in expected)


def report(title: str, chaos: Chaos, tally: Tally) -> None:
    log = chaos.requests()
    print(f"{title:<28} runs to converge: {tally.runs if tally.converged else f'>{MAX_RUNS}'}"
          f"  duplicate creates: {duplicate_creates(log)}"
          f"  unintended deletes: {unintended_deletes(log, chaos.deleted)}"
          f"  orphans: {len(chaos.orphans())}  corrupt states: {tally.corrupt}", flush=True)
    for note in tally.notes:
        print(f"    {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rng = random.Random(args.seed)
    print(f"chaos: {args.clusters} clusters, 30% faults (half of those on changes after "
          f"commit), seed {args.seed}; {args.trials} kill -9 trials")
    with tempfile.TemporaryDirectory(prefix="gridops-chaos-") as folder:
        chaos = Chaos(Path(folder), args.seed)
        try:
            names = {f"chaos-{i:03d}": "default" for i in range(args.clusters)}
            chaos.set_clusters(names, "create")
            report("phase 1: create", chaos, chaos.converge(Tally()))
            edited = {n: ("cost-saving" if i < 10 else p)
                      for i, (n, p) in enumerate(names.items()) if i < len(names) - 5}
            chaos.set_clusters(edited, "edit 10, remove 5")
            report("phase 2: edit and remove", chaos, chaos.converge(Tally()))
            for trial in range(args.trials):
                current = dict(chaos.desired)
                for name in rng.sample(sorted(current), min(2, len(current))):
                    del current[name]
                current.update({f"kill-{trial:02d}-{i}": "default" for i in range(5)})
                chaos.set_clusters(current, f"trial {trial}")
                process = chaos.apply_in_background()
                time.sleep(rng.uniform(0.3, 2.5))
                process.send_signal(signal.SIGKILL)
                process.wait()
                report(f"kill -9 trial {trial + 1}", chaos, chaos.converge(Tally()))
        finally:
            chaos.grid.close()
            chaos.sim.stop()

if __name__ == "__main__":
    main()
