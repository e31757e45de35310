"""HTTP to GitHub's REST API: the headers GitHub asks for, retries that honour its rate limits,
pagination by ``Link`` headers, and every failure turned into a ``GitHubError``.

The token travels only in the ``Authorization`` header and only to the API's own origin (a
pagination link to another host is refused); it never appears in a log line or an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from reconciler.errors import GitHubError
from reconciler.logs import get_logger

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
#: GitHub's advice for a secondary rate limit that names no wait: at least a minute.
SECONDARY_LIMIT_WAIT = 60.0

_log = get_logger(__name__)


class GitHubStatusError(GitHubError):
    """GitHub answered with an error status; ``status`` is the HTTP code."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class _Retry(Exception):
    """A failure worth another attempt; ``wait`` is the server's own wait when it gave one."""

    def __init__(self, what: str, wait: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.wait = wait


class RestSession:
    """One authenticated connection to a GitHub REST API root (github.com or GHES)."""

    def __init__(self, api_url: str, token: str, *, max_retries: int = 3, backoff: float = 1.0,
                 max_wait: float = 120.0, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        if not token:
            raise GitHubError("no GitHub token", hint="set GITHUB_TOKEN or pass --github-token")
        self._root = api_url.rstrip("/")
        self._origin = _origin(self._root)
        self._max_retries = max_retries
        self._backoff = backoff
        self._max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            timeout=timeout, transport=transport, follow_redirects=False,
            headers={"Authorization": f"Bearer {token}",
                     "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION,
                     "User-Agent": "gridops"})

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, idempotent: bool | None = None) -> httpx.Response:
        """Send one call, retrying rate limits always and server errors when it is safe to.

        ``path`` is relative to the API root, or an absolute URL on the same origin.
        ``idempotent`` defaults to every method but POST: a POST that may have been carried
        out is not sent twice (it could make a second comment).
        """
        safe = method != "POST" if idempotent is None else idempotent
        url = self._url(path)
        retrying = Retrying(stop=stop_after_attempt(self._max_retries + 1), wait=self._wait,
                            retry=retry_if_exception_type(_Retry), sleep=self._sleep,
                            reraise=True)
        try:
            return retrying(self._send_once, method, url, params, json, safe)
        except _Retry as e:
            raise GitHubError(
                f"GitHub {method} {_path(url)} failed {self._max_retries + 1} times: {e.what}",
                hint="GitHub may be degraded (https://www.githubstatus.com); run the job again",
            ) from e

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, 100 a page, following ``Link: rel="next"``."""
        url: str | None = path
        query: Mapping[str, Any] | None = {"per_page": 100, **(params or {})}
        while url is not None:
            response = self.request("GET", url, params=query)
            items = _json(response)
            if not isinstance(items, list):
                raise GitHubError(f"GitHub answered {_path(str(response.url))} with a "
                                  f"{type(items).__name__}, not a list")
            yield from items
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query itself

    def _url(self, path: str) -> str:
        if not path.startswith(("http://", "https://")):
            return f"{self._root}/{path.lstrip('/')}"
        if _origin(path) != self._origin:
            raise GitHubError(f"refusing to send the GitHub token to {_origin(path)}: it is not "
                              f"the API at {self._origin}")
        return path

    def _send_once(self, method: str, url: str, params: Mapping[str, Any] | None, json: Any,
                   safe: bool) -> httpx.Response:
        try:
            response = self._http.request(method, url, params=params, json=json)
        except httpx.TransportError as e:
            what = f"{type(e).__name__} talking to {self._origin}"
            if safe or isinstance(e, httpx.ConnectError):
                raise _Retry(what) from e
            raise GitHubError(f"GitHub {method} {_path(url)}: {what}") from e
        _log.debug("github request", method=method, path=_path(url), status=response.status_code)
        if response.status_code < 400:
            return response
        raise self._error_for(method, url, response, safe)

    def _error_for(self, method: str, url: str, response: httpx.Response,
                   safe: bool) -> Exception:
        status = response.status_code
        if status == 429 or (status == 403 and _rate_limited(response)):
            return _Retry(f"rate limited ({status})", self._limit_wait(response))
        if status >= 500 and safe:
            return _Retry(f"server error {status}")
        return _status_error(method, _path(url), response)

    def _limit_wait(self, response: httpx.Response) -> float:
        wait = _server_wait(response, self._clock())
        if wait > self._max_wait:
            raise GitHubError(
                f"GitHub's rate limit is used up for another {wait:.0f} s",
                hint="run the job again later, or lower how often the workflow runs")
        return wait

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retry) and error.wait is not None:
            return error.wait
        return float(self._backoff * 2 ** (state.attempt_number - 1))


def _rate_limited(response: httpx.Response) -> bool:
    """403 is a rate limit (not a permission problem) when GitHub says so."""
    if "retry-after" in response.headers or response.headers.get("x-ratelimit-remaining") == "0":
        return True
    return "rate limit" in _message(response).lower()


def _server_wait(response: httpx.Response, now: float) -> float:
    """Seconds GitHub asks us to wait: Retry-After, else until x-ratelimit-reset."""
    retry_after = response.headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset and response.headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(0.0, float(reset) - now) + 1.0
        except ValueError:
            pass
    return SECONDARY_LIMIT_WAIT


def _status_error(method: str, path: str, response: httpx.Response) -> GitHubStatusError:
    status, message = response.status_code, _message(response)
    where = f"GitHub {method} {path}"
    if status == 401:
        return GitHubStatusError(
            f"{where}: the token was refused (401 {message or 'Bad credentials'})", status=status,
            hint="check GITHUB_TOKEN (or --github-token): it may be missing, expired or revoked")
    if status == 403:
        return GitHubStatusError(
            f"{where}: not allowed (403 {message})", status=status,
            hint="check the token's permissions: the job needs `pull-requests: write` to "
                 "comment and `issues: write` for the drift issue")
    if status == 404:
        return GitHubStatusError(
            f"{where}: not found (404)", status=status,
            hint="check the repository name and the number, and that the token can see them")
    if status == 422:
        return GitHubStatusError(f"{where}: GitHub refused it (422 {message})", status=status)
    return GitHubStatusError(f"{where}: HTTP {status} {message}".rstrip(), status=status)


def _message(response: httpx.Response) -> str:
    """GitHub's own words: ``message`` plus each ``errors[].message`` (422 details)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, Mapping):
        return ""
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or ():
        if isinstance(error, Mapping):
            detail = error.get("message") or " ".join(
                str(error.get(k)) for k in ("resource", "field", "code") if error.get(k))
            parts.append(str(detail))
        else:
            parts.append(str(error))
    return ": ".join(p for p in parts if p)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as e:
        raise GitHubError(f"GitHub answered {_path(str(response.url))} with something that is "
                          "not JSON") from e


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    return urlsplit(url).path
