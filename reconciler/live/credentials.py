"""Grid credentials, found the way the Grid CLI finds them.

``GRID_USER_ID`` and ``GRID_API_KEY`` from the environment win; otherwise
``~/.grid/credentials.json`` holding ``{"UserID": "...", "APIKey": "..."}``. The API key never
appears in a repr, a log line or an error message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ConfigError

CREDENTIALS_FILE = Path(".grid") / "credentials.json"
_HOW_TO_SET = ("export GRID_USER_ID=... and GRID_API_KEY=... (or run `grid login`, which writes "
               "~/.grid/credentials.json)")


@dataclass(frozen=True)
class Credentials:
    """What Grid's HTTP basic auth needs."""

    #: the Grid user id (not secret; safe to log)
    user_id: str
    #: the API key (secret: left out of repr and str)
    api_key: str = field(repr=False)

    def __str__(self) -> str:
        return f"Credentials(user_id={self.user_id!r}, api_key=***)"


def load_credentials(env: Mapping[str, str], home: Path) -> Credentials:
    """Credentials from ``env``, else from ``home/.grid/credentials.json``."""
    user_id, api_key = env.get("GRID_USER_ID", ""), env.get("GRID_API_KEY", "")
    if user_id and api_key:
        return Credentials(user_id=user_id, api_key=api_key)
    if user_id or api_key:
        missing = "GRID_API_KEY" if user_id else "GRID_USER_ID"
        raise ConfigError(f"{missing} is not set (the other Grid credential is)",
                          hint=_HOW_TO_SET)
    path = home / CREDENTIALS_FILE
    if not path.exists():
        raise ConfigError("no Grid credentials: GRID_USER_ID/GRID_API_KEY are not set and "
                          f"{path} does not exist", hint=_HOW_TO_SET)
    return parse_credentials_file(path)


def parse_credentials_file(path: Path) -> Credentials:
    """Read a credentials file; a malformed one is a ConfigError naming the file."""
    shape = "it should hold {\"UserID\": ..., \"APIKey\": ...}"
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read Grid credentials file {path}: {e.strerror}",
                          hint=shape) from e
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        # Decoder errors carry the file's text (maybe the key), so they are not chained.
        raise ConfigError(f"Grid credentials file {path} is not valid JSON",
                          hint=f"{shape}; {_HOW_TO_SET}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Grid credentials file {path} does not hold a JSON object",
                          hint=shape)
    user_id, api_key = data.get("UserID"), data.get("APIKey")
    for key, value in (("UserID", user_id), ("APIKey", api_key)):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"Grid credentials file {path} has no string {key!r}",
                              hint=shape)
    assert isinstance(user_id, str) and isinstance(api_key, str)
    return Credentials(user_id=user_id, api_key=api_key)

