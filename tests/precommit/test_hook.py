"""The pre-commit hook (.pre-commit-hooks.yaml) as another repository uses it: `pre-commit
try-repo` builds the hook's environment from this checkout (pip, from the package index) and
runs it on a scratch repository of cluster documents. It takes about a minute, once."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from tests.cli.conftest import cluster_doc

ROOT = Path(__file__).resolve().parents[2]


def test_the_manifest_declares_a_python_hook_on_documents_and_settings() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "gridops-validate" and hook["language"] == "python"
    assert hook["entry"] == "gridops validate" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("clusters/team/a.yaml") and files.search("gridops.yaml")
    assert files.search("clusters/a.yml") and not files.search("README.md")


def _scratch(root: Path) -> None:
    repo = git.Repo.init(root, initial_branch="main")
    (root / "clusters" / "a").mkdir(parents=True)
    (root / "clusters" / "a" / "good.yaml").write_text(cluster_doc("good"))
    (root / "clusters" / "a" / "zone.yaml").write_text(cluster_doc("zone", region="us-east-1a"))
    repo.git.add(A=True)
    repo.index.commit("clusters")


def _environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRID")}
    env["PRE_COMMIT_HOME"] = str(tmp / "pre-commit-home")
    # The tests run with a temporary HOME; pip's own cache makes the hook's install quicker.
    cache = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "pip"
    if cache.is_dir():
        env.setdefault("PIP_CACHE_DIR", str(cache))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def test_try_repo_runs_gridops_validate_and_fails_on_a_bad_document(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (it is in the test extra)")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    _scratch(scratch)
    done = subprocess.run([pre_commit, "try-repo", str(ROOT), "gridops-validate", "--all-files"],
                          cwd=scratch, env=_environment(tmp_path), capture_output=True,
                          text=True, timeout=540, check=False)
    out = done.stdout + done.stderr
    if "An error has occurred" in out and "- hook id: gridops-validate" not in out:
        pytest.skip(f"pre-commit could not build the hook's environment: {out[-500:]}")
    assert done.returncode == 1, out
    assert "gridops validate" in out and "Failed" in out
    assert "clusters/a/zone.yaml:6:11: " in out and "availability zone" in out
    assert "good.yaml" not in out
