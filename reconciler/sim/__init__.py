"""The Grid control-plane emulator: grid-api.md over real HTTP on loopback, state in SQLite."""

from __future__ import annotations

from typing import Any

__all__ = ["GLOBAL_CLUSTER", "SimServer"]


def __getattr__(name: str) -> Any:
    """The emulator's modules load when used, so importing ``reconciler.sim.faults`` (the
    client side's fault knobs) does not start up the HTTP server's."""
    if name == "SimServer":
        from reconciler.sim.server import SimServer

        return SimServer
    if name == "GLOBAL_CLUSTER":
        from reconciler.sim.clusters import GLOBAL_CLUSTER

        return GLOBAL_CLUSTER
    raise AttributeError(name)
