"""The outcome of an apply as markdown, for the pull request the commit came from and for the
job summary. Pure.

It is its own comment (marker ``gridops:apply:{settings_file}``), not an edit of the plan
comment: the plan comment is the record of what was reviewed, the apply comment the record of
what happened at merge (from a plan made again on the default branch, which may differ), and
re-running the apply job updates the same apply comment.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.github.budget import COMMENT_LIMIT, cap_text, cut_lines, measure, usable
from reconciler.github.sections import SYMBOL
from reconciler.github.text import Mask, inline, no_mask, plural
from reconciler.plan.types import ApplyResult, ChangeResult, Outcome, Plan
from reconciler.views.render import apply_summary_line, short_enum

_DONE = {"create": "created", "update": "updated", "delete": "delete requested"}


def apply_marker(settings_file: str) -> str:
    return f"<!-- gridops:apply:{settings_file} -->"


@dataclass(frozen=True)
class ApplyView:
    """How to render an apply outcome. ``self_heal`` says whether scheduled runs apply (so
    a failure is retried by the next one) or only report drift."""

    settings_file: str
    run_url: str = ""
    applied_sha: str | None = None
    self_heal: bool = True
    limit: int = COMMENT_LIMIT
    mask: Mask = no_mask


def render_apply_comment(result: ApplyResult, plan: Plan | None, *, settings_file: str,
                         run_url: str = "", applied_sha: str | None = None,
                         self_heal: bool = True, limit: int = COMMENT_LIMIT,
                         mask: Mask = no_mask) -> str:
    view = ApplyView(settings_file=settings_file, run_url=run_url,
                     applied_sha=applied_sha or result.git_sha or (plan.git_sha if plan else None),
                     self_heal=self_heal, limit=limit, mask=mask)
    failed = [r for r in result.results if r.outcome is Outcome.FAILED]
    done = [r for r in result.results
            if r.outcome is not Outcome.FAILED and r.action.changes_grid]
    top = _top(result, view, len(failed))
    room = usable(limit) - measure(top)
    failed_text = _listing(f"Failed ({len(failed)})", [_line(r, view) for r in failed], room)
    room -= measure(failed_text)
    done_text = _listing(f"Done ({len(done)})", [_line(r, view) for r in done], room)
    return cap_text(mask(top + failed_text + done_text), limit)


def _top(result: ApplyResult, view: ApplyView, failed: int) -> str:
    verdict = "failed" if result.failed else "applied"
    parts = [apply_marker(view.settings_file),
             f"### gridops apply · `{view.settings_file}` · {verdict}",
             f"**{apply_summary_line(result)}**"]
    if result.error:
        parts.append(f"> [!CAUTION]\n> **gridops apply stopped before changing anything:** "
                     f"{inline(view.mask(result.error), 1000)}\n>\n> {_retry_advice(view)}")
    if failed:
        parts.append(f"> [!CAUTION]\n> **{plural(failed, 'cluster')} failed** (listed below); the "
                     f"others were applied and are kept. {_retry_advice(view)}")
    if not result.error and not any(r.action.changes_grid for r in result.results):
        parts.append("Nothing to apply: the live clusters already matched git.")
    bits = [f"Applied commit `{view.applied_sha[:12]}`" if view.applied_sha else "",
            f"[workflow run]({view.run_url})" if view.run_url else ""]
    parts.append(" · ".join(b for b in bits if b))
    return "\n\n".join(p for p in parts if p) + "\n\n"


def _retry_advice(view: ApplyView) -> str:
    if view.self_heal:
        return ("The next scheduled reconcile run will try again; to try now, run the "
                "reconcile workflow once the cause is fixed.")
    return ("Scheduled runs only report drift here (`selfHeal: false`), so nothing retries by "
            "itself: run `gridops apply` (or the reconcile workflow by hand) once the cause is "
            "fixed.")


def _line(r: ChangeResult, view: ApplyView) -> str:
    symbol = SYMBOL[r.action]
    if r.outcome is Outcome.FAILED:
        return (f"- `{symbol}` **{r.action.value} failed** `{r.name}`: "
                f"{inline(view.mask(r.error), 500)}")
    what = _DONE.get(r.action.value, r.action.value) if r.outcome is Outcome.OK else "skipped"
    phase = f" ({short_enum(r.phase)})" if r.phase else ""
    why = f": {inline(view.mask(r.error), 300)}" if r.error else ""
    return f"- `{symbol}` **{what}** `{r.name}`{phase}{why}"


def _listing(title: str, lines: list[str], room: int) -> str:
    if not lines:
        return ""
    head = f"#### {title}\n\n"
    more = "- ... {} more not shown: the job summary and the job log list every cluster"
    keep = cut_lines(lines, room - measure(head) - 4, measure(more) + 12)
    shown = lines[:keep] + ([more.format(len(lines) - keep)] if keep < len(lines) else [])
    return head + "\n".join(shown) + "\n\n"
