"""When the Grid client tries a call again, and how long it waits first.

- 429 is always worth another try (the server did not act on the request), after the
  ``Retry-After`` seconds it asks for, else after the exponential backoff.
- 5xx (but 501), timeouts and broken connections are retried only for idempotent calls
  (GET, PUT, DELETE): a POST that reached the server may have created the cluster.
- A connect error (or a connect/pool timeout) means the request never left: any call retries.
- A TLS failure (the server's certificate was refused) is never retried: it will not change.
"""

from __future__ import annotations

import ssl

import httpx
from tenacity import RetryCallState

#: the longest wait between two tries, whatever the backoff or the server says
MAX_WAIT_SECONDS = 120.0

#: transport errors that mean the request never left (any call may be tried again)
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class RetryableAnswer(Exception):
    """An HTTP answer worth another try; carries the answer for when tries run out."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        #: the answer that asked for another try
        self.response = response


def is_retryable_status(status: int, *, idempotent: bool) -> bool:
    if status == 429:
        return True
    return idempotent and status >= 500 and status != 501


def tls_failure(error: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a transport error (a refused certificate, a failed handshake)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def is_retryable_error(error: BaseException, *, idempotent: bool) -> bool:
    if tls_failure(error) is not None:
        return False
    if isinstance(error, (RetryableAnswer, *NEVER_SENT)):
        return True
    return idempotent and isinstance(error, _MAYBE_SENT)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` delay in seconds, or None when absent or not a number."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def wait_seconds(state: RetryCallState, *, backoff: float) -> float:
    """Retry-After when the answer gave one, else ``backoff * 2**(try - 1)``."""
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, RetryableAnswer):
        after = retry_after_seconds(error.response)
        if after is not None:
            return min(after, MAX_WAIT_SECONDS)
    return float(min(backoff * 2 ** (state.attempt_number - 1), MAX_WAIT_SECONDS))


def describe_retry(state: RetryCallState, *, what: str, attempts: int) -> str:
    """The line logged before each retry: what failed, attempt n of m, and when the next try
    is (``could not list clusters (ConnectError): attempt 1 of 5, next try in 0.5s``)."""
    error = state.outcome.exception() if state.outcome is not None else None
    failed = str(error) if isinstance(error, RetryableAnswer) else type(error).__name__
    pause = state.next_action.sleep if state.next_action is not None else 0.0
    return (f"could not {what} ({failed}): attempt {state.attempt_number} of {attempts}, "
            f"next try in {pause:.1f}s")
