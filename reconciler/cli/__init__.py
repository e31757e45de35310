"""The ``gridops`` command line (click). ``main`` is the entry point; importing the command
modules registers their commands on it, then every command gets its examples and the exit
codes in ``--help``."""

from __future__ import annotations

from reconciler.lazy import defer_import

# What the commands use, loaded when a command uses it: --help and --version need none of it.
for _name in ("structlog", "reconciler.run", "reconciler.views.render", "reconciler.logs"):
    defer_import(_name)

from reconciler.cli import aws, commands, schemas  # noqa: E402, F401 (register their commands)
from reconciler.cli.app import main  # noqa: E402
from reconciler.cli.help import add_help_epilogs  # noqa: E402

add_help_epilogs(main)

__all__ = ["main"]
