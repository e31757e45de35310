"""State backends: where the inventory lives. ``open_state`` picks one from the settings."""

from __future__ import annotations

import importlib
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.ports import StateBackend
from reconciler.sources.settings import Settings
from reconciler.state.local import LocalStateBackend

__all__ = ["LocalStateBackend", "open_state"]


def open_state(settings: Settings, repo_root: Path) -> StateBackend:
    """The backend ``settings.state`` names: ``local`` (a file under the repo) or ``s3``."""
    state = settings.state
    if state.backend == "local":
        return LocalStateBackend(repo_root / state.path)
    if state.backend == "s3":
        try:
            s3 = importlib.import_module("reconciler.state.s3")
        except ImportError as e:
            raise ConfigError("the s3 state backend is not available in this installation",
                              hint="use `state: {backend: local}` in gridops.yaml") from e
        backend: StateBackend = s3.S3StateBackend(bucket=state.bucket, key=state.key,
                                                  region=state.region,
                                                  lock_table=state.lock_table)
        return backend
    raise ConfigError(f"unknown state backend {state.backend!r} in {settings.file}",
                      hint="use `local` or `s3`")
