"""Small text helpers shared by the markdown renderers. Pure."""

from __future__ import annotations

import html
from collections.abc import Callable

#: Replaces secret values in a text (``Masker.mask``); the identity when nothing is secret.
Mask = Callable[[str], str]


def no_mask(text: str) -> str:
    return text


def inline(text: str, limit: int) -> str:
    """Text safe on one markdown/HTML line: no newlines, no tags, at most ``limit`` long."""
    return clip(html.escape(" ".join(text.split()), quote=False), limit)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plural(count: int, noun: str) -> str:
    """``1 cluster``, ``2 clusters``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
