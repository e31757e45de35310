"""Fixtures for the Grid emulator over real loopback HTTP (a pytest plugin, see conftest.py).

- ``sim_server``: a started ``SimServer`` on a fresh SQLite file, creates RUNNING after
  0.3 s and deletes DELETED after 0.2 s, credentials ``SIM_USER_ID``/``SIM_API_KEY``.
- ``grid_client``: a ``GridClient`` for it (short backoff, so retries cost little).
- ``sim_env``: ``GRID_URL``, ``GRID_USER_ID`` and ``GRID_API_KEY`` set for ``sim_server``,
  for tests that drive the CLI against it.
- ``sim_server_fixture(name, ...)``: another fixture with other delays, e.g.
  ``slow_sim = sim_server_fixture("slow_sim", create_seconds=2.0)`` in a test module.
- ``byoc_spec(...)``: a valid wire ClusterSpec to create clusters with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reconciler.live.client import GridClient
from reconciler.live.credentials import Credentials
from reconciler.model import PROFILE_DEFAULT
from reconciler.sim.server import SimServer

SIM_USER_ID = "sim-tester"
SIM_API_KEY = "sim-test-key-7f3a9c"
FAST_CREATE_SECONDS = 0.3
FAST_DELETE_SECONDS = 0.2


@contextmanager
def running_sim(db_path: Path, *, create_seconds: float = FAST_CREATE_SECONDS,
                delete_seconds: float = FAST_DELETE_SECONDS, **options: Any) -> Iterator[SimServer]:
    """A started emulator on ``db_path`` with the test credentials, stopped afterwards."""
    server = SimServer(db_path, user_id=SIM_USER_ID, api_key=SIM_API_KEY,
                       create_seconds=create_seconds, delete_seconds=delete_seconds, **options)
    with server:
        yield server


def make_client(server: SimServer, **options: Any) -> GridClient:
    """A GridClient for ``server`` with the test credentials and a short backoff."""
    options = {"backoff": 0.01, "timeout": 5.0, **options}
    return GridClient(server.url, Credentials(SIM_USER_ID, SIM_API_KEY), **options)


def sim_server_fixture(name: str, *, create_seconds: float = FAST_CREATE_SECONDS,
                       delete_seconds: float = FAST_DELETE_SECONDS, latency_seconds: float = 0.0,
                       seed_global: bool = True) -> Callable[..., Iterator[SimServer]]:
    """A fixture called ``name`` giving an emulator with these delays (assign it to ``name``
    at module level so pytest finds it)."""

    @pytest.fixture(name=name)
    def _sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
        db = tmp_path_factory.mktemp("sim") / "sim.db"
        with running_sim(db, create_seconds=create_seconds, delete_seconds=delete_seconds,
                         latency_seconds=latency_seconds, seed_global=seed_global) as server:
            yield server

    return _sim


sim_server = sim_server_fixture("sim_server")


@pytest.fixture
def grid_client(sim_server: SimServer) -> Iterator[GridClient]:
    with make_client(sim_server) as client:
        yield client


@pytest.fixture
def sim_env(sim_server: SimServer, monkeypatch: pytest.MonkeyPatch) -> SimServer:
    monkeypatch.setenv("GRID_URL", sim_server.url)
    monkeypatch.setenv("GRID_USER_ID", SIM_USER_ID)
    monkeypatch.setenv("GRID_API_KEY", SIM_API_KEY)
    return sim_server


def byoc_spec(*, region: str = "us-east-1", instance_types: tuple[str, ...] = ("t3.large",),
              profile: str = PROFILE_DEFAULT, **aws_extra: Any) -> dict[str, Any]:
    """A valid BYOC ClusterSpec as the wire carries it."""
    aws = {"region": region, "roleArn": "arn:aws:iam::123456789012:role/grid-byoc",
           "externalId": "ext-id-for-tests", "instanceTypes": [{"name": n} for n in instance_types],
           **aws_extra}
    return {"clusterType": "CLUSTER_TYPE_BYOC", "performanceProfile": profile,
            "driver": {"kubernetes": {"aws": aws}}}
