"""The ``gridops`` executable (and ``python -m reconciler``): ``gridops --version`` is answered
here, as click's version option words it, without importing click (which alone is most of
the start-up of that command); everything else goes to the click group."""

from __future__ import annotations

import sys

#: click's version option message, as the group shows it
VERSION_LINE = "gridops, version {version}"


def run() -> None:
    if sys.argv[1:] == ["--version"]:
        from reconciler import __version__

        print(VERSION_LINE.format(version=__version__))
        return
    from reconciler.cli.group import main

    main()
