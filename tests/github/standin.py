"""A loopback stand-in for the parts of GitHub's REST API gridops uses.

It behaves as GitHub does where gridops depends on it: token auth (401 with GitHub's error
shape), comment pages (``per_page`` default 30, max 100, ``page``) with ``Link`` headers that
point at ``/repositories/{id}/...`` as GitHub's do, 422 for a body over 65,536 characters, the
commit-to-PR lookup, issues (which include pull requests) filtered by labels and state, labels
made on first use, and rate limits injected for the next N requests. Every request is recorded
so a test can assert what did, and did not, arrive.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

BODY_LIMIT = 65536
REPO_ID = 4242
DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived (the Authorization header is kept so tests can check it)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    #: carry the request out first, then fail (as a 502 from a proxy after GitHub acted)
    after: bool = False
    #: only a request with this method (any when empty)
    method: str = ""


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _not_found() -> ApiError:
    return ApiError(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})


def _too_long(resource: str) -> ApiError:
    return ApiError(422, {"message": "Validation Failed", "errors": [
        {"resource": resource, "code": "custom", "field": "body",
         "message": f"body is too long (maximum is {BODY_LIMIT} characters)"}],
        "documentation_url": DOCS, "status": "422"})


@dataclass
class GitHubStandIn:
    """State of one repository (``repo``) and everything sent to it."""

    repo: str = "acme/cluster-config"
    token: str = "ghs_standin_token_0123456789"
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    pulls_by_commit: dict[str, list[int]] = field(default_factory=dict)
    #: branch name -> the commit at its tip
    branches: dict[str, str] = field(default_factory=dict)
    _faults: list[_Fault] = field(default_factory=list)
    _next_comment: int = 9000
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- set-up helpers for tests -------------------------------------------------------------

    def add_pull_request(self, *, head_sha: str = "", merge_sha: str = "", base: str = "main",
                         merged: bool = False) -> int:
        """A pull request; ``merge_sha`` (and ``head_sha``) map to it for commits/{sha}/pulls."""
        number = self._new_issue("a change to the clusters", "", [], pull=True)
        pull = self.issues[number]
        pull.update(base={"ref": base}, head={"sha": head_sha},
                    merged_at="2024-05-01T12:00:00Z" if merged else None,
                    state="closed" if merged else "open")
        for sha in (head_sha, merge_sha):
            if sha:
                self.pulls_by_commit.setdefault(sha, []).append(number)
        return number

    def add_comments(self, number: int, count: int, body: str = "looks good") -> None:
        for i in range(count):
            self._new_comment(number, f"{body} #{i}", login="a-reviewer")

    def add_issue(self, title: str, body: str, labels: list[str], state: str = "open") -> int:
        number = self._new_issue(title, body, labels)
        self.issues[number]["state"] = state
        return number

    def fail_next(self, count: int, status: int, *, headers: dict[str, str] | None = None,
                  message: str = "Server Error", after: bool = False,
                  method: str = "") -> None:
        """The next ``count`` authenticated requests (with ``method``, when given) answer
        ``status`` instead; with ``after``, once they have been carried out."""
        for _ in range(count):
            self._faults.append(_Fault(status, dict(headers or {}),
                                       {"message": message, "documentation_url": DOCS},
                                       after, method))

    def rate_limit_next(self, count: int, *, kind: str = "429", wait: int = 2,
                        reset_at: int | None = None) -> None:
        """Primary (``403`` + x-ratelimit-remaining 0 + reset) or ``429`` + Retry-After."""
        if kind == "429":
            self.fail_next(count, 429, headers={"Retry-After": str(wait)},
                           message="You have exceeded a secondary rate limit.")
        else:
            self.fail_next(count, 403, headers={
                "x-ratelimit-limit": "1000", "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset_at or 0)},
                message="API rate limit exceeded for installation ID 1.")

    # --- views for assertions ---------------------------------------------------------------

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return list(self.comments.get(number, []))

    def labels_of(self, number: int) -> list[str]:
        return [x["name"] for x in self.issues[number]["labels"]]

    def plain_issues(self) -> list[dict[str, Any]]:
        return [i for _, i in sorted(self.issues.items()) if "pull_request" not in i]

    def everything_received(self) -> str:
        """Every path, query and body that arrived, as one text to search for leaks."""
        return "\n".join(f"{r.method} {r.path} {r.query} {r.body}" for r in self.requests)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    # --- the API ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               payload: Any) -> tuple[int, Any, dict[str, str]]:
        for pattern, verb, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return handler(match, query, payload)
        raise _not_found()

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any, dict[str, str]]]]]:
        r = r"/repos/" + re.escape(self.repo)
        return [
            (r + r"/issues/(\d+)/comments", "GET", self._list_comments),
            (r + r"/issues/(\d+)/comments", "POST", self._create_comment),
            (r + r"/issues/comments/(\d+)", "PATCH", self._update_comment),
            (r + r"/commits/([0-9a-f]+)/pulls", "GET", self._pulls_for_commit),
            (r + r"/branches/([^/]+)", "GET", self._branch),
            (r + r"/issues", "GET", self._list_issues),
            (r + r"/issues", "POST", self._create_issue),
            (r + r"/issues/(\d+)", "PATCH", self._update_issue),
            (r + r"/issues/(\d+)/labels", "GET", self._issue_labels),
            (r + r"/issues/(\d+)/labels", "POST", self._add_labels),
            (r + r"/issues/(\d+)/labels/([^/]+)", "DELETE", self._remove_label),
            (r + r"/labels/([^/]+)", "GET", self._get_label),
            (r + r"/labels", "POST", self._create_label),
        ]

    def _list_comments(self, m: re.Match[str], q: dict[str, list[str]], _: Any) -> Any:
        number = self._existing(m.group(1))
        return self._page(self.comments.get(number, []), q, f"issues/{number}/comments")

    def _create_comment(self, m: re.Match[str], _: Any, payload: Any) -> Any:
        number = self._existing(m.group(1))
        body = self._body(payload, "IssueComment")
        return 201, self._new_comment(number, body, login="github-actions[bot]"), {}

    def _update_comment(self, m: re.Match[str], _: Any, payload: Any) -> Any:
        body = self._body(payload, "IssueComment")
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == int(m.group(1)):
                    comment.update(body=body, updated_at="2024-05-02T00:00:00Z")
                    return 200, comment, {}
        raise _not_found()

    def _pulls_for_commit(self, m: re.Match[str], q: dict[str, list[str]], _: Any) -> Any:
        pulls = [self.issues[n] for n in self.pulls_by_commit.get(m.group(1), [])]
        return self._page(pulls, q, f"commits/{m.group(1)}/pulls")

    def _branch(self, m: re.Match[str], _: Any, __: Any) -> Any:
        name = unquote(m.group(1))
        if name not in self.branches:
            raise _not_found()
        return 200, {"name": name, "commit": {"sha": self.branches[name]}}, {}

    def _list_issues(self, _: Any, q: dict[str, list[str]], __: Any) -> Any:
        state = q.get("state", ["open"])[0]
        wanted = {x for x in q.get("labels", [""])[0].split(",") if x}
        found = [i for _, i in sorted(self.issues.items())
                 if (state == "all" or i["state"] == state)
                 and wanted <= {x["name"] for x in i["labels"]}]
        return self._page(found, q, "issues")

    def _create_issue(self, _: Any, __: Any, payload: Any) -> Any:
        if not isinstance(payload, dict) or not payload.get("title"):
            raise ApiError(422, {"message": "Validation Failed", "errors": [
                {"resource": "Issue", "code": "missing_field", "field": "title"}]})
        number = self._new_issue(payload["title"], self._body(payload, "Issue", required=False),
                                 list(payload.get("labels") or []))
        return 201, self.issues[number], {}

    def _update_issue(self, m: re.Match[str], _: Any, payload: Any) -> Any:
        issue = self.issues[self._existing(m.group(1))]
        if "body" in payload:
            issue["body"] = self._body(payload, "Issue")
        for key in ("title", "state", "state_reason"):
            if key in payload:
                issue[key] = payload[key]
        return 200, issue, {}

    def _issue_labels(self, m: re.Match[str], q: dict[str, list[str]], _: Any) -> Any:
        number = self._existing(m.group(1))
        return self._page(self.issues[number]["labels"], q, f"issues/{number}/labels")

    def _add_labels(self, m: re.Match[str], _: Any, payload: Any) -> Any:
        issue = self.issues[self._existing(m.group(1))]
        for name in payload["labels"]:
            label = self.labels.setdefault(name, {"name": name, "color": "ededed",
                                                  "description": None})
            if label not in issue["labels"]:
                issue["labels"].append(label)
        return 200, issue["labels"], {}

    def _remove_label(self, m: re.Match[str], _: Any, __: Any) -> Any:
        issue = self.issues[self._existing(m.group(1))]
        name = unquote(m.group(2))
        kept = [x for x in issue["labels"] if x["name"] != name]
        if len(kept) == len(issue["labels"]):
            raise ApiError(404, {"message": "Label does not exist", "documentation_url": DOCS})
        issue["labels"] = kept
        return 200, kept, {}

    def _get_label(self, m: re.Match[str], _: Any, __: Any) -> Any:
        label = self.labels.get(unquote(m.group(1)))
        if label is None:
            raise _not_found()
        return 200, label, {}

    def _create_label(self, _: Any, __: Any, payload: Any) -> Any:
        if payload["name"] in self.labels:
            raise ApiError(422, {"message": "Validation Failed", "errors": [
                {"resource": "Label", "code": "already_exists", "field": "name"}]})
        self.labels[payload["name"]] = dict(payload)
        return 201, self.labels[payload["name"]], {}

    # --- helpers ------------------------------------------------------------------------------

    def _page(self, items: list[Any], q: dict[str, list[str]], tail: str) -> Any:
        per_page = min(int(q.get("per_page", ["30"])[0]), 100)
        page = max(int(q.get("page", ["1"])[0]), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page: page * per_page]
        extra = "".join(f"&{k}={v[0]}" for k, v in sorted(q.items())
                        if k not in ("page", "per_page"))
        base = f"{self.url}/repositories/{REPO_ID}/{tail}?per_page={per_page}{extra}"
        links = []
        if page < last:
            links += [f'<{base}&page={page + 1}>; rel="next"', f'<{base}&page={last}>; rel="last"']
        if page > 1:
            links += [f'<{base}&page={page - 1}>; rel="prev"', f'<{base}&page=1>; rel="first"']
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def _existing(self, number: str) -> int:
        if int(number) not in self.issues:
            raise _not_found()
        return int(number)

    def _body(self, payload: Any, resource: str, *, required: bool = True) -> str:
        body = payload.get("body") if isinstance(payload, dict) else None
        if body is None and not required:
            return ""
        if not isinstance(body, str):
            raise ApiError(422, {"message": "Invalid request.",
                                 "documentation_url": DOCS, "status": "422"})
        if len(body) > BODY_LIMIT:
            raise _too_long(resource)
        return body

    def _new_issue(self, title: str, body: str, labels: list[str], *, pull: bool = False) -> int:
        number = max(self.issues, default=0) + 1
        for name in labels:
            self.labels.setdefault(name, {"name": name, "color": "ededed", "description": None})
        issue: dict[str, Any] = {
            "number": number, "title": title, "body": body, "state": "open",
            "state_reason": None, "labels": [self.labels[n] for n in labels],
            "html_url": f"https://github.com/{self.repo}/{'pull' if pull else 'issues'}/{number}"}
        if pull:
            issue["pull_request"] = {"url": f"{self.url}/repos/{self.repo}/pulls/{number}"}
        self.issues[number] = issue
        return number

    def _new_comment(self, number: int, body: str, *, login: str) -> dict[str, Any]:
        self._next_comment += 1
        comment = {"id": self._next_comment, "body": body, "user": {"login": login},
                   "html_url": f"https://github.com/{self.repo}/pull/{number}"
                               f"#issuecomment-{self._next_comment}"}
        self.comments.setdefault(number, []).append(comment)
        return comment

    def take_fault(self, method: str) -> _Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.method in ("", method):
                return self._faults.pop(i)
        return None


def _handler_for(standin: GitHubStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as separate writes: without this, Nagle's algorithm and
            # delayed ACKs add 40 ms to every request.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's names)
            self._serve()

        do_POST = do_PATCH = do_DELETE = do_GET  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            path = re.sub(rf"^/repositories/{REPO_ID}/", f"/repos/{standin.repo}/", parts.path)
            with standin.lock:
                standin.requests.append(Recorded(self.command, path, parse_qs(parts.query),
                                                 dict(self.headers.items()), raw))
                status, body, headers = self._answer(path, parse_qs(parts.query), raw)
            self._send(status, body, headers)

        def _answer(self, path: str, query: dict[str, list[str]],
                    raw: str) -> tuple[int, Any, dict[str, str]]:
            if self.headers.get("Authorization", "") not in (f"Bearer {standin.token}",
                                                             f"token {standin.token}"):
                return 401, {"message": "Bad credentials", "documentation_url": DOCS,
                             "status": "401"}, {}
            fault = standin.take_fault(self.command)
            if fault and not fault.after:
                return fault.status, fault.body, fault.headers
            try:
                answer = standin.handle(self.command, path, query,
                                        json.loads(raw) if raw else None)
            except ApiError as e:
                answer = e.status, e.body, e.headers
            return (fault.status, fault.body, fault.headers) if fault else answer

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def github_standin() -> Iterator[GitHubStandIn]:
    """A fresh stand-in on a free loopback port for one test."""
    standin = GitHubStandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(standin))
    server.daemon_threads = True
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
