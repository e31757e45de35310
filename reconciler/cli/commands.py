"""The reconcile commands: validate, plan, apply, status, import, drift, force-unlock. Each
parses its options, builds the collaborators and calls ``reconciler.run``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import click

from reconciler import run
from reconciler.cli.app import App, FilePath, confirm, freeze_loaded, pass_app
from reconciler.cli.aws import leftover_finder, with_preflight
from reconciler.cli.completion import complete_cluster_names
from reconciler.cli.github import (
    annotate,
    github_context,
    github_options,
    is_latest,
    publish_apply_outcome,
    publish_drift_issue,
    publish_plan_comment,
)
from reconciler.errors import (
    Aborted,
    ConfigError,
    GridopsError,
    ValidationError,
)
from reconciler.views import render

if TYPE_CHECKING:  # the plan's types load with the commands that make or read one
    from pathlib import Path

    from reconciler.plan.types import ApplyResult, Plan
    from reconciler.ports import GridAPI

# --- validate ---------------------------------------------------------------------------------

@click.command()
@click.argument("path", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]),
              default="text", show_default=True,
              help="text: FILE:LINE:COL: message; json: the findings as data; sarif: SARIF "
                   "2.1.0 for code scanning; github: workflow commands (annotations).")
@pass_app
def validate(app: App, path: str | None, fmt: str) -> None:
    """Check the cluster documents (or those under PATH) without contacting Grid.

    Every document of every file is read (several per file, with ---), with the defaults of
    its folder; each finding names its file, line and column.
    """
    from reconciler.github.annotations import annotation_lines
    from reconciler.sources import settings_loader
    from reconciler.sources.workspace import collect_findings
    from reconciler.views import findings as views

    try:
        settings = settings_loader.load_settings(app.root, app.settings_file,
                                                 required=app.settings_given)
    except ValidationError as e:  # the settings file's own findings, in the format asked
        if fmt == "text":
            raise
        count, findings = 0, list(e.findings)
    else:
        if path:
            path = _repo_relative(app.root, path)
        clusters, findings = collect_findings(app.root, settings, path)
        count = len(clusters)
    if fmt == "json":
        app.out(views.render_findings_json(findings, clusters=count), nl=False)
    elif fmt == "sarif":
        app.out(views.render_findings_sarif(findings), nl=False)
    elif fmt == "github":
        for line in annotation_lines(findings, mask=app.masker.mask):
            app.out(line)
    else:
        app.out(views.render_findings_text(findings), nl=False)
        annotate(app, findings)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise _ValidationFailed(len(errors))
    if fmt in ("text", "github"):
        app.out(f"{count} cluster(s) valid.")


class WaitFailed(GridopsError):
    reason = "wait"


class _ValidationFailed(GridopsError):
    reason = "validation"

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} problem(s) found in the cluster documents",
                         hint="fix the findings above and run `gridops validate` again")


def _repo_relative(root: Path, path: str) -> str:
    """PATH relative to the repository root; a relative PATH is looked up from the current
    folder, then from the repository root (for --repo)."""
    from pathlib import Path

    given = Path(path)
    candidates = [given] if given.is_absolute() else [Path.cwd() / given, root / given]
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        raise ConfigError(f"{path} does not exist",
                          hint="name a folder or file of cluster documents")
    try:
        return found.resolve().relative_to(root).as_posix()
    except ValueError as e:
        raise ConfigError(f"{path} is outside the repository {root}") from e


# --- plan -------------------------------------------------------------------------------------

@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--out", "out_file", type=FilePath(),
              help="Save the plan to FILE for `gridops apply FILE`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when live matches git (or is on its way), 2 when it differs in any "
                   "way (changes, blocked, failed, a wait with changes to follow), 1 on error.")
@click.option("--allow-empty", is_flag=True,
              help="Allow an empty desired set to prune every managed cluster.")
@click.option("--preflight/--no-preflight", default=None,
              help="Check the AWS account of clusters about to be created (default: the "
                   "awsChecks setting; off against the emulator).")
@click.option("--strict", is_flag=True, help="A failing preflight check stops the plan.")
@click.option("--comment", is_flag=True,
              help="Keep the plan as one comment on the pull request (and the job summary).")
@github_options
@pass_app
def plan(app: App, /, as_json: bool, out_file: Path | None, detailed_exitcode: bool,
         allow_empty: bool, preflight: bool | None, strict: bool, comment: bool,
         **github: Any) -> None:
    """Show what apply would change in Grid."""
    gh = github_context(app, github) if comment else None
    if out_file and not out_file.parent.is_dir():
        raise ConfigError(f"cannot save the plan to {out_file}: its folder does not exist")
    unpinned: str | None = None
    try:
        configured = app.configured()
        unpinned = app.unpinned(configured)
        with app.listed(configured) as (ws, grid, listing):
            pr_base = run.pull_request_base(ws, gh.base_sha, gh.head_sha) if gh else None
            the_plan, _ = run.make_live_plan(ws, grid, app.state(ws), app.resolver,
                                             allow_empty=allow_empty, base_rev=pr_base,
                                             listing=listing)
        if preflight or strict or (preflight is None and app.aws_checks(ws)):
            the_plan = with_preflight(app, ws, the_plan, strict=strict)
    except ValidationError as e:
        annotate(app, e.findings)
        publish_plan_comment(app, gh, None, e.findings)
        raise
    except GridopsError as e:
        shown = ConfigError(f"{unpinned}. Then: {e.message}", hint=e.hint) if unpinned else e
        publish_plan_comment(app, gh, None, [], error=shown)
        raise
    if unpinned:
        the_plan = replace(the_plan, warnings=(unpinned, *the_plan.warnings))
    if out_file:  # the plan holds no secret values by construction: saved exactly as made
        _write_plan(out_file, the_plan)
    app.out(render.render_plan_json(the_plan) if as_json
            else render.render_plan_text(the_plan, color=app.color))
    publish_plan_comment(app, gh, the_plan, list(ws.warnings), ws=ws)
    if detailed_exitcode:
        sys.exit(run.exit_code_for_plan(the_plan))


def _write_plan(path: Path, the_plan: Plan) -> None:
    try:
        path.write_text(the_plan.dumps() + "\n", encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot save the plan to {path}: {e.strerror}") from e


# --- apply ------------------------------------------------------------------------------------

@click.command()
@click.argument("plan_file", required=False, type=FilePath())
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force-delete", is_flag=True,
              help="Delete with force=true: Grid forgets the cluster at once and leaves its AWS "
                   "resources behind.")
@click.option("--wait", "wait_", is_flag=True,
              help="Follow created clusters to RUNNING and deleted ones to DELETED.")
@click.option("--timeout", default=3600.0, show_default=True, type=float,
              help="Seconds --wait follows the clusters before giving up.")
@click.option("--allow-empty", is_flag=True,
              help="Allow an empty desired set to prune every managed cluster.")
@click.option("--interval", default=15.0, type=float, show_default=True,
              help="Seconds between polls while --wait follows the clusters.")
@click.option("--failed-grace", default=3, type=click.IntRange(min=0), show_default=True,
              help="Polls --wait keeps watching a FAILED cluster before giving up: Grid may "
                   "retry it back to RUNNING.")
@click.option("--progress-every", default=30.0, type=click.FloatRange(min=0.01),
              show_default=True,
              help="Seconds between the 'still waiting' lines --wait writes per cluster.")
@click.option("--lock-wait", default=0.0, type=float, show_default=True,
              help="Seconds to wait for the state lock held by another apply.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 256),
              help="Grid calls in flight at once.")
@click.option("--comment", is_flag=True,
              help="Post each cluster's outcome to the pull request the commit came from.")
@click.option("--if-self-heal", is_flag=True,
              help="Apply only when the settings say selfHeal: true (scheduled runs).")
@click.option("--only-if-latest", is_flag=True,
              help="Skip (exit 0) when the commit is no longer the tip of the default branch, "
                   "so a re-run of an old job never applies stale git (asks GitHub).")
@github_options
@pass_app
def apply(app: App, /, plan_file: Path | None, auto_approve: bool, force_delete: bool,
          wait_: bool, timeout: float, interval: float, failed_grace: int, allow_empty: bool,
          progress_every: float, lock_wait: float, parallelism: int, comment: bool,
          if_self_heal: bool,
          only_if_latest: bool, **github: Any) -> None:
    """Carry out a plan: create, change and delete clusters in Grid."""
    gh = github_context(app, github) if comment or only_if_latest else None
    publish_to = gh if comment else None
    loaded = _Loaded()
    try:
        saved = _read_plan_file(plan_file) if plan_file else None
        conf = loaded.configured = app.configured(from_commit=True)  # the commit's, as the files
        if if_self_heal and not conf.settings.self_heal:
            app.out("selfHeal is false in the settings: drift is reported, not applied.")
            return
        options = _ApplyOptions(auto_approve, force_delete, allow_empty, lock_wait,
                                gh if only_if_latest else None, parallelism)
        done = _apply(app, conf, saved, options, loaded)
        if done is None:
            return
        the_plan, result = done
    except Aborted:
        raise
    except GridopsError as e:  # stopped before any cluster was tried: say so where it counts
        from reconciler.plan.types import ApplyResult

        publish_apply_outcome(app, publish_to, loaded.last,
                              ApplyResult(results=(), error=e.message), None)
        raise
    publish_apply_outcome(app, publish_to, loaded.last, result, the_plan)
    if wait_ and the_plan.has_changes and not result.failed:
        with app.grid(conf) as grid:
            _wait(app, grid, the_plan, timeout, interval, failed_grace, progress_every)
    unconverged = render.render_unconverged(the_plan)
    if unconverged:
        app.out("\n" + unconverged.rstrip("\n"))
    if result.failed or unconverged:
        sys.exit(1)


@dataclass
class _Loaded:
    """What an apply has read so far: the settings, then the whole commit (for the outcome
    it reports when it stops part way)."""

    configured: run.Configured | None = None
    workspace: run.Workspace | None = None

    @property
    def last(self) -> run.Workspace | run.Configured | None:
        return self.workspace or self.configured


@dataclass(frozen=True)
class _ApplyOptions:
    auto_approve: bool
    force_delete: bool
    allow_empty: bool
    lock_wait: float
    #: the GitHub context to ask for the default branch's tip (--only-if-latest), or None
    latest_from: Any = None
    #: Grid calls in flight at once
    parallelism: int = 10


def _apply(app: App, conf: run.Configured, saved: Plan | None, options: _ApplyOptions,
           loaded: _Loaded) -> tuple[Plan, ApplyResult] | None:
    """Under the state lock: check the commit is still the newest (--only-if-latest: after
    waiting for the lock, so a newer run that went first is never undone), ask Grid for its
    list while the commit's cluster files load, plan (or check the saved plan), confirm,
    apply, sweep. None when skipped. ``loaded`` gets the commit's files once they are read."""
    # git reads the commit's objects (fixed by its sha) and the working tree's status from the
    # start, on the other core, while Python imports the client and takes the lock; the
    # files are parsed under the lock, while Grid answers the list
    reading = run.Background(lambda: app.read_git(conf), name="gridops-git")
    backend = app.state(conf)
    finder = leftover_finder(app) if options.force_delete or app.aws_checks(conf) else None
    lock = app.lock_info()

    def waiting(holder: Mapping[str, str], seconds: float) -> None:
        who = holder.get("who", "another run") + (f" (run {holder['run']})"
                                                   if holder.get("run") else "")
        app.err(f"waiting for the state lock held by {who} since {holder.get('when', '?')} "
                f"({seconds:.0f}s of {options.lock_wait:.0f}s)")

    with app.grid(conf, changes=True) as grid, \
            backend.lock(lock, wait_seconds=options.lock_wait, on_wait=waiting):
        if options.latest_from is not None and not _still_latest(app, options.latest_from,
                                                                 conf):
            return None
        # asked under the lock, so no other apply changes Grid between the list and the plan
        listing = run.Listing(grid)
        # the commit's objects only
        ws = loaded.workspace = app.workspace(configured=conf, git_read=reading.result())
        the_plan = run.plan_for_apply(ws, grid, backend, app.resolver, saved=saved,
                                      allow_empty=options.allow_empty, listing=listing)
        if saved is None:
            app.out(render.render_plan_text(the_plan, color=app.color))
            if the_plan.has_changes:
                from reconciler.plan.types import Action

                confirm(app, options.auto_approve,
                        destructive=the_plan.count(Action.DELETE) > 0)
        # Always carried out: even a plan without Grid changes may update the inventory
        # (deletion protection switched off, a deleted cluster dropped).
        freeze_loaded()
        result, notes = run.apply_changes(the_plan, grid, backend, app.resolver,
                                          force_delete=options.force_delete,
                                          find_leftovers=finder, run_id=lock.id,
                                          parallelism=options.parallelism)
    for note in notes:
        app.err(f"warning: {note}")
    app.out(render.render_apply_text(result, color=app.color) if the_plan.has_changes
            else "Nothing to apply.")
    return the_plan, result


def _still_latest(app: App, gh: Any, conf: run.Configured) -> bool:
    latest, tip = is_latest(app, gh, conf.sha)
    if not latest:
        sha = (conf.sha or "")[:12]
        app.out(f"Skipped: {sha} is no longer the tip of the default branch ({tip[:12]}); "
                "the run for the newer commit applies git as it is now.")
    return latest


def _read_plan_file(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read plan file {path}: {e}") from e
    from reconciler.plan.types import Plan

    return Plan.loads(text, source=str(path))


def _wait(app: App, grid: GridAPI, the_plan: Plan, timeout: float, interval: float,
          failed_grace: int, progress_every: float = 30.0) -> None:
    from reconciler.apply.engine import is_settled, wait_for
    from reconciler.model import PHASE_FAILED
    from reconciler.plan.types import Action
    from reconciler.views.progress import WaitProgress

    targets = {c.name: c.action for c in the_plan.changes
               if c.action.value in ("create", "delete")}
    if not targets:
        return
    report = WaitProgress(deleting=frozenset(n for n, a in targets.items()
                                             if a is Action.DELETE),
                          every=progress_every, failed_grace=failed_grace)

    def progress(name: str, phase: str, elapsed: float) -> None:
        for line in report.poll(name, phase, elapsed, settled=is_settled(targets[name], phase)):
            app.err(line)

    final = wait_for(grid, targets, timeout=timeout, interval=interval,
                     failed_grace=failed_grace, on_progress=progress)
    settled = {name: is_settled(targets[name], phase) for name, phase in final.items()}
    for line in report.summary(final, settled, timeout):
        app.out(line)
    unsettled = [n for n, phase in sorted(final.items()) if not settled[n] or phase == PHASE_FAILED]
    if unsettled:
        raise WaitFailed(f"not settled or failed: {', '.join(unsettled)}",
                         hint="see `gridops status`; the next apply picks up from here")


# --- status, import, drift, force-unlock ------------------------------------------------------

@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the clusters as JSON.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Live clusters with their phase, whether gridops manages them, drift, and age."""
    from datetime import UTC, datetime

    with app.listed() as (ws, grid, listing):
        backend = app.state(ws)
        the_plan, live = run.make_live_plan(ws, grid, backend, app.resolver, guarded=False,
                                            listing=listing)
    owned = {name for name, entry in backend.read().state.inventory.items()
             if not entry.creating}  # a create not yet confirmed is not owned yet
    rows = render.status_rows(the_plan, live, owned, now=datetime.now(UTC))
    app.out(render.render_status_json(rows) if as_json
            else render.render_status_table(rows, color=app.color))


@click.command("import")
@click.argument("name", shell_complete=complete_cluster_names)
@pass_app
def import_(app: App, name: str) -> None:
    """Adopt the live cluster NAME: record it in the inventory so gridops manages it."""
    ws = app.workspace()
    with app.grid(ws, changes=True) as grid:
        entry = run.import_cluster(name, ws, grid, app.state(ws), lock=app.lock_info())
    protection = "on" if entry.deletion_protection else "off"
    app.out(f"Imported {name} (deletion protection {protection}). "
            "Run `gridops plan` to see how it compares with git.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--issue", is_flag=True,
              help="Keep one GitHub issue open while drift exists; close it when it is gone.")
@click.option("--out", "out_file", type=FilePath(),
              help="Save the plan to FILE (for a workflow artifact).")
@github_options
@pass_app
def drift(app: App, /, as_json: bool, issue: bool, out_file: Path | None,
          **github: Any) -> None:
    """Compare git with live and report drift without changing anything.

    Exit 0 when live matches git, 2 when it does not, 1 on error.
    """
    gh = github_context(app, github) if issue else None
    with app.listed() as (ws, grid, listing):
        the_plan, _ = run.make_live_plan(ws, grid, app.state(ws), app.resolver, guarded=False,
                                         listing=listing)
    if out_file:
        _write_plan(out_file, the_plan)
    app.out(render.render_plan_json(the_plan) if as_json
            else render.render_plan_text(the_plan, color=app.color))
    publish_plan_comment(app, None, the_plan, list(ws.warnings), ws=ws)  # the job summary
    if gh is not None:
        publish_drift_issue(app, gh, ws, the_plan)
    sys.exit(run.exit_code_for_plan(the_plan))


@click.command("force-unlock")
@click.argument("lock_id")
@click.option("--force", is_flag=True,
              help="S3 state: release a lock younger than a run may last (its holder may be "
                   "alive: check first). A local lock held by a live process is never released.")
@pass_app
def force_unlock(app: App, lock_id: str, force: bool) -> None:
    """Release the apply lock LOCK_ID left behind by a run that died."""
    ws = app.workspace()
    app.state(ws).force_unlock(lock_id, force=force)
    app.out(f"Released lock {lock_id}.")
