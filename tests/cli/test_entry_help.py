"""The executable's own answer to ``gridops --help`` and ``-h`` (``reconciler.cli.entry``): byte
for byte what the click group prints, whether the stored text or click answers it, at every
width, at a pipe and at a terminal, to a reader gone and with no stdout at all; and the stored
text is click's rendering of the group now. Each run is a fresh interpreter, as the
executable starts (what each run loads: tests/cli/test_imports.py)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import click
import pytest

from reconciler.cli import entry, helptext
from tests.cli.terminal import screen_of

#: What the ``gridops`` script runs.
EXECUTABLE = "import sys\nsys.argv[0] = 'gridops'\nfrom reconciler.cli.entry import run\nrun()\n"
#: The reference: the click group on the same arguments, under the same name.
GROUP = "import sys\nsys.argv[0] = 'gridops'\nfrom reconciler.cli.group import main\nmain()\n"


def _environ(columns: str | None) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return {**environ, "COLUMNS": columns} if columns else environ


def _run(child: str, args: list[str], cwd: Path, columns: str | None = None,
         stdout: int = subprocess.PIPE, shell_prefix: tuple[str, ...] = (),
         **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*shell_prefix, sys.executable, "-c", child, *args], cwd=cwd,
                          env={**_environ(columns), **env}, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=60)


@pytest.mark.parametrize("args", [["--help"], ["-h"]], ids=["help", "h"])
@pytest.mark.parametrize("columns", [None, "80", "100", "120", "60", "40"],
                         ids=["pipe", "80", "100", "120", "60", "40"])
def test_help_is_what_the_group_prints_at_every_width(tmp_path: Path, args: list[str],
                                                      columns: str | None) -> None:
    shown = _run(EXECUTABLE, args, tmp_path, columns)
    expected = _run(GROUP, args, tmp_path, columns)

    assert (shown.returncode, shown.stderr) == (expected.returncode, expected.stderr) == (0, b"")
    assert shown.stdout == expected.stdout
    assert shown.stdout.startswith(b"Usage: gridops [OPTIONS] COMMAND [ARGS]...\n")


def _at_terminal(child: str, cwd: Path, columns: int) -> tuple[int, bytes]:
    """Run ``child --help`` with a pseudo-terminal of ``columns`` as stdout and stderr (no
    COLUMNS); its exit code and what the terminal showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", child, "--help"], cwd=cwd,
                            env=_environ(None), stdout=slave, stderr=slave)
    os.close(slave)
    seen = screen_of(master, proc, seconds=60)
    os.close(master)
    return proc.wait(timeout=10), seen


@pytest.mark.parametrize("columns", [120, 70, 0],
                         ids=["stored-width", "other-width", "size-unknown"])
def test_help_at_a_terminal_is_what_the_group_prints_there(tmp_path: Path,
                                                           columns: int) -> None:
    shown = _at_terminal(EXECUTABLE, tmp_path, columns)

    assert shown == _at_terminal(GROUP, tmp_path, columns)
    assert shown[0] == 0 and b"Commands:" in shown[1]


def _to_a_closed_pipe(child: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    read, write = os.pipe()
    os.close(read)
    try:
        return _run(child, ["--help"], cwd, stdout=write)
    finally:
        os.close(write)


def test_help_to_a_reader_gone_exits_1_without_a_traceback_as_click_does(
        tmp_path: Path) -> None:
    # `gridops --help | head -1`, without the race: nothing reads the pipe at all
    shown = _to_a_closed_pipe(EXECUTABLE, tmp_path)
    expected = _to_a_closed_pipe(GROUP, tmp_path)

    assert (shown.returncode, shown.stderr) == (expected.returncode, expected.stderr) == (1, b"")


def test_help_without_a_stdout_prints_nothing_and_succeeds_as_click_does(
        tmp_path: Path) -> None:
    closed = ("sh", "-c", 'exec "$@" >&-', "sh")  # `gridops --help >&-`
    shown = _run(EXECUTABLE, ["--help"], tmp_path, shell_prefix=closed)
    expected = _run(GROUP, ["--help"], tmp_path, shell_prefix=closed)

    assert (shown.returncode, shown.stderr) == (expected.returncode, expected.stderr) == (0, b"")


def test_help_is_left_to_click_when_the_shell_asks_for_completion(tmp_path: Path) -> None:
    shown = _run(EXECUTABLE, ["--help"], tmp_path, _GRIDOPS_COMPLETE="bash_source")

    assert shown.stdout == _run(GROUP, ["--help"], tmp_path,
                                _GRIDOPS_COMPLETE="bash_source").stdout
    assert b"complete " in shown.stdout and b"Usage:" not in shown.stdout


def test_help_of_the_package_run_as_a_module_names_it_as_click_does(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "--help"], cwd=tmp_path,
                          env=_environ(None), capture_output=True, timeout=60, check=True)

    assert done.stdout.startswith(b"Usage: python -m reconciler [OPTIONS] COMMAND")


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-4", "1", "52", "53", "80", "100",
                                     "101", "102", "250"])
def test_the_width_is_the_one_click_wraps_help_to(monkeypatch: pytest.MonkeyPatch,
                                                  columns: str | None) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)

    assert entry.help_width(100) == click.HelpFormatter(max_width=100).width


def test_the_stored_help_is_what_click_renders_now() -> None:
    assert helptext.STORED.read_text(encoding="utf-8") == helptext.render_module(), (
        "the stored --help is stale: run `make helptext` (python -m reconciler.cli.helptext)")


def test_a_help_with_colour_codes_is_not_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helptext, "render_help", lambda width: "\x1b[1mUsage:\x1b[0m gridops\n")

    with pytest.raises(ValueError, match="not plain ASCII"):
        helptext.render_module()
