"""The few GitHub REST resources gridops reads, as plain frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comment:
    """An issue or pull-request comment."""

    #: GitHub's numeric comment id (what ``PATCH /issues/comments/{id}`` takes).
    id: int
    body: str
    html_url: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Comment:
        return cls(id=int(data["id"]), body=str(data.get("body") or ""),
                   html_url=str(data.get("html_url") or ""))


@dataclass(frozen=True)
class Issue:
    """An issue (pull requests are issues too; ``is_pull_request`` tells them apart)."""

    number: int
    title: str
    body: str
    #: ``open`` or ``closed``.
    state: str
    labels: tuple[str, ...] = ()
    html_url: str = ""
    is_pull_request: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Issue:
        labels = tuple(str(x["name"] if isinstance(x, Mapping) else x)
                       for x in data.get("labels") or ())
        return cls(number=int(data["number"]), title=str(data.get("title") or ""),
                   body=str(data.get("body") or ""), state=str(data.get("state") or "open"),
                   labels=labels, html_url=str(data.get("html_url") or ""),
                   is_pull_request="pull_request" in data)


@dataclass(frozen=True)
class PullRequest:
    """A pull request as ``GET /repos/{o}/{r}/commits/{sha}/pulls`` lists it."""

    number: int
    state: str
    html_url: str = ""
    #: when it was merged (ISO 8601), empty when it was not.
    merged_at: str = ""
    #: the branch it targets (``main``).
    base_ref: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PullRequest:
        base = data.get("base") or {}
        return cls(number=int(data["number"]), state=str(data.get("state") or ""),
                   html_url=str(data.get("html_url") or ""),
                   merged_at=str(data.get("merged_at") or ""),
                   base_ref=str(base.get("ref") or ""))


@dataclass(frozen=True)
class CommentRef:
    """The comment ``publish_plan``/``publish_apply`` wrote."""

    id: int
    html_url: str
    #: which pull request (or issue) it is on.
    number: int
    #: True when this run made the comment, False when it updated the existing one.
    created: bool


@dataclass(frozen=True)
class IssueRef:
    """The drift issue after ``sync_drift_issue``."""

    number: int
    html_url: str
    #: ``open`` or ``closed`` after this run.
    state: str
    #: what this run did: ``opened``, ``updated`` or ``closed``.
    action: str
