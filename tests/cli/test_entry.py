"""The executable's way out (``reconciler.cli.entry.leave``): the command's exit status, every
byte of its output and the exit hooks, as the interpreter's own exit gives them, without its
teardown. Run in a fresh interpreter, as the ``gridops`` executable runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.cli.entry import _status
from reconciler.errors import EXIT_USAGE

#: a child that registers an exit hook, then runs the executable's entry with its arguments
CHILD = """\
import atexit, sys
atexit.register(lambda: print("exit hook ran", file=sys.stderr, flush=True))
sys.argv = ["gridops", *sys.argv[1:]]
from reconciler.cli.entry import run
run()
print("not reached", file=sys.stderr)
"""


def _gridops(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), (130, 130),
                                              (256 + 3, 3)])
def test_exit_codes_read_as_sys_exit_reads_them(code: int | None, status: int) -> None:
    assert _status(code) == status


def test_a_message_as_the_exit_code_is_printed_and_fails(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _status("stopped: the plan is stale") == 1
    assert capsys.readouterr().err == "stopped: the plan is stale\n"


def test_a_command_s_whole_output_arrives_and_the_exit_hooks_run(tmp_path: Path) -> None:
    done = _gridops(["schema", "cluster"], tmp_path)
    assert done.returncode == 0, done.stderr
    expected = CliRunner().invoke(main, ["schema", "cluster"], prog_name="gridops").output
    assert len(expected) > 8192  # more than one buffer's worth
    assert done.stdout == expected
    assert done.stderr == "exit hook ran\n"


def test_a_failed_command_keeps_its_status_its_message_and_the_exit_hooks(
        tmp_path: Path) -> None:
    (tmp_path / "clusters").mkdir()
    (tmp_path / "clusters" / "broken.yaml").write_text("kind: [unclosed\n")
    done = _gridops(["--repo", str(tmp_path), "validate"], tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("clusters/broken.yaml:2:1: YAML syntax error")
    assert done.stderr.startswith("error: 1 problem(s) found")
    assert done.stderr.endswith("exit hook ran\n")
    assert "not reached" not in done.stderr


def test_a_usage_error_keeps_gridops_usage_status(tmp_path: Path) -> None:
    done = _gridops(["--no-such-option"], tmp_path)
    assert done.returncode == EXIT_USAGE
    assert "No such option '--no-such-option'" in done.stderr
    assert done.stderr.endswith("exit hook ran\n")


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, "schema", "cluster"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # as `gridops schema cluster | head -1`
    err = child.stderr.read()
    child.wait(timeout=120)
    assert "Traceback" not in err and "Exception ignored" not in err, err


@pytest.mark.parametrize(("error", "status"), [("ENOSPC", 120), ("EPIPE", 0)],
                         ids=["disk-full", "reader-gone"])
def test_output_lost_at_the_end_fails_as_the_interpreter_s_exit_does_unless_the_reader_left(
        tmp_path: Path, error: str, status: int) -> None:
    child = ("import errno, io, sys\nfrom reconciler.cli.entry import leave\n"
             "class Lost(io.StringIO):\n"
             f"    def flush(self): raise OSError(errno.{error}, 'lost')\n"
             "sys.stdout = Lost()\nleave(0)\n")
    done = subprocess.run([sys.executable, "-c", child], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == status
    assert "Traceback" not in done.stderr


def test_output_to_a_full_disk_is_the_system_s_error_not_a_fault_to_report(
        tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", CHILD, "schema", "cluster"], cwd=tmp_path,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("error: No space left on device\n  hint: ")
    assert "internal error" not in done.stderr and "report it" not in done.stderr
    assert "Traceback" not in done.stderr
