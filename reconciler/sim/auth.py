"""Who may call the emulator: HTTP basic auth with the user id and API key, or a bearer
token from ``POST /v1/auth/login`` (``V1LoginRequest`` -> ``V1LoginResponse``).

``grid login --username NAME --key KEY`` posts ``{"username", "apiKey"}``, then reads
``GET /v1/auth/user`` with ``Authorization: Bearer TOKEN`` to learn the user id, and from
then on sends basic auth. The username may be the user id, or the ``username`` option.
Tokens live in memory only, for the server's lifetime (or their ``duration``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from reconciler.sim.wire import ApiError, read_object

#: how long a token lives when the login names no ``duration``
DEFAULT_TOKEN_SECONDS = 24 * 3600.0
_DURATION = re.compile(r"^(?P<seconds>\d{1,12}(?:\.\d{1,9})?)s$")  # protobuf Duration JSON
_UNAUTHENTICATED = ("missing or wrong credentials: send HTTP basic auth with your Grid user id "
                    "and API key, or a token from /v1/auth/login")


class Auth:
    """Checks credentials and hands out login tokens."""

    def __init__(self, user_id: str, api_key: str, *, username: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self._user_id = user_id
        self._api_key = api_key
        self._usernames = {user_id, username} - {""}
        self._expected = f"{user_id}:{api_key}".encode()
        self._clock = clock
        self._tokens: dict[str, float] = {}  # token -> when it expires
        self._lock = threading.Lock()

    def check(self, credential: str) -> None:
        """ApiError 401 unless ``credential`` (an ``Authorization`` value: ``Basic ...`` or
        ``Bearer ...``) is good."""
        scheme, _, token = credential.strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "basic" and hmac.compare_digest(_decoded(token), self._expected):
            return
        if scheme.lower() == "bearer" and self._token_is_live(token):
            return
        raise ApiError(401, _UNAUTHENTICATED)

    def login(self, body: bytes) -> dict[str, Any]:
        data = read_object(body, allowed=("username", "apiKey", "api_key", "duration"))
        username, api_key = data.get("username"), data.get("apiKey", data.get("api_key"))
        if not isinstance(username, str) or not isinstance(api_key, str):
            raise ApiError(400, "a login needs a 'username' and an 'apiKey' (strings)")
        seconds = _read_duration(data.get("duration"))
        known = any(hmac.compare_digest(username.encode(), u.encode()) for u in self._usernames)
        if not (known and hmac.compare_digest(api_key.encode(), self._api_key.encode())):
            raise ApiError(401, "invalid username or API key")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._clock() + seconds
        return {"token": token}

    def user(self) -> dict[str, Any]:
        """``V1GetUserResponse`` of the one user (never its API key)."""
        username = next(iter(sorted(self._usernames - {self._user_id})), self._user_id)
        return {"id": self._user_id, "username": username,
                "status": {"verified": True, "completedSignup": True, "installedGrid": True}}

    def _token_is_live(self, token: str) -> bool:
        now = self._clock()
        with self._lock:
            for known in [t for t, expires in self._tokens.items() if expires <= now]:
                del self._tokens[known]
            return any(hmac.compare_digest(token.encode(), t.encode()) for t in self._tokens)


def _decoded(token: str) -> bytes:
    try:
        return base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _read_duration(value: Any) -> float:
    if value is None or value == "":
        return DEFAULT_TOKEN_SECONDS
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or float(match["seconds"]) <= 0:
        raise ApiError(400, f"duration must be a protobuf duration such as '3600s', "
                            f"not {value!r}")
    return float(match["seconds"])
