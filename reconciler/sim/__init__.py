"""The Grid control-plane emulator: grid-api.md over real HTTP on loopback, state in SQLite."""

from __future__ import annotations

from reconciler.sim.clusters import GLOBAL_CLUSTER
from reconciler.sim.server import SimServer

__all__ = ["GLOBAL_CLUSTER", "SimServer"]
