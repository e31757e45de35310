"""The drift issue: its marker, title and body. Pure.

While the live clusters differ from git there is exactly one open issue per settings file,
labelled ``gridops:drift`` and marked ``<!-- gridops:drift:{settings_file} -->``;
``publish.sync_drift_issue`` opens, updates and closes it.
"""

from __future__ import annotations

from reconciler.github.budget import COMMENT_LIMIT
from reconciler.github.comment import PlanView, default_full_plan_at, render_plan_document
from reconciler.github.text import Mask, no_mask
from reconciler.plan.types import Change, Plan

DRIFT_LABEL = "gridops:drift"
DRIFT_LABEL_COLOR = "d93f0b"
DRIFT_LABEL_DESCRIPTION = "gridops found live Grid clusters that differ from git"


def drift_marker(settings_file: str) -> str:
    return f"<!-- gridops:drift:{settings_file} -->"


def is_drift(change: Change) -> bool:
    """A change that shows live differs from git (``Action.is_drift``, the rule
    ``gridops drift`` exits 2 on)."""
    return change.differs


def has_drift(plan: Plan) -> bool:
    return plan.has_drift


def drift_title(plan: Plan, settings_file: str) -> str:
    count = sum(1 for c in plan.changes if is_drift(c))
    return f"gridops: {count} cluster(s) differ from git ({settings_file})"


def render_drift_issue(plan: Plan, *, settings_file: str, run_url: str = "",
                       checked_sha: str | None = None, self_heal: bool = True,
                       limit: int = COMMENT_LIMIT, mask: Mask = no_mask) -> str:
    heal = ("Each scheduled run applies git right after its check (`selfHeal: true`), so "
            "what can be set back is set back."
            if self_heal else
            "Scheduled runs only report (`selfHeal: false`): nothing changes until someone "
            "runs `gridops apply` or changes git.")
    intro = (f"The live Grid clusters differ from what git says. {heal} This issue is "
             "updated by every scheduled check and closed when the drift is gone.")
    return render_plan_document(plan, PlanView(
        marker=drift_marker(settings_file), title=f"Drift from git · `{settings_file}`",
        settings_file=settings_file, run_url=run_url, planned_sha=checked_sha,
        limit=limit, mask=mask, full_plan_at=default_full_plan_at(run_url), intro=(intro,),
        sha_label="Checked at commit"))


def render_drift_gone(*, run_url: str = "", checked_sha: str | None = None) -> str:
    where = f" ([workflow run]({run_url}))" if run_url else ""
    at = f" at commit `{checked_sha[:12]}`" if checked_sha else ""
    return f"The live clusters match git again{at}{where}. Closing."
