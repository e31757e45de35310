from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.live.credentials import Credentials, load_credentials

KEY = "very-secret-api-key-31337"


def _write(home: Path, text: str | bytes) -> Path:
    path = home / ".grid" / "credentials.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_environment_variables_win_over_the_file(tmp_path: Path) -> None:
    _write(tmp_path, json.dumps({"UserID": "file-user", "APIKey": "file-key"}))
    creds = load_credentials({"GRID_USER_ID": "env-user", "GRID_API_KEY": KEY}, tmp_path)
    assert creds == Credentials("env-user", KEY)


def test_file_is_read_when_the_environment_has_no_credentials(tmp_path: Path) -> None:
    _write(tmp_path, json.dumps({"UserID": "file-user", "APIKey": KEY}))
    assert load_credentials({}, tmp_path) == Credentials("file-user", KEY)


def test_missing_credentials_say_how_to_set_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_credentials({}, tmp_path)
    assert "GRID_USER_ID" in caught.value.message
    assert caught.value.hint and "GRID_API_KEY" in caught.value.hint


def test_only_one_variable_set_names_the_missing_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GRID_API_KEY is not set"):
        load_credentials({"GRID_USER_ID": "someone"}, tmp_path)


@pytest.mark.parametrize("text", [
    f'{{"UserID": "u", "APIKey": "{KEY}"',
    json.dumps(["u", KEY]),
    json.dumps({"UserID": "u"}),
    json.dumps({"UserID": "u", "APIKey": 12345}),
    b'{"UserID": "u", "APIKey": "\xff\xfe' + KEY.encode() + b'"}',
], ids=["truncated-json", "not-an-object", "no-key", "key-not-string", "not-utf8"])
def test_malformed_file_is_a_config_error_naming_the_file(tmp_path: Path,
                                                          text: str | bytes) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_credentials({}, tmp_path)
    assert str(path) in caught.value.message
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None or KEY not in str(caught.value.__cause__)


def test_the_key_never_shows_in_repr_or_str() -> None:
    creds = Credentials("someone", KEY)
    assert KEY not in repr(creds)
    assert KEY not in str(creds)
    assert "someone" in repr(creds)
