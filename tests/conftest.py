"""Shared test set-up: no test may reach beyond loopback, and no test sees real credentials."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

pytest_plugins = ["tests.sim_fixtures", "tests.github.standin"]

# Quiet by default: library code logs through structlog, and the CLI configures it per run.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: Any) -> None:
    host = address[0] if isinstance(address, tuple) and address else None
    if isinstance(host, str) and not _is_loopback(host):
        raise RuntimeError(f"test tried to reach {address[0]!r}: only loopback is allowed")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse any connection or name lookup that leaves loopback."""

    def connect(self: socket.socket, address: Any) -> Any:
        _check(address)
        return _real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        _check(address)
        return _real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and not _is_loopback(str(host)):
            raise RuntimeError(f"test tried to resolve {host!r}: only loopback is allowed")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No real credentials or CI context leak into a test; HOME is an empty folder."""
    for name in ("GRID_URL", "GRID_USER_ID", "GRID_API_KEY", "GITHUB_TOKEN", "GITHUB_ACTIONS",
                 "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH", "GITHUB_STEP_SUMMARY",
                 "GITHUB_API_URL", "GITHUB_EVENT_NAME", "GITHUB_RUN_ID", "CI",
                 "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "gridops tests")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "tests@gridops.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "gridops tests")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "tests@gridops.invalid")
