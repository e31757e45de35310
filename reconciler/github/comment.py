"""The plan as markdown for a pull-request comment, the job summary or the drift issue.

Pure. The document opens with a hidden marker (how the comment is found again), then a summary
that always shows whole: counts per action, a banner when anything is deleted, the blocked and
failed called out, the commit and the run. Then the validation findings, then one section per
cluster (changes the pull request makes apart from drift), then the unmanaged clusters.

Past the size limit the longest diffs are cut first, then sections fold to one line each, and
only as a last resort are clusters left out, counted in a closing line; the counts at the top
stay whole and a note says where the whole plan is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from reconciler.errors import Finding
from reconciler.github.budget import (
    COMMENT_LIMIT,
    cap_text,
    count_fitting,
    cut_lines,
    keep_counts,
    measure,
    usable,
)
from reconciler.github.sections import PRIORITY, ClusterSection, make_section
from reconciler.github.text import Mask, inline, no_mask, plural
from reconciler.plan.cost import describe_total
from reconciler.plan.types import Action, Change, Plan
from reconciler.views.render import summary_line

ARTIFACT = "gridops-plan"
MAX_LISTED = 20  # names listed in a banner, warnings shown in the summary
MAX_UNMANAGED = 100
_SEPARATORS = 64  # the blank lines and "None." between groups


def plan_marker(settings_file: str) -> str:
    return f"<!-- gridops:plan:{settings_file} -->"


@dataclass(frozen=True)
class PlanView:
    """How to render a plan document, and where it goes.

    ``pr_view``: changes were split by ``prview.mark_drift`` (``Change.drift``), so the
    pull request's own changes are shown apart from drift. ``full_plan_at`` says, in the
    shortening note, where the whole plan can be read. ``intro`` paragraphs follow the title.
    """

    marker: str
    title: str
    settings_file: str
    findings: Sequence[Finding] = ()
    run_url: str = ""
    planned_sha: str | None = None
    pr_view: bool = False
    limit: int = COMMENT_LIMIT
    mask: Mask = no_mask
    full_plan_at: str = ""
    intro: tuple[str, ...] = field(default=())
    #: how the provenance line names ``planned_sha``
    sha_label: str = "Planned commit"
    #: ``https://github.com/OWNER/REPO/blob/SHA``: the planned commit's files, for links to
    #: the line of each field ("" for no links)
    blob_url: str = ""

    def link(self, place: str) -> str:
        """The URL of ``file:line`` at the planned commit, "" without ``blob_url``."""
        if not self.blob_url or not place:
            return ""
        file, _, line = place.rpartition(":")
        if not line.isdigit():
            file, line = place, ""
        path = quote(file)
        return f"{self.blob_url.rstrip('/')}/{path}" + (f"#L{line}" if line else "")


def render_plan_comment(plan: Plan | None, *, settings_file: str,
                        findings: Sequence[Finding] = (), run_url: str = "",
                        planned_sha: str | None = None, pr_view: bool = False,
                        limit: int = COMMENT_LIMIT, mask: Mask = no_mask,
                        full_plan_at: str = "", blob_url: str = "") -> str:
    """The pull-request comment (``plan`` is None when the documents did not load)."""
    return render_plan_document(plan, PlanView(
        marker=plan_marker(settings_file), title=f"gridops plan · `{settings_file}`",
        settings_file=settings_file, findings=findings, run_url=run_url,
        planned_sha=planned_sha, pr_view=pr_view, limit=limit, mask=mask,
        full_plan_at=full_plan_at or default_full_plan_at(run_url), blob_url=blob_url))


def default_full_plan_at(run_url: str) -> str:
    run = f"[workflow run]({run_url})" if run_url else "workflow run"
    return f"the job summary of the {run} and its `{ARTIFACT}` artifact (the plan as JSON)"


def render_plan_document(plan: Plan | None, view: PlanView) -> str:
    """The whole document, never over ``view.limit`` however big the plan."""
    sections = _sections(plan, view)
    note_room = measure(_shortened_note(view, len(sections), len(sections), len(sections)))
    top_room = measure(_top(plan, view, "")) + note_room
    room = usable(view.limit) - top_room
    findings = _findings(view, room if plan is None else room // 3)
    tail = _unmanaged(plan, view)
    room -= measure(findings) + measure(tail)
    body, cut, folded, hidden = _fit_sections(plan, view, sections, room)
    note = _shortened_note(view, cut, folded, hidden) if cut or folded or hidden else ""
    text = _top(plan, view, note) + findings + body + tail
    return cap_text(view.mask(text), view.limit)


# --- the summary ------------------------------------------------------------------------------

def _top(plan: Plan | None, view: PlanView, note: str) -> str:
    parts = [view.marker, f"### {view.title}", *view.intro]
    if plan is None:
        parts.append(f"**No plan was made**: {plural(len(view.findings), 'problem')}, "
                     "listed below. Fix them and push again.")
    else:
        parts += _plan_summary(plan)
    parts.append(_provenance(view))
    if note:
        parts.append(note)
    if plan is not None and plan.warnings:
        parts.append(_bullets("**Warnings**", [view.mask(w) for w in plan.warnings]))
    return "\n\n".join(p for p in parts if p) + "\n\n"


def _plan_summary(plan: Plan) -> list[str]:
    parts: list[str] = []
    deleted = sorted(c.name for c in plan.changes if c.action is Action.DELETE)
    if deleted:
        parts.append(f"> [!CAUTION]\n> **This plan deletes {plural(len(deleted), 'cluster')} in "
                     f"Grid:** {_names(deleted)}. Applying this plan deletes "
                     f"{'it' if len(deleted) == 1 else 'them'} and everything running there.")
    counts = [f"{plan.count(a)} {label}" for a, label in (
        (Action.NOOP, "unchanged"), (Action.WAIT, "waiting"), (Action.BLOCKED, "blocked"),
        (Action.FAILED, "failed"), (Action.UNKNOWN, "unknown")) if plan.count(a)]
    parts.append(f"**{summary_line(plan)}**" + (" " + " · ".join(counts) if counts else ""))
    stuck = plan.count(Action.BLOCKED) + plan.count(Action.FAILED)
    if stuck:
        parts.append(f"> [!WARNING]\n> **{plural(stuck, 'cluster')} need"
                     f"{'s' if stuck == 1 else ''} a person**: "
                     f"{plan.count(Action.BLOCKED)} blocked, {plan.count(Action.FAILED)} "
                     "failed. Each one's reason is on its line below.")
    total = describe_total(plan.costs)
    if total:
        parts.append(f"**{total}**")
    if not plan.has_changes:
        parts.append("No changes: the live clusters match git.")
    return parts


def _provenance(view: PlanView) -> str:
    bits = [f"{view.sha_label} `{view.planned_sha[:12]}`" if view.planned_sha else "",
            f"[workflow run]({view.run_url})" if view.run_url else ""]
    return " · ".join(b for b in bits if b)


def _shortened_note(view: PlanView, cut: int, folded: int, hidden: int) -> str:
    what = [f"{plural(cut, 'diff')} cut" if cut else "",
            f"{plural(folded, 'cluster')} shown as one line" if folded else "",
            f"{plural(hidden, 'cluster')} not listed" if hidden else ""]
    return (f"> [!NOTE]\n> Shortened to fit GitHub's limit of {view.limit:,} characters: "
            f"{', '.join(w for w in what if w)}. The whole plan is in {view.full_plan_at}.")


# --- findings, sections, unmanaged ------------------------------------------------------------

def _findings(view: PlanView, room: int) -> str:
    if not view.findings:
        return ""
    head = f"#### Findings ({len(view.findings)})\n\n"
    lines = [f"- `{f.file}:{f.line}:{f.col}` {f.severity}: {inline(view.mask(f.message), 500)}"
             for f in view.findings]
    more = ("- ... {} more: every finding is annotated on its file in the workflow run "
            "and listed by `gridops validate`")
    keep = cut_lines(lines, room - measure(head) - 2, measure(more) + 12)
    shown = lines[:keep] + ([more.format(len(lines) - keep)] if keep < len(lines) else [])
    return head + "\n".join(shown) + "\n\n"


def _sections(plan: Plan | None, view: PlanView) -> list[ClusterSection]:
    if plan is None:
        return []
    hint = f"the whole plan is in {view.full_plan_at}"
    shown = [c for c in plan.changes if c.action is not Action.NOOP]
    ordered = sorted(shown, key=lambda c: (view.pr_view and c.drift,
                                           PRIORITY.index(c.action), c.name))
    costs = {c.name: c for c in plan.costs}
    return [make_section(c, mask=view.mask, more_hint=hint, link=view.link,
                         cost=costs.get(c.name)) for c in ordered]


def _fit_sections(plan: Plan | None, view: PlanView, sections: list[ClusterSection],
                  room: int) -> tuple[str, int, int, int]:
    """The sections' markdown, and how many diffs were cut, folded, and clusters hidden."""
    if plan is None:
        return "", 0, 0, 0
    room -= sum(measure(h) for h in _group_heads(plan, view)) + _SEPARATORS
    sized = [s.sized() for s in sections]
    keep = keep_counts(sized, room)
    hidden = 0
    if keep is None:
        more = measure(_more_line(plan, len(sections))) + 2
        shown = count_fitting([s.collapsed for s in sized], room, more)
        keep, hidden = [0] * shown, len(sections) - shown
    cut = sum(1 for s, k in zip(sections, keep, strict=False) if 0 < k < len(s.body))
    folded = sum(1 for s, k in zip(sections, keep, strict=False) if s.body and k == 0)
    texts = [s.render(k) for s, k in zip(sections, keep, strict=False)]
    body = _grouped(plan, view, sections, texts)
    if hidden:
        body += _more_line(plan, hidden) + "\n\n"
    return body, cut, folded, hidden


def _group_heads(plan: Plan, view: PlanView) -> list[str]:
    if not view.pr_view:
        return [f"#### Changes ({_count_shown(plan.changes)})\n\n"]
    own = [c for c in plan.changes if not c.drift]
    drift = [c for c in plan.changes if c.drift]
    return [f"#### Changes this pull request makes ({_count_shown(own)})\n\n",
            f"#### Drift: clusters this pull request does not touch ({_count_shown(drift)})"
            "\n\nTheir documents are the same at the base and the head of this pull request, "
            "but the live clusters differ from git. Applying after the merge sets them back "
            "to what git says.\n\n"]


def _grouped(plan: Plan, view: PlanView, sections: list[ClusterSection],
             texts: list[str]) -> str:
    heads = _group_heads(plan, view)
    drift_names = {c.name for c in plan.changes if c.drift} if view.pr_view else set()
    own = "".join(t for s, t in zip(sections, texts, strict=False) if s.name not in drift_names)
    drift = "".join(t for s, t in zip(sections, texts, strict=False) if s.name in drift_names)
    out = heads[0] + (own or "None.\n") + "\n"
    if len(heads) > 1 and (drift or drift_names):
        out += heads[1] + (drift or "None shown.\n") + "\n"
    return out


def _more_line(plan: Plan, hidden: int) -> str:
    return (f"**... and {plural(hidden, 'more cluster')} not shown here** (the counts at the top "
            f"include them; {summary_line(plan)})")


def _count_shown(changes: Sequence[Change]) -> int:
    return sum(1 for c in changes if c.action is not Action.NOOP)


def _unmanaged(plan: Plan | None, view: PlanView) -> str:
    if plan is None or not plan.unmanaged:
        return ""
    names = _names(list(plan.unmanaged), MAX_UNMANAGED)
    return (f"#### Unmanaged clusters ({len(plan.unmanaged)})\n\nLive in Grid, not owned by "
            f"gridops, never changed: {names}\n\n")


# --- small helpers ----------------------------------------------------------------------------

def _bullets(title: str, items: Sequence[str]) -> str:
    lines = [f"- {inline(x, 300)}" for x in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"- ... and {len(items) - MAX_LISTED} more")
    return title + "\n\n" + "\n".join(lines)


def _names(names: Sequence[str], most: int = MAX_LISTED) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
