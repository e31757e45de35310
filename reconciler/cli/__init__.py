"""The ``gridops`` command line (click). ``main`` is the entry point; importing the command
modules registers their commands on it."""

from __future__ import annotations

from reconciler.cli import aws, commands, schemas  # noqa: F401 (they register their commands)
from reconciler.cli.app import main

__all__ = ["main"]
