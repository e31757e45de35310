"""Text from outside (file names, link targets, URLs, server answers) made safe to print.

A file named ``x\\n::warning title=injected::PWNED\\n.yaml`` printed as it is would start a
new log line that GitHub Actions reads as a workflow command; an escape sequence would drive
the terminal; a bidirectional control would reorder what a reviewer sees. ``printable``
writes every such character as an escape (``\\n``, ``\\x1b``, ``\\u202e``), so the text stays
on one line and means what it shows.
"""

from __future__ import annotations

import re
import unicodedata

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def has_unsafe(text: str) -> bool:
    """True when ``text`` holds a character ``printable`` would escape."""
    if text.isascii():
        return _ASCII_CONTROL.search(text) is not None
    return any(_unsafe(c) for c in text)


def printable(text: str) -> str:
    """``text`` on one line with every control or invisible formatting character escaped
    (and, then, backslashes doubled, so the escapes cannot be forged)."""
    if not has_unsafe(text):
        return text
    return "".join(_escape(c) if c == "\\" or _unsafe(c) else c for c in text)


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"
