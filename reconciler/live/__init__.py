"""The Grid API edge: a client for a real Grid, or for the emulator started in-process.

``open_grid(url, ...)`` is what the CLI calls. ``url`` is either

- ``https://...`` / ``http://...``: a Grid API; credentials from ``GRID_USER_ID`` /
  ``GRID_API_KEY`` or ``~/.grid/credentials.json``;
- ``sim://PATH[?createSeconds=N&deleteSeconds=N&latency=S]``: the emulator on a free loopback
  port for the time of the ``with`` block, its state in the SQLite file PATH (relative to the
  repository root unless absolute). ``GRIDOPS_SIM_CREATE_SECONDS`` and
  ``GRIDOPS_SIM_DELETE_SECONDS`` override the delays. Fault knobs, as ``gridops sim serve``
  has them: ``faultRate``, ``faultSeed``, ``faultKinds`` (comma-separated), ``faultMethod``,
  ``faultPath``, ``faultAfterCommit``, ``faultHangSeconds``; ``clientTimeout`` is the
  client's timeout in seconds (so a hang can be tried quickly). ``failedPolls=K``: each new
  cluster answers FAILED to K polls (as while Grid retries) before it turns RUNNING.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from reconciler.errors import ConfigError
from reconciler.live.credentials import Credentials, load_credentials
from reconciler.sim.faults import DEFAULT_HANG_SECONDS, KINDS, FaultPolicy, parse_kinds

if TYPE_CHECKING:  # httpx and the emulator load when a client is opened, not on import
    from reconciler.live.client import GridClient

def __getattr__(name: str) -> Any:
    if name == "GridClient":
        from reconciler.live.client import GridClient

        return GridClient
    raise AttributeError(name)


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
    #: the random faults the emulator injects
    faults: FaultPolicy = field(default_factory=FaultPolicy)
    #: the client's timeout in seconds
    client_timeout: float = 30.0
    #: polls a new cluster answers FAILED before it turns RUNNING
    failed_polls: int = 0


@contextmanager
def open_grid(url: str, *, env: Mapping[str, str], home: Path,
              repo_root: Path) -> Iterator[GridClient]:
    """A GridClient for ``url``, closed (and its emulator stopped) when the block ends."""
    from reconciler.live.client import GridClient
    from reconciler.sim.server import SimServer

    if url.startswith(SIM_SCHEME):
        sim = parse_sim_url(url, env=env, repo_root=repo_root)
        credentials = _sim_credentials(env)
        with SimServer(sim.db_path, user_id=credentials.user_id, api_key=credentials.api_key,
                       create_seconds=sim.create_seconds, delete_seconds=sim.delete_seconds,
                       latency_seconds=sim.latency_seconds, fault_policy=sim.faults,
                       failed_polls=sim.failed_polls) as server, \
                GridClient(server.url, credentials, timeout=sim.client_timeout) as client:
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
    texts: dict[str, str] = {}
    for key, items in parse_qs(query, keep_blank_values=True).items():
        if key in _SIM_TEXT:
            texts[key] = items[-1]
        elif key in (*_SIM_ENV, *_SIM_SECONDS):
            values[key] = _seconds(items[-1], f"{key} in {url!r}")
        else:
            raise ConfigError(f"Grid URL {url!r}: unknown option {key!r}",
                              hint="sim:// takes " + ", ".join((*_SIM_ENV, *_SIM_SECONDS,
                                                                 *_SIM_TEXT)))
    for key, name in _SIM_ENV.items():
        if env.get(name):
            values[key] = _seconds(env[name], name)
    path = Path(path_text).expanduser()
    return SimUrl(db_path=path if path.is_absolute() else repo_root / path,
                  create_seconds=values.get("createSeconds", SIM_CREATE_SECONDS),
                  delete_seconds=values.get("deleteSeconds", SIM_DELETE_SECONDS),
                  latency_seconds=values.get("latency", 0.0),
                  faults=_fault_policy(url, values, texts),
                  client_timeout=values.get("clientTimeout", 30.0) or 30.0,
                  failed_polls=_count(texts.get("failedPolls", "0"), f"failedPolls in {url!r}"))


_SIM_SECONDS = ("latency", "faultRate", "faultAfterCommit", "faultHangSeconds", "clientTimeout")
_SIM_TEXT = ("faultSeed", "faultKinds", "faultMethod", "faultPath", "failedPolls")


def _fault_policy(url: str, values: Mapping[str, float], texts: Mapping[str, str]
                  ) -> FaultPolicy:
    try:
        seed = int(texts["faultSeed"]) if "faultSeed" in texts else None
        kinds = parse_kinds(texts["faultKinds"]) if "faultKinds" in texts else \
            FaultPolicy().kinds
        return FaultPolicy(rate=values.get("faultRate", 0.0), seed=seed, kinds=kinds,
                           method=texts.get("faultMethod", "").upper(),
                           target=texts.get("faultPath", ""),
                           after_commit=values.get("faultAfterCommit", 0.0),
                           hang_seconds=values.get("faultHangSeconds", DEFAULT_HANG_SECONDS))
    except ValueError as e:
        raise ConfigError(f"Grid URL {url!r}: {e}",
                          hint="faultRate and faultAfterCommit are 0..1, faultSeed a whole "
                               "number, faultKinds from " + ", ".join(KINDS)) from e


def _sim_credentials(env: Mapping[str, str]) -> Credentials:
    if env.get("GRID_USER_ID") and env.get("GRID_API_KEY"):
        return Credentials(user_id=env["GRID_USER_ID"], api_key=env["GRID_API_KEY"])
    return Credentials(user_id=SIM_USER_ID, api_key=SIM_API_KEY)


def _count(text: str, where: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise ConfigError(f"{where}: {text!r} is not a whole number from 0 to 999999")
    return int(text)


def _seconds(text: str, where: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses NaN
        raise ConfigError(f"{where}: {text!r} is not a number of seconds >= 0")
    return seconds
