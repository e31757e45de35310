"""Whether to colour what gridops writes: only at a terminal, never with ``NO_COLOR`` or
``--no-color``, always with ``FORCE_COLOR`` (https://no-color.org, https://force-color.org).
One rule for the plan on stdout and the logs on stderr."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO


def use_color(stream: TextIO, env: Mapping[str, str], *, disabled: bool = False) -> bool:
    """``--no-color`` (``disabled``) and a non-empty ``NO_COLOR`` win; then a non-empty
    ``FORCE_COLOR`` other than ``0``; else whether ``stream`` is a terminal."""
    if disabled or env.get("NO_COLOR"):
        return False
    force = env.get("FORCE_COLOR")
    if force:
        return force != "0"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
