"""The Grid cluster API over HTTP (grid-api.md): implements ``reconciler.ports.GridAPI``.

Every failure leaves this module as a ``GridAPIError`` subclass. Calls are logged at debug
(method, path, status, elapsed); credentials and request bodies never are.
"""

from __future__ import annotations

import base64
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from reconciler.errors import (
    ConfigError,
    GridAnswerLost,
    GridAPIError,
    GridAuthError,
    GridConflict,
    GridNotFound,
)
from reconciler.gridurl import KIND_SIM, check_grid_url, redact_url
from reconciler.live import retry
from reconciler.live.codec import (
    decode_json,
    error_message,
    parse_cluster,
    parse_cluster_list,
    parse_instance_types,
)
from reconciler.live.credentials import Credentials
from reconciler.live.transport import open_transport
from reconciler.logs import get_logger
from reconciler.model import PHASE_DELETED, LiveCluster
from reconciler.printable import printable

CLUSTERS_PATH = "/v1/core/clusters"
_AUTH_HINT = ("check GRID_USER_ID and GRID_API_KEY (or ~/.grid/credentials.json), and that "
              "GRID_URL is the Grid they belong to")
_log = get_logger("gridops.grid")


class GridClient:
    """A Grid API client with retries. Use as a context manager, or call ``close()``."""

    def __init__(self, base_url: str, credentials: Credentials | None, *,
                 timeout: float = 30.0, max_retries: int = 4, backoff: float = 0.5,
                 transport: httpx.BaseTransport | None = None) -> None:
        """``credentials`` None sends none (a plan against a Grid that is not the pinned one);
        ``base_url`` must pass the URL policy (``reconciler.gridurl``)."""
        self.base_url = _check_base_url(base_url)
        #: HTTP requests sent so far, retries included
        self.request_count = 0
        self._user_id = credentials.user_id if credentials else None
        self._max_retries = max_retries
        self._backoff = backoff
        self._count_lock = threading.Lock()
        #: what every request carries; httpx's Headers, so any repr masks the credentials
        self._headers = httpx.Headers({
            "Accept": "application/json", "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive", "User-Agent": "gridops",
            **({"Authorization": basic_authorization(credentials)} if credentials else {}),
        })
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}
        #: where requests go; None when a proxy is set, which httpx's client then speaks to
        #: (the transport checks an https Grid's certificates as httpx does by default)
        self._transport = transport or open_transport(self.base_url, verify=True)
        self._http = None if self._transport is not None else httpx.Client(
            follow_redirects=False, timeout=httpx.Timeout(timeout), verify=_tls(self.base_url),
            headers=self._headers)
        #: each path's absolute URL, parsed once (httpx's URL parsing, per request, cost as
        #: much as sending it)
        self._urls: dict[str, httpx.URL] = {}

    def __repr__(self) -> str:
        return f"GridClient({self.base_url!r}, user_id={self._user_id!r})"

    # --- the GridAPI port -------------------------------------------------------------------

    def list_clusters(self, *, phase_not_in: Sequence[str] = (PHASE_DELETED,),
                      phase_in: Sequence[str] = (), cluster_type_in: Sequence[str] = (),
                      cluster_type_not_in: Sequence[str] = ()) -> list[LiveCluster]:
        params = [("phaseIn", v) for v in phase_in] + [("phaseNotIn", v) for v in phase_not_in]
        params += [("clusterTypeIn", v) for v in cluster_type_in]
        params += [("clusterTypeNotIn", v) for v in cluster_type_not_in]
        body = self._call("GET", CLUSTERS_PATH, what="list clusters", params=params)
        return parse_cluster_list(body)

    def get_cluster(self, cluster_id: str) -> LiveCluster:
        body = self._call("GET", _cluster_path(cluster_id), what=f"get cluster {cluster_id!r}")
        return parse_cluster(body)

    def create_cluster(self, name: str, spec: Mapping[str, Any]) -> LiveCluster:
        body = self._call("POST", CLUSTERS_PATH, what=f"create cluster {name!r}",
                          json={"name": name, "spec": dict(spec)})
        return parse_cluster(body)

    def update_cluster(self, cluster_id: str, name: str,
                       spec: Mapping[str, Any]) -> LiveCluster:
        body = self._call("PUT", _cluster_path(cluster_id), what=f"update cluster {name!r}",
                          json={"name": name, "spec": dict(spec)})
        return parse_cluster(body)

    def delete_cluster(self, cluster_id: str, *, force: bool = False) -> None:
        # The answer is `{}`; nothing in it is used, so it is not checked.
        self._call("DELETE", _cluster_path(cluster_id), what=f"delete cluster {cluster_id!r}",
                   params=[("force", "true" if force else "false")], decode=False)

    def instance_types(self, cluster_id: str) -> list[dict[str, Any]]:
        """The instance types a cluster may use (``GET .../{id}/instance-types``)."""
        body = self._call("GET", f"{_cluster_path(cluster_id)}/instance-types",
                          what=f"list instance types of {cluster_id!r}")
        return parse_instance_types(body, cluster_id=cluster_id)

    # --- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> GridClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- HTTP -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, what: str,
              params: list[tuple[str, str]] | None = None, json: Any = None,
              decode: bool = True) -> Any:
        """Send with retries; the decoded JSON answer, or a GridAPIError."""
        idempotent = method != "POST"
        retrying = Retrying(
            stop=stop_after_attempt(self._max_retries + 1), reraise=True,
            retry=retry_if_exception(lambda e: retry.is_retryable_error(e, idempotent=idempotent)),
            wait=lambda state: retry.wait_seconds(state, backoff=self._backoff),
            before_sleep=lambda state: _log.warning(
                retry.describe_retry(state, what=what, attempts=self._max_retries + 1)),
        )
        changes = method != "GET"
        try:
            response = retrying(self._send, method, path, params, json, idempotent)
        except retry.RetryableAnswer as e:
            response = e.response
        except httpx.TransportError as e:
            tries = retrying.statistics.get("attempt_number", 1)
            tls = retry.tls_failure(e)
            if tls is not None:
                raise _tls_error(self.base_url, what, tls) from e
            if changes and not isinstance(e, retry.NEVER_SENT):
                raise GridAnswerLost(
                    f"the answer from Grid to {what} was lost ({type(e).__name__}): the "
                    "change may or may not have been made", hint=f"tried {tries} time(s)") from e
            raise GridAPIError(
                f"could not reach Grid at {self.base_url} to {what}: {type(e).__name__}",
                hint=f"check GRID_URL and the network; the call was tried {tries} time(s)") from e
        except httpx.RequestError as e:  # undecodable content, redirect loops, ...
            raise GridAPIError(f"Grid's answer to {what} could not be read: {type(e).__name__}",
                               hint="check GRID_URL points at a Grid API") from e
        if not response.is_success:
            error = _answer_error(response, what)
            if changes and response.status_code >= 500:
                raise GridAnswerLost(error.message, status=error.status, hint=error.hint)
            raise error
        if not decode:
            return None
        try:
            return decode_json(response.content, what=f"'{what}'")
        except GridAPIError as e:
            if changes:
                raise GridAnswerLost(e.message, status=e.status, hint=e.hint) from e
            raise

    def _send(self, method: str, path: str, params: list[tuple[str, str]] | None, json: Any,
              idempotent: bool) -> httpx.Response:
        with self._count_lock:
            self.request_count += 1
        start = time.monotonic()
        try:
            response = self._exchange(method, self._url(path, params), json)
        except httpx.TransportError as e:
            _log.debug("grid.request", method=method, path=path, error=type(e).__name__,
                       elapsed_ms=round((time.monotonic() - start) * 1000, 1))
            raise
        _log.debug("grid.request", method=method, path=path, status=response.status_code,
                   elapsed_ms=round((time.monotonic() - start) * 1000, 1))
        if retry.is_retryable_status(response.status_code, idempotent=idempotent):
            raise retry.RetryableAnswer(response)
        return response

    def _exchange(self, method: str, url: httpx.URL, json: Any) -> httpx.Response:
        """One request and its whole answer, handed straight to the transport: the layers of
        httpx's client (cookies, auth flows, redirects, event hooks: none of which a Grid
        call uses) cost as much CPU as the exchange itself. Through the client when a proxy
        is set."""
        if self._http is not None:
            return self._http.request(method, url, json=json)
        assert self._transport is not None
        request = httpx.Request(method, url, headers=self._headers, json=json,
                                extensions=self._extensions)
        response = self._transport.handle_request(request)
        response.request = request
        try:
            response.read()
        finally:
            response.close()
        return response

    def _url(self, path: str, params: list[tuple[str, str]] | None) -> httpx.URL:
        if params:
            return httpx.URL(self.base_url + path, params=params)
        url = self._urls.get(path)
        if url is None:
            url = httpx.URL(self.base_url + path)
            if len(self._urls) < _URLS_KEPT:
                self._urls[path] = url
        return url


#: paths whose URL the client keeps (the cluster paths it calls again and again)
_URLS_KEPT = 1000


def basic_authorization(credentials: Credentials) -> str:
    """The ``Authorization`` header of HTTP Basic auth, as httpx's ``BasicAuth`` makes it."""
    pair = f"{credentials.user_id}:{credentials.api_key}".encode()
    return f"Basic {base64.b64encode(pair).decode('ascii')}"


def _cluster_path(cluster_id: str) -> str:
    return f"{CLUSTERS_PATH}/{quote(cluster_id, safe='')}"


def _tls(base_url: str) -> ssl.SSLContext | bool:
    """How httpx's client (the one a proxy gets) checks certificates: for https, httpx's
    default (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR). For http (loopback only, by
    the URL policy) no TLS is ever spoken, so the client gets a context that trusts no
    certificate at all rather than paying 0.08 s of every run to load a bundle it never uses.
    Without a proxy nothing is made here: gridops' own transport speaks plain http without a
    context, and makes an https Grid's (the default checks) itself."""
    if base_url[:6].lower() == "https:":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _check_base_url(base_url: str) -> str:
    target = check_grid_url(base_url)
    if target.kind == KIND_SIM:
        raise ConfigError(f"Grid URL {redact_url(base_url)} is an emulator URL, not an "
                          "http(s) URL", hint="open it with reconciler.live.open_grid")
    return target.url


def _tls_error(base_url: str, what: str, error: BaseException) -> GridAPIError:
    reason = getattr(error, "verify_message", "") or getattr(error, "reason", "") or str(error)
    return GridAPIError(
        f"could not {what}: the TLS certificate of {redact_url(base_url)} was refused "
        f"({printable(str(reason))}); nothing was sent", hint=_TLS_HINT)


_TLS_HINT = ("if this Grid uses a private certificate authority, point SSL_CERT_FILE at a PEM "
             "bundle that holds its CA certificate (SSL_CERT_DIR for a folder); otherwise check "
             "GRID_URL: the server is not the Grid it claims to be")


def _answer_error(response: httpx.Response, what: str) -> GridAPIError:
    status = response.status_code
    if response.is_redirect or 300 <= status < 400:
        location = response.headers.get("Location", "")
        return GridAPIError(
            f"Grid answered {what} with a redirect (HTTP {status}) to "
            f"{redact_url(location) if location else '(no Location)'}: gridops does not follow "
            "redirects, so credentials go only to the Grid URL", status=status,
            hint="if the Grid moved, set GRID_URL (or gridUrl) to the new address")
    message = f"Grid refused to {what}: {printable(error_message(response.content))} " \
              f"(HTTP {status})"
    if status in (401, 403):
        return GridAuthError(message, status=status, hint=_AUTH_HINT)
    if status == 404:
        return GridNotFound(message, status=status)
    if status == 409:
        return GridConflict(message, status=status)
    if status == 429:
        return GridAPIError(message, status=status,
                            hint="Grid is rate limiting these calls; wait and run again")
    if status >= 500:
        text = printable(error_message(response.content))
        return GridAPIError(f"Grid failed to {what}: {text} (HTTP {status})", status=status,
                            hint="a server error at Grid; try again later")
    return GridAPIError(message, status=status)
