"""A real GitOps repository in a temporary folder, driven through the CLI against the emulator
over loopback HTTP."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.live.client import GridClient
from reconciler.sim.server import SimServer

SECRET_A = "ext-id-team-a-5d1f0c2e9b"
SECRET_B = "ext-id-team-b-77aa41f3c0"

SETTINGS = """\
apiVersion: gridops/v1
kind: Settings
gridUrl: sim://unused.db
clustersDir: clusters
state: {backend: local, path: .gridops/state.json}
prune: true
maxDeletes: %(max_deletes)d
"""


def cluster_doc(name: str, *, region: str = "us-east-1", instance_types: Sequence[Any] = (
        "t3.large",), protection: bool = False, profile: str = "default",
        env_var: str = "GRID_EXTERNAL_ID_A", extra: str = "") -> str:
    types = json.dumps(list(instance_types))
    return textwrap.dedent(f"""\
        apiVersion: gridops/v1
        kind: GridCluster
        metadata:
          name: {name}
        spec:
          region: {region}
          roleArn: arn:aws:iam::123456789012:role/grid-byoc
          externalId: {{fromEnv: {env_var}}}
          performanceProfile: {profile}
          instanceTypes: {types}
          deletionProtection: {"true" if protection else "false"}
        """) + extra


@dataclass
class GitOpsRepo:
    """A temporary GitOps repository and a runner for ``gridops`` inside it."""

    root: Path
    repo: git.Repo
    sim: SimServer
    grid: GridClient

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def commit(self, message: str = "change clusters") -> str:
        self.repo.git.add(A=True)
        self.repo.index.commit(message)
        return self.repo.head.commit.hexsha

    def gridops(self, *args: str, input: str | None = None,
                env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(main, ["--repo", str(self.root), *args], input=input, env=env,
                             catch_exceptions=False)

    def state(self) -> dict[str, Any]:
        path = self.root / ".gridops" / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def inventory(self) -> dict[str, dict[str, Any]]:
        return {e["name"]: e for e in self.state().get("inventory", [])}

    def live(self) -> dict[str, Any]:
        return {c.name: c for c in self.grid.list_clusters()}

    def wait_running(self, *names: str, seconds: float = 10) -> None:
        """Return once every cluster in ``names`` is RUNNING in the emulator; fail after
        ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            live = self.live()
            if all(n in live and live[n].phase == "CLUSTER_STATE_RUNNING" for n in names):
                return
            time.sleep(0.05)
        raise AssertionError(f"{names} not RUNNING")


@pytest.fixture
def gitops(tmp_path: Path, sim_env: SimServer, grid_client: GridClient,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[GitOpsRepo]:
    monkeypatch.setenv("GRID_EXTERNAL_ID_A", SECRET_A)
    monkeypatch.setenv("GRID_EXTERNAL_ID_B", SECRET_B)
    root = tmp_path / "repo"
    root.mkdir()
    repo = git.Repo.init(root, initial_branch="main")
    g = GitOpsRepo(root=root, repo=repo, sim=sim_env, grid=grid_client)
    g.write(".gitignore", ".gridops/\n")
    g.write("gridops.yaml", SETTINGS % {"max_deletes": 1})
    g.write("clusters/team-a/alpha.yaml", cluster_doc("alpha"))
    g.write("clusters/team-b/beta.yaml", cluster_doc(
        "beta", region="us-west-2", env_var="GRID_EXTERNAL_ID_B", protection=True,
        instance_types=["m5.xlarge", {"name": "g4dn.xlarge", "overprovisionedOnDemand": 1}]))
    g.commit("initial clusters")
    yield g
    repo.close()  # its git cat-file processes and their pipes end with the test
