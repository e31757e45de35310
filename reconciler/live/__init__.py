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
  ``SIM_PARAMETERS`` lists every parameter with its bounds; anything else, or a value out of
  range, is a clear error.

Before any of that, the URL passes the policy of ``reconciler.gridurl`` (https, or http only
to loopback; no user info, control characters, metadata addresses or other schemes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from reconciler.errors import ConfigError
from reconciler.gridurl import (
    KIND_REMOTE,
    KIND_SIM,
    SIM_SCHEME,
    check_grid_url,
    redact_url,
)
from reconciler.live.credentials import Credentials, load_credentials
from reconciler.printable import has_unsafe, printable
from reconciler.sim.faultkinds import DEFAULT_HANG_SECONDS, KINDS
from reconciler.sources.secrets import MIN_SECRET_LENGTH

if TYPE_CHECKING:  # httpx and the emulator (its fault policy too) load when used, not on import
    from reconciler.live.client import GridClient
    from reconciler.sim.faults import FaultPolicy


def __getattr__(name: str) -> Any:
    if name == "GridClient":
        from reconciler.live.client import GridClient

        return GridClient
    raise AttributeError(name)


__all__ = ["GridClient", "Credentials", "SimUrl", "load_credentials", "open_grid",
           "parse_sim_url"]

#: the credentials an in-process emulator expects when GRID_USER_ID/GRID_API_KEY are not set
SIM_USER_ID = "gridops-sim"
SIM_API_KEY = "gridops-sim-local-key"
#: delays short enough for a demo
SIM_CREATE_SECONDS = 6.0
SIM_DELETE_SECONDS = 3.0


def _no_faults() -> FaultPolicy:
    from reconciler.sim.faults import FaultPolicy

    return FaultPolicy()


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
    faults: FaultPolicy = field(default_factory=_no_faults)
    #: the client's timeout in seconds
    client_timeout: float = 30.0
    #: polls a new cluster answers FAILED before it turns RUNNING
    failed_polls: int = 0


@contextmanager
def open_grid(url: str, *, env: Mapping[str, str], home: Path, repo_root: Path,
              send_credentials: bool = True,
              on_secret: Callable[[str], None] = lambda _: None) -> Iterator[GridClient]:
    """A GridClient for ``url``, closed (and its emulator stopped) when the block ends.

    ``url`` must pass the URL policy (``reconciler.gridurl``) before anything is read or
    sent. ``send_credentials`` False sends none (a Grid that is not the pinned one);
    ``on_secret`` hears every credential used, so it can be masked."""
    from reconciler.live.client import GridClient

    target = check_grid_url(url)
    if target.kind == KIND_SIM:
        from reconciler.sim.server import SimServer  # only a sim:// URL loads the emulator

        sim = parse_sim_url(url, env=env, repo_root=repo_root)
        credentials = _sim_credentials(env if send_credentials else {})
        with SimServer(sim.db_path, user_id=credentials.user_id, api_key=credentials.api_key,
                       create_seconds=sim.create_seconds, delete_seconds=sim.delete_seconds,
                       latency_seconds=sim.latency_seconds, fault_policy=sim.faults,
                       failed_polls=sim.failed_polls) as server, \
                GridClient(server.url, credentials, timeout=sim.client_timeout) as client:
            yield client
        return
    sent = load_credentials(env, home) if send_credentials else None
    if sent is not None:
        if target.kind == KIND_REMOTE and len(sent.api_key) < MIN_SECRET_LENGTH:
            raise ConfigError(f"the Grid API key is shorter than {MIN_SECRET_LENGTH} "
                              "characters: too short to be masked in output",
                              hint="use the API key Grid issued (grid login)")
        on_secret(sent.api_key)
        on_secret(f"{sent.user_id}:{sent.api_key}")
    with GridClient(target.url, sent) as client:
        yield client


def parse_sim_url(url: str, *, env: Mapping[str, str], repo_root: Path) -> SimUrl:
    """Read ``sim://PATH?...``: every parameter is checked against ``SIM_PARAMETERS`` (known,
    given once, in range); the ``GRIDOPS_SIM_*`` variables win over the query."""
    rest = url[len(SIM_SCHEME):] if url.startswith(SIM_SCHEME) else ""
    path_text, _, query = rest.partition("?")
    shown = redact_url(url)
    if not path_text:
        raise ConfigError(f"Grid URL {shown} names no database file",
                          hint="write sim://.gridops/sim.db (relative to the repository root)")
    values: dict[str, Any] = {}
    for key, items in parse_qs(query, keep_blank_values=True).items():
        parameter = SIM_PARAMETERS.get(key)
        if parameter is None:
            raise ConfigError(f"Grid URL {shown}: unknown option {printable(key)!r}",
                              hint="sim:// takes " + ", ".join(SIM_PARAMETERS))
        if len(items) > 1:
            raise ConfigError(f"Grid URL {shown}: {key} is given {len(items)} times",
                              hint="give each option once")
        values[key] = parameter.read(items[0], f"Grid URL {shown}, {key}")
    for key, parameter in SIM_PARAMETERS.items():
        if parameter.env and env.get(parameter.env):
            values[key] = parameter.read(env[parameter.env], parameter.env)
    path = Path(path_text).expanduser()
    return SimUrl(db_path=path if path.is_absolute() else repo_root / path,
                  create_seconds=values.get("createSeconds", SIM_CREATE_SECONDS),
                  delete_seconds=values.get("deleteSeconds", SIM_DELETE_SECONDS),
                  latency_seconds=values.get("latency", 0.0),
                  faults=_fault_policy(shown, values),
                  client_timeout=values.get("clientTimeout", 30.0) or 30.0,
                  failed_polls=values.get("failedPolls", 0))


@dataclass(frozen=True)
class SimParameter:
    """One ``sim://`` query parameter: how its text is read and checked."""

    #: text -> value; ValueError with a message saying what is accepted
    parse: Callable[[str], Any]
    #: the environment variable that overrides it, if any
    env: str = ""

    def read(self, text: str, where: str) -> Any:
        try:
            return self.parse(text)
        except ValueError as e:
            raise ConfigError(f"{where}: {printable(text)!r} {e}") from None


_NUMBER = re.compile(r"[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?")


def seconds_between(low: float, high: float) -> Callable[[str], float]:
    """A parser of a plain decimal number (ASCII digits only) within [low, high]."""
    def parse(text: str) -> float:
        value = float(text) if _NUMBER.fullmatch(text) else -1.0
        if not low <= value <= high:
            raise ValueError(f"is not a number of seconds >= {low:g} and <= {high:g}")
        return value
    return parse


def _share(text: str) -> float:
    value = float(text) if _NUMBER.fullmatch(text) else -1.0
    if not 0.0 <= value <= 1.0:
        raise ValueError("is not a share between 0 and 1")
    return value


def _seed(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise ValueError("is not a whole number (up to 18 digits)")
    return int(text)


def _method(text: str) -> str:
    if text.upper() not in ("", "GET", "POST", "PUT", "DELETE"):
        raise ValueError("is not one of GET, POST, PUT, DELETE")
    return text.upper()


def _path(text: str) -> str:
    if has_unsafe(text) or len(text) > 200:
        raise ValueError("is not a path or cluster name (printable, up to 200 characters)")
    return text


def _kinds(text: str) -> tuple[str, ...]:
    from reconciler.sim.faults import parse_kinds

    return parse_kinds(text)


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise ValueError("is not a whole number from 0 to 999999")
    return int(text)


#: Every ``sim://`` parameter. A new knob is one more entry (and a field of SimUrl).
SIM_PARAMETERS: Mapping[str, SimParameter] = {
    "createSeconds": SimParameter(seconds_between(0, 3600), env="GRIDOPS_SIM_CREATE_SECONDS"),
    "deleteSeconds": SimParameter(seconds_between(0, 3600), env="GRIDOPS_SIM_DELETE_SECONDS"),
    "latency": SimParameter(seconds_between(0, 60)),
    "clientTimeout": SimParameter(seconds_between(0, 600)),
    "faultRate": SimParameter(_share),
    "faultAfterCommit": SimParameter(_share),
    "faultHangSeconds": SimParameter(seconds_between(0, 600)),
    "faultSeed": SimParameter(_seed),
    "faultKinds": SimParameter(_kinds),
    "faultMethod": SimParameter(_method),
    "faultPath": SimParameter(_path),
    "failedPolls": SimParameter(_count),
}


def _fault_policy(shown: str, values: Mapping[str, Any]) -> FaultPolicy:
    from reconciler.sim.faults import FaultPolicy

    try:
        return FaultPolicy(rate=values.get("faultRate", 0.0), seed=values.get("faultSeed"),
                           kinds=values.get("faultKinds", FaultPolicy().kinds),
                           method=values.get("faultMethod", ""),
                           target=values.get("faultPath", ""),
                           after_commit=values.get("faultAfterCommit", 0.0),
                           hang_seconds=values.get("faultHangSeconds", DEFAULT_HANG_SECONDS))
    except ValueError as e:
        raise ConfigError(f"Grid URL {shown}: {e}",
                          hint="faultKinds from " + ", ".join(KINDS)) from e


def _sim_credentials(env: Mapping[str, str]) -> Credentials:
    if env.get("GRID_USER_ID") and env.get("GRID_API_KEY"):
        return Credentials(user_id=env["GRID_USER_ID"], api_key=env["GRID_API_KEY"])
    return Credentials(user_id=SIM_USER_ID, api_key=SIM_API_KEY)

