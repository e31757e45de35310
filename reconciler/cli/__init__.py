"""The ``gridops`` command line (click). ``main`` is the entry point: the group
(``reconciler.cli.group``), which imports a command's module only when the command is used."""

from __future__ import annotations

from reconciler.cli.group import main

__all__ = ["main"]
