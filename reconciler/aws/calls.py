"""Turning botocore failures into words: what could not be asked, and why.

Preflight checks and sweeps ask AWS many small questions; a question that cannot be answered
(no permission, a service or endpoint that does not answer, an operation an emulator does not
implement) must become a clear warning, never a crash and never a pass. ``ask`` runs one call
and raises ``Unanswered`` with the reason and the permission that is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

T = TypeVar("T")

#: Error codes AWS answers when the caller lacks a permission.
ACCESS_DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
    "AuthorizationError", "Forbidden", "403",
})

#: Error codes that mean the credentials themselves do not work.
BAD_CREDENTIALS_CODES = frozenset({
    "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch",
    "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure", "InvalidToken",
})


class Unanswered(Exception):
    """An AWS question that got no usable answer.

    ``reason`` says why in words a person can act on; ``permission`` is the IAM action the
    question needs (for the hint); ``bad_credentials`` is set when the credentials failed;
    ``code`` is AWS's error code when AWS answered with an error.
    """

    def __init__(self, reason: str, *, permission: str, bad_credentials: bool = False,
                 code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.permission = permission
        self.bad_credentials = bad_credentials
        self.code = code

    @property
    def hint(self) -> str:
        if self.bad_credentials:
            return "check the AWS credentials gridops runs with (AWS_PROFILE, AWS_ACCESS_KEY_ID)"
        return f"allow {self.permission} for the credentials gridops runs with"


def error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def error_message(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Message", "")) or error_code(e)


def ask(call: Callable[[], T], *, permission: str) -> T:
    """The answer of ``call()``, or ``Unanswered`` saying why there is none."""
    try:
        return call()
    except ClientError as e:
        raise describe_client_error(e, permission=permission) from e
    except (NoCredentialsError, PartialCredentialsError) as e:
        raise Unanswered("no AWS credentials were found", permission=permission,
                         bad_credentials=True) from e
    except (EndpointConnectionError, ConnectionError) as e:
        raise Unanswered(f"the endpoint did not answer ({e})", permission=permission) from e
    except NoRegionError as e:
        raise Unanswered("no AWS region is set", permission=permission) from e
    except BotoCoreError as e:
        raise Unanswered(f"the call failed: {e}", permission=permission) from e
    except NotImplementedError as e:  # an emulator (moto) that lacks the operation
        raise Unanswered("the endpoint does not implement this call",
                         permission=permission) from e


def describe_client_error(e: ClientError, *, permission: str) -> Unanswered:
    code = error_code(e)
    if code in ACCESS_DENIED_CODES:
        return Unanswered(f"access denied ({permission} is needed)", permission=permission,
                          code=code)
    if code in BAD_CREDENTIALS_CODES:
        return Unanswered(f"the credentials were refused ({code})", permission=permission,
                          bad_credentials=True, code=code)
    return Unanswered(f"{code}: {error_message(e)}", permission=permission, code=code)
