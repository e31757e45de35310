from __future__ import annotations

from reconciler.cli.entry import run

run()
