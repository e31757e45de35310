"""Where Grid credentials may go: the URL policy, checked before any request; TLS refusals
and redirects said plainly, never retried or followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import run
from reconciler.errors import ConfigError, GridAPIError
from reconciler.gridurl import KIND_LOOPBACK, KIND_REMOTE, KIND_SIM, check_grid_url
from reconciler.live import open_grid
from reconciler.live.client import GridClient
from reconciler.live.credentials import Credentials
from tests.recorder import recording_server, self_signed_cert

KEY = "canary-api-key-4f9e2d"
ENV = {"GRID_USER_ID": "canary-user", "GRID_API_KEY": KEY}


@pytest.mark.parametrize(("url", "kind"), [
    ("https://platform.grid.ai", KIND_REMOTE),
    ("HTTPS://Platform.Grid.ai/", KIND_REMOTE),
    ("http://127.0.0.1:8080", KIND_LOOPBACK),
    ("http://localhost:8080", KIND_LOOPBACK),
    ("http://[::1]:8080", KIND_LOOPBACK),
    ("sim://.gridops/sim.db", KIND_SIM),
], ids=["https", "upper-case", "http-loopback-v4", "http-localhost", "http-loopback-v6", "sim"])
def test_grid_urls_credentials_may_go_to(url: str, kind: str) -> None:
    assert check_grid_url(url).kind == kind


@pytest.mark.parametrize(("url", "expected"), [
    ("http://grid.attacker.example", "plain http to another machine"),
    ("http://10.0.0.5", "plain http to another machine"),
    ("https://169.254.169.254/latest", "link-local or cloud metadata"),
    ("https://[fd00:ec2::254]/", "link-local or cloud metadata"),
    ("https://[fe80::1]/", "link-local or cloud metadata"),
    ("https://[::ffff:169.254.169.254]/", "link-local or cloud metadata"),
    ("https://2852039166/", "link-local or cloud metadata"),
    ("https://0xa9.0xfe.0xa9.0xfe/", "link-local or cloud metadata"),
    ("https://metadata.google.internal/", "link-local or cloud metadata"),
    ("https://me:hunter2-secret@platform.grid.ai", "carries user info"),
    ("https://platform.grid.ai@evil.example", "carries user info"),
    ("https://me:hunter2-secret/x+y@platform.grid.ai", "carries user info"),
    ("https://platform.grid.ai\\@evil.example", "backslash"),
    ("https://platform.grid.ai\r\nX-Injected: 1", "control character"),
    ("https://platform.grid.ai/\x1b[31m", "control character"),
    ("http://[::1", "not a valid URL"),
    ("https://platform.grid.ai:99999", "not a valid URL"),
    ("ftp://platform.grid.ai", "neither https://"),
    ("file:///etc/passwd", "neither https://"),
    ("platform.grid.ai", "neither https://"),
    ("https://", "names no usable host"),
], ids=["http-remote", "http-private", "metadata-v4", "metadata-v6", "link-local-v6",
        "mapped-metadata", "decimal-metadata", "hex-metadata", "metadata-name", "user-info",
        "at-sign", "password-with-slash", "backslash", "crlf", "escape", "unclosed-bracket",
        "bad-port", "ftp", "file", "no-scheme", "no-host"])
def test_grid_urls_refused_before_any_request(url: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        check_grid_url(url)
    assert "hunter2-secret" not in str(caught.value) and "\r" not in str(caught.value)
    with pytest.raises(ConfigError, match=expected), \
            open_grid(url, env=ENV, home=tmp_path, repo_root=tmp_path):
        pass  # never reached; the autouse socket guard would refuse a connection anyway


@pytest.mark.parametrize("url", ["http://grid.attacker.example", "https://169.254.169.254",
                                 "http://[::1"], ids=["http-remote", "metadata", "invalid"])
def test_aws_checks_auto_never_takes_a_refused_url_for_a_real_grid(url: str) -> None:
    with pytest.raises(ConfigError):
        run.checks_enabled("auto", url)


def test_a_refused_certificate_is_said_plainly_and_tried_once(tmp_path: Path) -> None:
    with recording_server(tls_cert=self_signed_cert(tmp_path)) as grid, \
            GridClient(grid.url, Credentials("u", KEY), backoff=0.01) as client, \
            pytest.raises(GridAPIError) as caught:
        client.list_clusters()
    text = str(caught.value)
    assert "TLS certificate" in text and "was refused" in text and "SSL_CERT_FILE" in text
    assert grid.connections == 1 and grid.requests == []


def test_ssl_cert_file_trusts_a_private_ca(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cert = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    with recording_server(tls_cert=cert) as grid, \
            GridClient(grid.url, Credentials("u", KEY)) as client:
        assert client.list_clusters() == []
    assert len(grid.requests) == 1


def test_a_redirect_names_its_location_and_is_not_followed() -> None:
    with recording_server() as grid:
        grid.status, grid.body = 301, b""
        grid.headers = {"Location": "https://grid.elsewhere.example/v1/core/clusters"}
        with GridClient(grid.url, Credentials("u", KEY)) as client, \
                pytest.raises(GridAPIError) as caught:
            client.list_clusters()
    assert "redirect (HTTP 301) to 'https://grid.elsewhere.example/v1/core/clusters'" in \
        caught.value.message
    assert len(grid.requests) == 1


def test_a_redirect_location_with_user_info_is_not_echoed() -> None:
    with recording_server() as grid:
        grid.status, grid.body = 302, b""
        grid.headers = {"Location": "https://u:leaked-password@grid.example/"}
        with GridClient(grid.url, Credentials("u", KEY)) as client, \
                pytest.raises(GridAPIError) as caught:
            client.list_clusters()
    assert "leaked-password" not in str(caught.value) and "***@grid.example" in str(caught.value)


def test_grid_error_text_is_printed_escaped() -> None:
    with recording_server() as grid:
        grid.status = 400
        grid.body = b'{"message": "bad\\n::warning title=x::PWNED"}'
        with GridClient(grid.url, Credentials("u", KEY)) as client, \
                pytest.raises(GridAPIError) as caught:
            client.list_clusters()
    assert "\n" not in caught.value.message and "bad\\n::warning" in caught.value.message
