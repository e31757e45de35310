"""Logging: structlog on stderr, console lines at a terminal, JSON in CI or on request.
Every event passes through the Masker, so a secret that reaches a log line is blanked.

Modules log through ``get_logger``: its logger drops a line below the level the CLI set
without loading structlog (its import is a fifth of a plan's start-up, and a run at the
default level writes almost no line), and sets structlog up as ``configure_logging`` asked
with the first line it writes. Where structlog is already loaded (the tests, a program that
imports gridops) it is set up at once and decides each line itself, as before."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TextIO

from reconciler.lazy import is_loaded

if TYPE_CHECKING:
    import structlog

    from reconciler.sources.secrets import Masker

# logging's levels, without loading logging
_DEBUG, _INFO, _WARNING, _ERROR = 10, 20, 30, 40

#: Lines below this level are dropped without structlog; 0 while structlog decides.
_level = 0
#: Sets structlog up as ``configure_logging`` asked, on the first line written; None when
#: nothing waits.
_pending: Callable[[], None] | None = None
_starting = threading.Lock()  # a line from another thread waits until structlog is set up


class Logger:
    """A structlog logger by name, made with the first line written at or above the level
    ``configure_logging`` set (every line, when it set none)."""

    __slots__ = ("_name", "_proxy")

    def __init__(self, name: str) -> None:
        self._name = name
        self._proxy: Any = None

    def debug(self, event: str, **fields: Any) -> None:
        self._write(_DEBUG, "debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._write(_INFO, "info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._write(_WARNING, "warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._write(_ERROR, "error", event, fields)

    def exception(self, event: str, **fields: Any) -> None:
        """An error with the traceback of the exception being handled."""
        self._write(_ERROR, "exception", event, fields)

    def _write(self, level: int, method: str, event: str, fields: dict[str, Any]) -> None:
        if _level <= level:
            getattr(self._structlog(), method)(event, **fields)

    def _structlog(self) -> Any:
        _start()
        if self._proxy is None:
            import structlog

            self._proxy = structlog.get_logger(self._name)
        return self._proxy


def get_logger(name: str) -> Logger:
    """The logger ``name``; nothing is loaded until it writes a line."""
    return Logger(name)


def _start() -> None:
    """Set structlog up as ``configure_logging`` asked, if that still waits."""
    global _level, _pending
    if _pending is None:
        return
    with _starting:
        if _pending is not None:
            _pending()
            _pending, _level = None, 0


def is_configured() -> bool:
    """Whether logging has been set up (by ``configure_logging`` or by structlog's own)."""
    return _pending is not None or (is_loaded("structlog")
                                    and sys.modules["structlog"].is_configured())


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
    terminal. structlog is set up with the first line written (at once when it is loaded)."""
    global _level, _pending
    out = stream or sys.stderr
    level = _DEBUG if verbose > 1 else _INFO if verbose == 1 else _WARNING
    colors = out.isatty() if color is None else color

    def configure() -> None:
        _configure_structlog(fmt=fmt, level=level, masker=masker, out=out, colors=colors)

    with _starting:
        if is_loaded("structlog"):
            _pending, _level = None, 0
            configure()
        else:
            _pending, _level = configure, level


def _configure_structlog(*, fmt: str, level: int, masker: Masker, out: TextIO,
                         colors: bool) -> None:
    import structlog

    renderer: structlog.types.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=True)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=colors)
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
