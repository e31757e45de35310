"""Logging: structlog on stderr, console lines at a terminal, JSON in CI or on request.
Every event passes through the Masker, so a secret that reaches a log line is blanked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from reconciler.sources.secrets import Masker


def choose_format(requested: str | None, env: Mapping[str, str], stream: TextIO) -> str:
    """``json`` when asked, or in CI (CI=true); ``console`` at a terminal or otherwise."""
    if requested:
        return requested
    if env.get("CI", "").lower() == "true" or env.get("GITHUB_ACTIONS") == "true":
        return "json"
    return "console"


def _mask_processor(masker: Masker) -> structlog.types.Processor:
    def process(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            event[key] = _masked(masker, value)
        return event

    return process


def _masked(masker: Masker, value: Any) -> Any:
    """``value`` with every string in it masked; an object that is not plain data (an
    exception, a path) is logged as its masked text."""
    if isinstance(value, str):
        return masker.mask(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {masker.mask(str(k)): _masked(masker, v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_masked(masker, v) for v in value]
    return masker.mask(str(value))


def configure_logging(*, fmt: str, verbose: int, masker: Masker,
                      stream: TextIO | None = None, color: bool | None = None) -> None:
    """``color``: colour console lines (``views.color.use_color``); None means only at a
    terminal."""
    out = stream or sys.stderr
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
    renderer: structlog.types.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=True)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=out.isatty() if color is None else color)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # so a traceback's text is masked too
            _mask_processor(masker),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
