"""`make bench`, the apply part: `gridops apply` of N new clusters through the CLI against the
emulator (creates RUNNING at once), timed end to end, with the time of a plan of the same
repository beside it, and the peak RSS of each run. Prints figures; asserts nothing about time.

The emulator runs in this script's process, as Grid runs elsewhere, so the figures are
gridops' own; one more line runs it inside gridops (a sim:// URL), where the two share one
interpreter lock.

The concurrency floor at latency L is L x (1 + N / parallelism): one list call, then N creates
parallelism at a time.

    python tests/bench_apply.py            # 1,000 at zero latency; 200 and 1,000 at 50 ms
    python tests/bench_apply.py 300 0.02   # N and latency of one more case
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import git
import structlog
from bench import byte_compile, run_command

from reconciler.sim.server import SimServer

GRIDOPS = Path(sys.executable).with_name("gridops")
SETTINGS = """\
apiVersion: gridops/v1
kind: Settings
clustersDir: clusters
state: {backend: local, path: .gridops/state.json}
"""
CLUSTER = """\
apiVersion: gridops/v1
kind: GridCluster
metadata:
  name: %(name)s
spec:
  region: us-east-1
  roleArn: arn:aws:iam::123456789012:role/grid-byoc
  externalId: {fromEnv: BENCH_EXTERNAL_ID}
  instanceTypes: [t3.large]
"""


def make_repo(root: Path, count: int) -> None:
    (root / "clusters").mkdir(parents=True)
    (root / ".gitignore").write_text(".gridops/\n")
    (root / "gridops.yaml").write_text(SETTINGS)
    for i in range(count):
        name = f"bench-{i:05d}"
        (root / "clusters" / f"{name}.yaml").write_text(CLUSTER % {"name": name})
    repo = git.Repo.init(root, initial_branch="main")
    repo.git.add(A=True)
    repo.index.commit("bench clusters")


USER, KEY = "bench-user", "bench-key-0a1b2c3d"


def timed(args: list[str], root: Path, url: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one gridops run that must succeed, started as ``make
    bench``'s other figures are (``bench._run``: its peak RSS is its own, not this process's
    with the emulator)."""
    env = {**os.environ, "GRID_URL": url, "BENCH_EXTERNAL_ID": "bench-external-id",
           "GRID_USER_ID": USER, "GRID_API_KEY": KEY}
    figure = run_command([str(GRIDOPS), "--repo", str(root), *args], env)
    return figure.seconds, figure.rss_mb


def bench(count: int, latency: float, parallelism: int, *, in_process: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="gridops-bench-apply-") as folder:
        root = Path(folder) / "repo"
        make_repo(root, count)
        if in_process:
            url = f"sim://{folder}/sim.db?createSeconds=0&latency={latency:g}"
            plan_s, _ = timed(["plan"], root, url)
            apply_s, apply_rss = timed(["apply", "--auto-approve", "--parallelism",
                                        str(parallelism)], root, url)
        else:
            with SimServer(Path(folder) / "sim.db", user_id=USER, api_key=KEY,
                           create_seconds=0, latency_seconds=latency) as server:
                plan_s, _ = timed(["plan"], root, server.url)
                apply_s, apply_rss = timed(["apply", "--auto-approve", "--parallelism",
                                            str(parallelism)], root, server.url)
    floor = latency * (1 + count / parallelism)
    line = (f"apply {count:>5} creates  latency {latency * 1000:>4.0f} ms  parallelism "
            f"{parallelism:>3}: {apply_s:6.2f} s (plan alone {plan_s:5.2f} s)  peak RSS "
            f"{apply_rss:5.0f} MB")
    if latency:
        line += f"  floor {floor:5.2f} s  ratio {apply_s / floor:4.1f}x"
    if in_process:
        line += "  (emulator inside gridops)"
    print(line, flush=True)


def main(argv: list[str]) -> None:
    byte_compile()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print("apply (gridops apply through the CLI, end to end; the emulator in this process)")
    if len(argv) >= 2:
        bench(int(argv[0]), float(argv[1]), int(argv[2]) if len(argv) > 2 else 10)
        return
    bench(1000, 0.0, 10)
    bench(200, 0.05, 10)
    bench(1000, 0.05, 10)  # the fixed start-up and plan weigh less as N grows
    bench(200, 0.05, 1)
    bench(1000, 0.0, 10, in_process=True)


if __name__ == "__main__":
    main(sys.argv[1:])
