"""Fitting markdown into GitHub's size limits. Pure arithmetic over measured sizes.

GitHub refuses a comment or issue body over 65,536 characters (422) and a step's job summary
over 1 MiB. ``measure`` over-counts on purpose (UTF-8 bytes, each newline as CRLF), so text it
accepts fits however GitHub counts; ``COMMENT_MARGIN`` is kept free on top.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

#: GitHub's limit on a comment or issue body, in characters.
COMMENT_LIMIT = 65536
#: GitHub's limit on one step's job summary, in bytes.
SUMMARY_LIMIT = 1024 * 1024
#: Room kept free below a limit, for anything our count might miss.
COMMENT_MARGIN = 1024


def measure(text: str) -> int:
    """A size never below GitHub's count of ``text``."""
    return len(text.encode("utf-8")) + text.count("\n")


def usable(limit: int) -> int:
    """What rendering may fill of ``limit``."""
    return max(limit - min(COMMENT_MARGIN, limit // 16), 0)


@dataclass(frozen=True)
class Sized:
    """The measured parts of one section that may be shortened.

    ``frame``: everything shown around the body lines when at least one is kept;
    ``lines``: each body line (its newline included); ``collapsed``: the one-line form shown
    when no body line is kept (or the section has none); ``note``: the "N more lines" line
    added when the body is cut.
    """

    frame: int
    lines: tuple[int, ...]
    collapsed: int
    note: int

    def size(self, keep: int) -> int:
        """The section's size with its first ``keep`` body lines."""
        if not self.lines or keep <= 0:
            return self.collapsed
        kept = sum(self.lines[:keep])
        return self.frame + kept + (self.note if keep < len(self.lines) else 0)


def keep_counts(sections: Sequence[Sized], room: int) -> list[int] | None:
    """How many body lines of each section to keep so that all of them fit in ``room``.

    Every body is kept whole when it can be; otherwise all bodies are cut to the same length
    cap, the largest that fits, so the longest diffs are the ones shortened. A count of 0
    means the one-line form. ``None`` when even every section as one line does not fit.
    """
    sums = [list(accumulate(s.lines)) for s in sections]

    def counts(cap: int) -> list[int]:
        return [len(c) if not c or c[-1] <= cap else bisect_right(c, cap) for c in sums]

    def total(keep: list[int]) -> int:
        return sum(s.size(k) for s, k in zip(sections, keep, strict=True))

    whole = [len(s.lines) for s in sections]
    if total(whole) <= room:
        return whole
    best: list[int] | None = None
    low, high = 0, max((c[-1] for c in sums if c), default=0)
    while low <= high:
        cap = (low + high) // 2
        keep = counts(cap)
        if total(keep) <= room:
            best, low = keep, cap + 1
        else:
            high = cap - 1
    return best


def count_fitting(sizes: Sequence[int], room: int, more: int) -> int:
    """How many leading items of ``sizes`` fit in ``room`` with a ``more`` line after them
    (all of them when they fit without one)."""
    if sum(sizes) <= room:
        return len(sizes)
    used, count = more, 0
    for size in sizes:
        if used + size > room:
            break
        used, count = used + size, count + 1
    return count


def cut_lines(lines: Sequence[str], room: int, more: int) -> int:
    """How many leading ``lines`` (each followed by a newline) fit in ``room`` with a
    ``more``-sized note after them, or all of them without one."""
    return count_fitting([measure(line + "\n") for line in lines], room, more)


def cap_text(text: str, limit: int) -> str:
    """``text`` cut at a line end to fit ``limit``: a last guard that should never act."""
    if measure(text) <= limit:
        return text
    note = "\n\n**... cut here to fit GitHub's size limit.**\n"
    while text and measure(text) + measure(note) > limit:
        text = text[: len(text) - max(len(text) // 8, 64)]
        text = text[: max(text.rfind("\n"), 0)]
    return text + note
