"""The ``gridops`` executable (and ``python -m reconciler``). Two answers are given here without
importing click, which alone is most of their start-up: ``gridops --version``, as click's
version option words it, and ``gridops --help`` (or ``-h``), click's own rendering stored by
``reconciler.cli.helptext``, printed only where click would print exactly that text: under
that program name, at a stored width, with the click that rendered it. Everything else,
including those, goes to the click group, and the process then ends without tearing the
interpreter down (``leave``)."""

from __future__ import annotations

import errno
import os
import sys
from typing import NoReturn

#: click's version option message, as the group shows it
VERSION_LINE = "gridops, version {version}"
#: What click calls the program when the executable runs (the help's usage line)
PROG_NAME = "gridops"
#: click's shell completion asks through this variable, before any option is read
_COMPLETE_VAR = "_GRIDOPS_COMPLETE"


def run() -> None:
    if sys.argv[1:] == ["--version"]:
        from reconciler import __version__

        print(VERSION_LINE.format(version=__version__))
        return
    if sys.argv[1:] in (["--help"], ["-h"]):
        text = _stored_help()
        if text is not None:
            _echo(text)
            return
    from reconciler.cli.group import main

    try:
        main()
    except SystemExit as stop:
        leave(stop.code)


def leave(code: object) -> NoReturn:
    """End the process with ``code`` (as ``sys.exit`` reads it) the way the interpreter would,
    less its teardown: the exit hooks run (logging's, temporary folders' clean-up) and the
    output is flushed, but the modules and every object they hold are not freed one by one,
    which took 0.15 s after an apply of 1,000 clusters and frees nothing the system would
    not. Every file, lock and connection has been closed by the code that opened it by now;
    a thread still running (a Grid call after Ctrl-C) is stopped as a kill would stop it,
    which the recorded intents are there for."""
    import atexit

    status = _status(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except ValueError:  # closed
            pass
        except OSError as e:  # as the interpreter's own exit: output lost is a failure,
            if e.errno != errno.EPIPE:  # unless the reader went away (`gridops plan | head`)
                status = status or 120
    os._exit(status)


def _status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: None is 0; any other non-number is printed
    on stderr and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _stored_help() -> str | None:
    """The group's help as click would print it now, if it is stored; None when only click
    can tell."""
    if not _click_names_the_program(PROG_NAME) or os.environ.get(_COMPLETE_VAR):
        return None
    from reconciler.cli import helptext_stored

    text = helptext_stored.HELP.get(help_width(helptext_stored.MAX_CONTENT_WIDTH))
    if text is None or not _click_is(helptext_stored.CLICK_VERSION):
        return None
    return text


def help_width(max_width: int) -> int:
    """The width click wraps help to (``click.formatting.HelpFormatter``): the terminal's
    columns, at most ``max_width``, less 2, and at least 50."""
    return max(min(_terminal_columns(), max_width) - 2, 50)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, which click asks, without shutil's imports
    (``re`` among them): COLUMNS if it is a positive number, else the columns of the terminal
    of stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    if stdout is None:
        return 80
    try:
        return os.get_terminal_size(stdout.fileno()).columns or 80
    except (ValueError, OSError):  # closed, detached, or not a terminal
        return 80


def _click_names_the_program(name: str) -> bool:
    """Whether click calls the program ``name``: after ``sys.argv[0]`` when a script runs,
    but ``python -m reconciler`` when the package does."""
    main_module = sys.modules["__main__"]
    return (getattr(main_module, "__package__", None) in (None, "")
            and os.path.basename(sys.argv[0]) == name)


def _click_is(version: str) -> bool:
    """Whether the click that would be imported is ``version``, by the distribution's
    metadata folder beside it (importlib.metadata would cost more than click itself)."""
    for finder in sys.meta_path:
        spec = finder.find_spec("click", None)
        if spec is not None:
            break
    else:
        return False
    if not spec.submodule_search_locations:
        return False
    site = os.path.dirname(spec.submodule_search_locations[0])
    return os.path.isdir(os.path.join(site, f"click-{version}.dist-info"))


def _echo(text: str) -> None:
    """Write ``text`` as ``click.echo`` does (nothing without a stdout). A reader gone
    (``gridops --help | head -1``) ends the run as click's main does: status 1, no
    traceback."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
        # The interpreter flushes stdout again on its way out; let that go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
