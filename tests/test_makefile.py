"""The Makefile's set-up: `make demo` installs gridops' runtime dependencies only, `make test`
adds the test and dev extras on top, in either order (read from `make -n -B`, which prints
every command a fresh clone would run without running them)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _commands(target: str) -> list[str]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    done = subprocess.run([make, "-n", "-B", target], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, check=True)
    return [line for line in done.stdout.splitlines() if "pip" in line and "install" in line]


def test_demo_installs_only_the_runtime_dependencies_quietly() -> None:
    installs = _commands("demo")
    assert len(installs) == 1
    assert installs[0].endswith("install -e .") and "[" not in installs[0]
    assert "--quiet" in installs[0] and "--disable-pip-version-check" in installs[0]


def test_test_adds_the_extras_after_the_runtime_install() -> None:
    installs = _commands("test")
    assert len(installs) == 2
    assert installs[0].endswith("install -e .")
    assert installs[1].endswith("install -e '.[test,dev]'")


def test_the_editable_install_needs_no_import_hook() -> None:
    # setuptools makes a plain .pth editable install (and no warning) only when every package
    # sits where its name says; reconciler.schemas is a folder of the package, not a mapping.
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"": "."}
    assert all((ROOT / p.replace(".", "/")).is_dir() for p in config["packages"])
