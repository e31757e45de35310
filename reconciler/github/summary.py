"""The job summary (``GITHUB_STEP_SUMMARY``): markdown appended to a file GitHub shows on the
run's page. A step's summary may hold at most 1 MiB; past that GitHub drops it, so an append
that would not fit is replaced by a short note. The summary is a courtesy: a file that cannot
be written is logged, never a reason for the command to fail."""

from __future__ import annotations

from pathlib import Path

from reconciler.github.budget import SUMMARY_LIMIT
from reconciler.logs import get_logger

_log = get_logger(__name__)

FULL_NOTE = ("\n> [!NOTE]\n> The job summary is full (GitHub keeps at most 1 MiB a step): "
             "the whole plan is in the `gridops-plan` artifact of this run.\n")


def write_step_summary(path: str | Path | None, markdown: str) -> bool:
    """Append ``markdown`` to the summary file. False when nothing was written: no file
    (outside Actions), no room, or the file cannot be written (logged as a warning)."""
    if not path:
        return False
    target = Path(path)
    try:
        used = target.stat().st_size if target.exists() else 0
        text = markdown if used + len(markdown.encode()) + 1 <= SUMMARY_LIMIT else FULL_NOTE
        if used + len(text.encode()) + 1 > SUMMARY_LIMIT:
            return False
        with target.open("a", encoding="utf-8") as out:
            out.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        _log.warning("the job summary cannot be written", path=str(target),
                     error=e.strerror or str(e))
        return False
    return True
