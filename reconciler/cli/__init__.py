"""The ``gridops`` command line (click). ``main`` is the click group
(``reconciler.cli.group``), which imports a command's module only when the command is used;
the executable starts in ``reconciler.cli.entry``, which answers ``--version``, and ``--help``
at the usual widths, before click loads (so this package imports the group only when ``main``
is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.cli.group import main

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from reconciler.cli.group import main

        return main
    raise AttributeError(name)
