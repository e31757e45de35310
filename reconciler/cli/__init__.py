"""The ``gridops`` command line (click). ``main`` is the entry point; importing the command
modules registers their commands on it, then every command gets its examples and the exit
codes in ``--help``."""

from __future__ import annotations

from reconciler.cli import aws, commands, schemas  # noqa: F401 (they register their commands)
from reconciler.cli.app import main
from reconciler.cli.help import add_help_epilogs

add_help_epilogs(main)

__all__ = ["main"]
