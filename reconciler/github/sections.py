"""One markdown section per cluster: a one-line form that always shows, and a collapsible
field-level diff that may be shortened to fit. Pure; every text is masked as it is made, so
cutting a line can never leave half a secret behind."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.github.budget import Sized, measure
from reconciler.github.text import Mask, clip, inline
from reconciler.plan.cost import describe_cost
from reconciler.plan.document import format_document_value
from reconciler.plan.types import Action, Change, ClusterCost, FieldChange
from reconciler.views.render import SENSITIVE, format_value

SYMBOL: Mapping[Action, str] = {
    Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-", Action.WAIT: "=",
    Action.FAILED: "!", Action.BLOCKED: "x", Action.UNKNOWN: "?", Action.NOOP: " ",
}
#: The order clusters are listed in: what a reviewer must not miss first.
PRIORITY: Sequence[Action] = (Action.DELETE, Action.BLOCKED, Action.FAILED, Action.UNKNOWN,
                              Action.CREATE, Action.UPDATE, Action.WAIT)
#: A diff line or a reason longer than this is cut (a value can be very long).
MAX_LINE = 600
MAX_REASON = 300
#: places listed under a diff (a document with many fields lists its first ones)
MAX_PLACES = 12


@dataclass(frozen=True)
class ClusterSection:
    """A cluster's part of a plan document.

    ``line`` is the one-line list item (symbol, action, name, reason); ``body`` the diff lines,
    masked and each at most ``MAX_LINE`` long; ``more_hint`` ends the note of a cut diff.
    """

    name: str
    action: Action
    line: str
    summary: str
    body: tuple[str, ...]
    more_hint: str
    #: a code fence longer than any run of backticks in ``body``
    fence: str = "```"
    #: markdown after the diff: where its fields are written, as links to the file and line
    where: str = ""

    def sized(self) -> Sized:
        return Sized(frame=measure(self._details([], 0)),
                     lines=tuple(measure(x + "\n") for x in self.body),
                     collapsed=measure(self._collapsed()),
                     note=measure(self._note(len(self.body)) + "\n"))

    def render(self, keep: int) -> str:
        """The section with its first ``keep`` diff lines (0: the one-line form)."""
        if not self.body or keep <= 0:
            return self._collapsed()
        return self._details(self.body[:keep], len(self.body) - keep)

    def _collapsed(self) -> str:
        if not self.body:
            return f"{self.line}\n"
        return f"{self.line} ({len(self.body)} diff lines left out)\n"

    def _details(self, lines: Sequence[str], omitted: int) -> str:
        note = f"{self._note(omitted)}\n" if omitted else ""
        where = f"\n{self.where}\n" if self.where else ""
        return (f"\n<details><summary>{self.summary}</summary>\n\n{self.fence}diff\n"
                + "".join(f"{x}\n" for x in lines) + note + f"{self.fence}\n{where}"
                "</details>\n\n")

    def _note(self, omitted: int) -> str:
        return f"... {omitted} more lines cut here: {self.more_hint}"


#: Turns ``file:line`` into a URL of that line at the planned commit ("" when unknown).
Linker = Callable[[str], str]


def no_links(_: str) -> str:
    return ""


def make_section(change: Change, *, mask: Mask, more_hint: str, link: Linker = no_links,
                 cost: ClusterCost | None = None) -> ClusterSection:
    symbol, action = SYMBOL[change.action], change.action.value
    reason = inline(mask(change.reason), MAX_REASON)
    priced = f" · {describe_cost(cost)}" if cost else ""
    line = f"- `{symbol}` **{action}** `{change.name}`" + (f": {reason}" if reason else "") \
        + priced
    body = tuple(clip(mask(x), MAX_LINE) for x in diff_lines(change))
    url = link(change.source) if change.source else ""
    where = (f' · <a href="{html.escape(url)}">{html.escape(change.source)}</a>' if url
             else f" · {html.escape(change.source)}" if change.source else "")
    fields = f" · {len(body)} field{'s' if len(body) != 1 else ''}" if body else ""
    summary = (f"<code>{symbol}</code> <b>{action}</b> <code>{html.escape(change.name)}</code>"
               f"{fields}{where}" + (f" · {reason}" if reason else "") + html.escape(priced))
    return ClusterSection(name=change.name, action=change.action, line=line, summary=summary,
                          body=body, more_hint=more_hint, fence=_fence(body),
                          where=_written_at(change, link, mask))


def _written_at(change: Change, link: Linker, mask: Mask) -> str:
    """``Written at [clusters/a.yaml:9](url) · ...``: each place a changed field is set."""
    places = sorted({f.source for f in change.field_changes if f.source},
                    key=lambda p: (p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])
                                   if p.rsplit(":", 1)[-1].isdigit() else 0))
    shown = [f"[`{mask(p)}`]({url})" if (url := link(p)) else f"`{mask(p)}`"
             for p in places[:MAX_PLACES]]
    more = f" and {len(places) - MAX_PLACES} more" if len(places) > MAX_PLACES else ""
    return f"Written at {' · '.join(shown)}{more}" if shown else ""


def diff_lines(change: Change) -> list[str]:
    """``+``/``-``/``~`` lines for the fields that change; a create lists its whole spec."""
    creating = change.action is Action.CREATE
    if change.field_changes:
        return [field_line(f, creating=creating) for f in change.field_changes]
    if change.action is Action.CREATE and change.spec:
        lines = [f"+ {path}" + (f": {format_value(v)}" if v is not _NO_VALUE else "")
                 for path, v in _flatten(change.spec, "")]
        lines += [f"+ {path}: (sensitive value)" for path in sorted(change.secrets)]
        return lines
    return []


def field_line(change: FieldChange, *, creating: bool = False) -> str:
    """A diff line in the document's words when known (``~ spec.performanceProfile: default
    -> cost-saving``), ``(drift)`` on a drifted field."""
    path = change.doc_path or change.path
    show = format_document_value if change.doc_path else _value
    old, new = (change.doc_old, change.doc_new) if change.doc_path else (change.old, change.new)
    drift = "  (drift)" if change.cause == "drift" else ""
    if change.sensitive:
        return f"+ {path}: (sensitive value)" if creating else f"~ {path}: {SENSITIVE}{drift}"
    if old is None:
        return f"+ {path}: {show(new)}{drift}"
    if new is None:
        return f"- {path}: {show(old)}{drift}"
    return f"~ {path}: {show(old)} -> {show(new)}{drift}"


def _value(value: Any) -> str:
    """As ``render.format_value``; scalars take json's fast default path (big plans)."""
    if isinstance(value, (str, int, float, bool)):
        return json.dumps(value)
    return format_value(value)


_NO_VALUE = object()


def _flatten(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Leaf paths of a wire spec; a list of named objects is keyed by name, as diffs are."""
    if isinstance(value, Mapping) and value:
        for key in sorted(value):
            yield from _flatten(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value and all(
            isinstance(x, Mapping) and "name" in x for x in value):
        for item in value:
            rest = {k: v for k, v in item.items() if k != "name"}
            yield f"{path}[{item['name']}]", rest if rest else _NO_VALUE
    else:
        yield path, value


def _fence(lines: Sequence[str]) -> str:
    """A code fence longer than any run of backticks inside, so no value can close it."""
    longest = max((len(run) for x in lines if "`" in x for run in re.findall(r"`+", x)),
                  default=0)
    return "`" * max(3, longest + 1)
