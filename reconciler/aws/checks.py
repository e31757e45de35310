"""The result of one preflight check, shared by every check module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reconciler.aws.calls import Unanswered

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One preflight finding for one cluster.

    ``name`` is a short stable identifier (``credentials``, ``role``, ``instance-type``,
    ``quota/asg`` ...); ``status`` is ``pass``, ``warn`` (could not be checked, or a
    recommendation) or ``fail`` (creating the cluster would fail); ``message`` says what was
    found and ``hint`` what to do. Neither ever holds a secret value.
    """

    cluster: str
    region: str
    name: str
    status: Status
    message: str
    hint: str = ""


def unanswered_check(cluster: str, region: str, name: str, u: Unanswered) -> Check:
    """A question AWS did not answer: a warning naming why (a failure for bad credentials)."""
    status: Status = "fail" if u.bad_credentials else "warn"
    return Check(cluster, region, name, status, f"could not check: {u.reason}", u.hint)
