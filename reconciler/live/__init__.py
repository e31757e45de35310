"""The Grid API edge: a client for a real Grid, or for the emulator started in-process.

``open_grid(url, ...)`` is what the CLI calls. ``url`` is either

- ``https://...`` / ``http://...``: a Grid API; credentials from ``GRID_USER_ID`` /
  ``GRID_API_KEY`` or ``~/.grid/credentials.json``;
- ``sim://PATH[?createSeconds=N&deleteSeconds=N&latency=S]``: the emulator on a free loopback
  port for the time of the ``with`` block, its state in the SQLite file PATH (relative to the
  repository root unless absolute). ``GRIDOPS_SIM_CREATE_SECONDS`` and
  ``GRIDOPS_SIM_DELETE_SECONDS`` override the delays.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from reconciler.errors import ConfigError
from reconciler.live.client import GridClient
from reconciler.live.credentials import Credentials, load_credentials
from reconciler.sim.server import SimServer

__all__ = ["GridClient", "Credentials", "SimUrl", "load_credentials", "open_grid",
           "parse_sim_url"]

SIM_SCHEME = "sim://"
#: the credentials an in-process emulator expects when GRID_USER_ID/GRID_API_KEY are not set
SIM_USER_ID = "gridops-sim"
SIM_API_KEY = "gridops-sim-local-key"
#: delays short enough for a demo
SIM_CREATE_SECONDS = 6.0
SIM_DELETE_SECONDS = 3.0
_SIM_ENV = {"createSeconds": "GRIDOPS_SIM_CREATE_SECONDS",
            "deleteSeconds": "GRIDOPS_SIM_DELETE_SECONDS"}


@dataclass(frozen=True)
class SimUrl:
    """A ``sim://`` URL, read."""

    #: the SQLite file (absolute)
    db_path: Path
    #: seconds from create to RUNNING
    create_seconds: float = SIM_CREATE_SECONDS
    #: seconds from delete to DELETED
    delete_seconds: float = SIM_DELETE_SECONDS
    #: seconds the emulator sleeps before each answer
    latency_seconds: float = 0.0


@contextmanager
def open_grid(url: str, *, env: Mapping[str, str], home: Path,
              repo_root: Path) -> Iterator[GridClient]:
    """A GridClient for ``url``, closed (and its emulator stopped) when the block ends."""
    if url.startswith(SIM_SCHEME):
        sim = parse_sim_url(url, env=env, repo_root=repo_root)
        credentials = _sim_credentials(env)
        with SimServer(sim.db_path, user_id=credentials.user_id, api_key=credentials.api_key,
                       create_seconds=sim.create_seconds, delete_seconds=sim.delete_seconds,
                       latency_seconds=sim.latency_seconds) as server, \
                GridClient(server.url, credentials) as client:
            yield client
    elif url.startswith(("https://", "http://")):
        with GridClient(url, load_credentials(env, home)) as client:
            yield client
    else:
        raise ConfigError(f"Grid URL {url!r} is neither http(s):// nor sim://",
                          hint="use https://platform.grid.ai, or sim://.gridops/sim.db for the "
                               "local emulator")


def parse_sim_url(url: str, *, env: Mapping[str, str], repo_root: Path) -> SimUrl:
    """Read ``sim://PATH?...``; the ``GRIDOPS_SIM_*`` variables win over the query."""
    rest = url[len(SIM_SCHEME):] if url.startswith(SIM_SCHEME) else ""
    path_text, _, query = rest.partition("?")
    if not path_text:
        raise ConfigError(f"Grid URL {url!r} names no database file",
                          hint="write sim://.gridops/sim.db (relative to the repository root)")
    values: dict[str, float] = {}
    for key, items in parse_qs(query, keep_blank_values=True).items():
        if key not in (*_SIM_ENV, "latency"):
            raise ConfigError(f"Grid URL {url!r}: unknown option {key!r}",
                              hint="sim:// takes createSeconds, deleteSeconds and latency")
        values[key] = _seconds(items[-1], f"{key} in {url!r}")
    for key, name in _SIM_ENV.items():
        if env.get(name):
            values[key] = _seconds(env[name], name)
    path = Path(path_text).expanduser()
    return SimUrl(db_path=path if path.is_absolute() else repo_root / path,
                  create_seconds=values.get("createSeconds", SIM_CREATE_SECONDS),
                  delete_seconds=values.get("deleteSeconds", SIM_DELETE_SECONDS),
                  latency_seconds=values.get("latency", 0.0))


def _sim_credentials(env: Mapping[str, str]) -> Credentials:
    if env.get("GRID_USER_ID") and env.get("GRID_API_KEY"):
        return Credentials(user_id=env["GRID_USER_ID"], api_key=env["GRID_API_KEY"])
    return Credentials(user_id=SIM_USER_ID, api_key=SIM_API_KEY)


def _seconds(text: str, where: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses NaN
        raise ConfigError(f"{where}: {text!r} is not a number of seconds >= 0")
    return seconds
