from __future__ import annotations

import pytest

from reconciler.github.budget import (
    Sized,
    cap_text,
    count_fitting,
    keep_counts,
    measure,
)


@pytest.mark.parametrize(("text", "at_least"), [
    ("abc", 3), ("a\nb", 4), ("é", 2), ("🚀", 4), ("é\n" * 10, 40),
], ids=["ascii", "newline-as-crlf", "two-byte", "astral", "repeated"])
def test_measure_never_counts_less_than_github_could(text: str, at_least: int) -> None:
    assert measure(text) >= at_least
    assert measure(text) >= len(text.encode("utf-16-le")) // 2


def _sized(lines: int, width: int = 10) -> Sized:
    return Sized(frame=50, lines=(width,) * lines, collapsed=20, note=30)


def test_bodies_that_fit_are_kept_whole() -> None:
    assert keep_counts([_sized(3), _sized(5)], room=1000) == [3, 5]


def test_the_longest_body_is_cut_first_and_short_ones_stay_whole() -> None:
    keep = keep_counts([_sized(2), _sized(100), _sized(3)], room=50 * 3 + 50 + 300)
    assert keep is not None
    assert keep[0] == 2 and keep[2] == 3
    assert 0 < keep[1] < 100


def test_sections_fold_to_one_line_when_no_body_line_fits() -> None:
    assert keep_counts([_sized(100), _sized(100)], room=45) == [0, 0]


def test_nothing_fits_when_even_one_line_each_is_too_much() -> None:
    assert keep_counts([_sized(5)] * 10, room=100) is None


@pytest.mark.parametrize(("room", "expected"), [(1000, 10), (55, 4), (15, 0)],
                         ids=["all", "some-then-more", "only-more"])
def test_count_fitting_leaves_room_for_the_more_line(room: int, expected: int) -> None:
    assert count_fitting([10] * 10, room, more=15) == expected


def test_cap_text_never_exceeds_the_limit_and_cuts_at_a_line_end() -> None:
    text = "\n".join(f"line {i} " + "x" * 50 for i in range(5000))
    capped = cap_text(text, 10_000)
    assert measure(capped) <= 10_000
    assert capped.endswith("cut here to fit GitHub's size limit.**\n")
    assert capped.split("\n\n**...")[0].endswith("x" * 50)
