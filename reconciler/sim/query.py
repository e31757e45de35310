"""Query parameters read as grpc-gateway reads them (pure).

grpc-gateway parses a boolean with Go's ``strconv.ParseBool`` and an integer with
``strconv.ParseInt``; the last value wins when a parameter is repeated. So the grid CLI's
``?force=False`` (Python's spelling) is false, and ``?force=no`` is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.sim.wire import ApiError

#: what ``strconv.ParseBool`` accepts
TRUE_WORDS = ("1", "t", "T", "TRUE", "true", "True")
FALSE_WORDS = ("0", "f", "F", "FALSE", "false", "False")
_INT64 = 2 ** 63


def read_bool(query: Mapping[str, list[str]], key: str, *, default: bool = False) -> bool:
    values = query.get(key)
    if not values:
        return default
    text = values[-1]
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ApiError(400, f"type mismatch, parameter: {key}, error: strconv.ParseBool: parsing "
                        f"{text!r}: invalid syntax (use true or false)")


def read_int(query: Mapping[str, list[str]], key: str, *, default: int = 0) -> int:
    values = query.get(key)
    if not values:
        return default
    text = values[-1]
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()) or not -_INT64 <= int(text) < _INT64:
        raise ApiError(400, f"type mismatch, parameter: {key}, error: strconv.ParseInt: "
                            f"parsing {text!r}: invalid syntax (use a whole number)")
    return int(text)
