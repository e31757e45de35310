from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reconciler.github.budget import SUMMARY_LIMIT
from reconciler.github.summary import write_step_summary


def test_summary_is_appended_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    assert write_step_summary(path, "# plan")
    assert write_step_summary(str(path), "# apply\n")
    assert path.read_text() == "# plan\n# apply\n"


def test_no_summary_file_outside_actions_writes_nothing() -> None:
    assert write_step_summary(None, "# plan") is False


def test_summary_past_one_mebibyte_is_replaced_by_a_note(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("x" * (SUMMARY_LIMIT - 1000))
    assert write_step_summary(path, "y" * 5000)
    assert "yyy" not in path.read_text() and "job summary is full" in path.read_text()
    assert path.stat().st_size <= SUMMARY_LIMIT


@pytest.mark.parametrize("where", ["inside-a-file", "missing-folder"])
def test_unwritable_summary_is_a_warning_not_a_failure(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    folder = "a-file" if where == "inside-a-file" else "missing-folder"
    path = tmp_path / folder / "summary.md"

    with capture_logs() as logs:
        written = write_step_summary(path, "# plan")

    assert written is False
    assert [(e["log_level"], e["event"], e["path"]) for e in logs] == [
        ("warning", "the job summary cannot be written", str(path))]
