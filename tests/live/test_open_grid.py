from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.live import SimUrl, open_grid, parse_sim_url
from reconciler.model import PHASE_FAILED, PHASE_RUNNING
from reconciler.sim.server import SimServer
from tests.sim_fixtures import SIM_API_KEY, SIM_USER_ID, byoc_spec

ROOT = Path("/repo")


@pytest.mark.parametrize(("url", "env", "expected"), [
    ("sim://.gridops/sim.db", {}, SimUrl(ROOT / ".gridops/sim.db")),
    ("sim:///var/lib/sim.db", {}, SimUrl(Path("/var/lib/sim.db"))),
    ("sim://s.db?createSeconds=1.5&deleteSeconds=0", {},
     SimUrl(ROOT / "s.db", create_seconds=1.5, delete_seconds=0.0)),
    ("sim://s.db?createSeconds=9", {"GRIDOPS_SIM_CREATE_SECONDS": "0.1"},
     SimUrl(ROOT / "s.db", create_seconds=0.1)),
    ("sim://s.db?latency=0.25", {"GRIDOPS_SIM_DELETE_SECONDS": "2"},
     SimUrl(ROOT / "s.db", delete_seconds=2.0, latency_seconds=0.25)),
    ("sim://s.db?failedPolls=3", {}, SimUrl(ROOT / "s.db", failed_polls=3)),
], ids=["relative", "absolute", "query-delays", "env-wins", "latency-and-env-delete",
        "failed-polls"])
def test_sim_urls_are_read_relative_to_the_repo_root(url: str, env: dict[str, str],
                                                     expected: SimUrl) -> None:
    assert parse_sim_url(url, env=env, repo_root=ROOT) == expected


@pytest.mark.parametrize(("url", "env", "expected"), [
    ("sim://", {}, "names no database file"),
    ("sim://s.db?speed=3", {}, "unknown option 'speed'"),
    ("sim://s.db?createSeconds=soon", {}, "'soon' is not a number of seconds"),
    ("sim://s.db", {"GRIDOPS_SIM_DELETE_SECONDS": "-1"}, "GRIDOPS_SIM_DELETE_SECONDS: '-1'"),
    ("sim://s.db?failedPolls=-1", {}, "failedPolls: '-1' is not a whole number"),
    ("sim://s.db?failedPolls=2.5", {}, "'2.5' is not a whole number"),
], ids=["no-path", "unknown-option", "not-a-number", "negative-env", "negative-polls",
        "fractional-polls"])
def test_bad_sim_urls_are_config_errors(url: str, env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_sim_url(url, env=env, repo_root=ROOT)


def test_sim_url_starts_an_emulator_that_keeps_state_in_the_repo(tmp_path: Path) -> None:
    url = "sim://.gridops/sim.db?createSeconds=0&deleteSeconds=0"
    with open_grid(url, env={}, home=tmp_path, repo_root=tmp_path) as client:
        client.create_cluster("kept", byoc_spec())
        assert client.base_url.startswith("http://127.0.0.1:")
    assert (tmp_path / ".gridops" / "sim.db").is_file()
    with open_grid(url, env={}, home=tmp_path, repo_root=tmp_path) as client:
        assert client.get_cluster("kept").phase == PHASE_RUNNING


def test_sim_url_failed_polls_makes_new_clusters_fail_then_recover(tmp_path: Path) -> None:
    url = "sim://sim.db?createSeconds=0&failedPolls=2"
    with open_grid(url, env={}, home=tmp_path, repo_root=tmp_path) as client:
        client.create_cluster("flaky", byoc_spec())
        phases = [client.get_cluster("flaky").phase for _ in range(3)]
    assert phases == [PHASE_FAILED, PHASE_FAILED, PHASE_RUNNING]


def test_sim_url_uses_grid_credentials_from_the_environment(tmp_path: Path) -> None:
    env = {"GRID_USER_ID": "me", "GRID_API_KEY": "my-key"}
    with open_grid("sim://sim.db", env=env, home=tmp_path, repo_root=tmp_path) as client:
        created = client.create_cluster("mine", byoc_spec())
    assert created.spec["userId"] == "me"


def test_an_http_url_uses_the_grid_credentials(sim_server: SimServer, tmp_path: Path) -> None:
    env = {"GRID_USER_ID": SIM_USER_ID, "GRID_API_KEY": SIM_API_KEY}
    with open_grid(sim_server.url, env=env, home=tmp_path, repo_root=tmp_path) as client:
        assert "grid-cloud-prod" in {c.name for c in client.list_clusters()}


def test_an_http_url_without_credentials_is_a_config_error(sim_server: SimServer,
                                                           tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no Grid credentials"), \
            open_grid(sim_server.url, env={}, home=tmp_path, repo_root=tmp_path):
        pass


@pytest.mark.parametrize("url", ["ftp://grid.example", "platform.grid.ai", "https://",
                                 "https://user:secret@platform.grid.ai"],
                         ids=["ftp", "no-scheme", "no-host", "credentials-in-url"])
def test_bad_grid_urls_are_config_errors(url: str, tmp_path: Path) -> None:
    env = {"GRID_USER_ID": "u", "GRID_API_KEY": "k"}
    with pytest.raises(ConfigError) as caught, \
            open_grid(url, env=env, home=tmp_path, repo_root=tmp_path):
        pass
    assert "secret" not in str(caught.value)


def test_sim_env_points_the_grid_variables_at_the_emulator(sim_env: SimServer,
                                                           tmp_path: Path) -> None:
    env = dict(os.environ)
    with open_grid(env["GRID_URL"], env=env, home=tmp_path, repo_root=tmp_path) as client:
        assert client.base_url == sim_env.url
        assert client.list_clusters()
