"""``gridops sim``: run the Grid emulator as a server (the main CLI lists this group). Only the
options load with this module, as ``gridops --help`` reads them; the emulator and its faults
load when ``serve`` runs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from reconciler.sim.faultkinds import DEFAULT_HANG_SECONDS, DEFAULT_KINDS, KINDS

if TYPE_CHECKING:
    from types import FrameType


@click.group("sim")
def sim() -> None:
    """The local Grid control-plane emulator."""


@sim.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False),
              help="SQLite file holding the emulator's state (created when missing).")
@click.option("--user-id", required=True, envvar="GRID_USER_ID",
              help="User id callers must send (or GRID_USER_ID).")
@click.option("--api-key", required=True, envvar="GRID_API_KEY", show_envvar=True,
              help="API key callers must send; better given as GRID_API_KEY.")
@click.option("--create-seconds", default=6.0, show_default=True, type=click.FloatRange(0),
              help="Seconds from create to RUNNING.")
@click.option("--delete-seconds", default=3.0, show_default=True, type=click.FloatRange(0),
              help="Seconds from delete to DELETED.")
@click.option("--latency", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait before each answer.")
@click.option("--fail", "fail", multiple=True, metavar="NAME=REASON",
              help="Make the cluster NAME fail with REASON (repeatable).")
@click.option("--fault-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of API requests that meet an injected fault.")
@click.option("--fault-seed", type=int, default=None, help="Seed of the random faults.")
@click.option("--fault-kinds", default=",".join(DEFAULT_KINDS), show_default=True,
              help=f"Comma-separated kinds to choose from: {', '.join(KINDS)}.")
@click.option("--fault-method", default="", help="Only requests with this HTTP method.")
@click.option("--fault-path", default="",
              help="Only requests whose path contains this, or for this cluster name.")
@click.option("--fault-after-commit", default=0.0, show_default=True,
              type=click.FloatRange(0, 1),
              help="Share of the faults on changes that strike after the change was made.")
@click.option("--fault-hang-seconds", default=DEFAULT_HANG_SECONDS, show_default=True,
              type=click.FloatRange(0), help="How long a hang holds a request unanswered.")
@click.option("--failed-polls", default=0, show_default=True, type=click.IntRange(0),
              help="Polls (lists and gets) a new cluster answers FAILED, as while Grid "
                   "retries, before it turns RUNNING.")
@click.option("--username", default="",
              help="A Grid username 'grid login --username' accepts (the user id always is).")
@click.option("-v", "--verbose", is_flag=True,
              help="Print every API request (method, path, status, fault) on stderr.")
def serve(host: str, port: int, db: str, user_id: str, api_key: str, create_seconds: float,
          delete_seconds: float, latency: float, fail: tuple[str, ...], fault_rate: float,
          fault_seed: int | None, fault_kinds: str, fault_method: str, fault_path: str,
          fault_after_commit: float, fault_hang_seconds: float, failed_polls: int,
          username: str, verbose: bool) -> None:
    """Answer the Grid cluster API on HOST:PORT until stopped (Ctrl-C)."""
    import signal
    from pathlib import Path

    from reconciler.sim.faults import FaultPolicy, parse_kinds

    failures = _read_failures(fail)
    try:
        policy = FaultPolicy(rate=fault_rate, seed=fault_seed, kinds=parse_kinds(fault_kinds),
                             method=fault_method.upper(), target=fault_path,
                             after_commit=fault_after_commit, hang_seconds=fault_hang_seconds)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--fault-kinds") from e
    _configure_logging()
    from reconciler.sim.server import SimServer  # not loaded for the other commands

    server = SimServer(Path(db), host=host, port=port, user_id=user_id, api_key=api_key,
                       create_seconds=create_seconds, delete_seconds=delete_seconds,
                       latency_seconds=latency, failures=failures, fault_policy=policy,
                       failed_polls=failed_polls, username=username,
                       echo_requests=(lambda line: click.echo(line, err=True)) if verbose
                       else None)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        url = server.bind()
    except OSError as e:
        server.stop()
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from e
    click.echo(f"Grid emulator listening on {url} (state in {db}); Ctrl-C stops it", err=True)
    server.serve_forever()


def _read_failures(items: tuple[str, ...]) -> dict[str, str]:
    failures: dict[str, str] = {}
    for item in items:
        name, sep, reason = item.partition("=")
        if not sep or not name or not reason:
            raise click.BadParameter(f"{item!r} is not NAME=REASON", param_hint="--fail")
        failures[name] = reason
    return failures


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _configure_logging() -> None:
    """Log to stderr, unless the main CLI has set logging up already."""
    from reconciler.logs import is_configured

    if not is_configured():
        import logging

        import structlog

        structlog.configure(
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        )
