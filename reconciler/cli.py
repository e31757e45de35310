"""The command line: the only module that knows click. Each command parses its options,
builds the collaborators (Grid client, state backend, secret resolver, output) and calls one
function from ``reconciler.run``. One handler turns every GridopsError into a clear message
and its exit code."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
import structlog

from reconciler import __version__, gitsource, render, run
from reconciler.errors import (
    Aborted,
    ConfigError,
    GridopsError,
    PlanRefused,
    ValidationError,
)
from reconciler.logs import choose_format, configure_logging
from reconciler.plan import Plan
from reconciler.ports import GridAPI, LockInfo, StateBackend
from reconciler.secrets import Masker, Resolver, env_provider

log = structlog.get_logger("gridops")


@dataclass
class App:
    """What every command needs: where the repo is, the environment, and the masked output."""

    root: Path
    settings_file: str
    grid_url: str | None
    env: dict[str, str]
    resolver: Resolver
    masker: Masker
    verbose: int = 0
    _echo: Callable[..., None] = field(default=click.echo)

    def out(self, text: str = "", *, nl: bool = True) -> None:
        """Write to stdout, secrets masked."""
        self._echo(self.masker.mask(text), nl=nl)

    def err(self, text: str) -> None:
        self._echo(self.masker.mask(text), err=True)

    def workspace(self) -> run.Workspace:
        return run.load_workspace(self.root, self.settings_file)

    def url(self, ws: run.Workspace) -> str:
        return self.grid_url or self.env.get("GRID_URL") or ws.settings.grid_url

    def aws_checks(self, ws: run.Workspace) -> bool:
        return run.checks_enabled(ws.settings.aws_checks, self.url(ws))

    @contextmanager
    def grid(self, ws: run.Workspace) -> Iterator[GridAPI]:
        from reconciler.grid import open_grid

        home = Path(self.env.get("HOME", "~")).expanduser()
        with open_grid(self.url(ws), env=self.env, home=home, repo_root=self.root) as client:
            yield client

    def state(self, ws: run.Workspace) -> StateBackend:
        from reconciler.state import open_state

        return open_state(ws.settings, self.root)

    def lock_info(self) -> LockInfo:
        import getpass
        import socket
        import uuid

        who = f"{getpass.getuser()}@{socket.gethostname()}"
        run_id = self.env.get("GITHUB_RUN_ID", "")
        repo = self.env.get("GITHUB_REPOSITORY", "")
        return LockInfo(id=uuid.uuid4().hex[:12], who=who, when=run.now_iso(),
                        run=f"{repo} run {run_id}".strip() if run_id else "")


def _make_resolver(env: dict[str, str], root: Path) -> Resolver:
    providers: dict[str, Any] = {"fromEnv": env_provider(env)}
    try:
        from reconciler.aws.secrets import lazy_aws_providers
    except ImportError:  # pragma: no cover - AWS support ships with the package
        return Resolver(providers)
    providers.update(lazy_aws_providers(repo_root=root))
    return Resolver(providers)


class _Group(click.Group):
    """Maps every GridopsError to a clear message and its exit code; never a traceback for
    them. Unexpected errors print one line (and the traceback only with -vv)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GridopsError as e:
            _report(ctx, e)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:  # noqa: BLE001 - the last line of defence
            app = ctx.obj if isinstance(ctx.obj, App) else None
            message = f"internal error: {type(e).__name__}: {e}"
            click.echo(app.masker.mask(message) if app else message, err=True)
            if app and app.verbose > 1:
                click.echo(app.masker.mask(traceback.format_exc()), err=True)
            else:
                click.echo("  run again with -vv for details, and please report it", err=True)
            ctx.exit(1)


def _report(ctx: click.Context, e: GridopsError) -> None:
    app = ctx.obj if isinstance(ctx.obj, App) else None
    mask = app.masker.mask if app else (lambda s: s)
    if isinstance(e, ValidationError):
        for finding in e.findings:
            click.echo(mask(finding.format()), err=True)
    click.echo(mask(f"error: {e.message}"), err=True)
    if e.hint:
        click.echo(mask(f"  hint: {e.hint}"), err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"],
                                           "max_content_width": 100})
@click.version_option(__version__, prog_name="gridops")
@click.option("--repo", "repo", type=click.Path(file_okay=False, path_type=Path),
              help="The GitOps repository (default: the git repository around the current "
                   "folder).")
@click.option("--settings", "settings_file", default="gridops.yaml", show_default=True,
              help="The settings file, relative to the repository root.")
@click.option("--grid-url", help="Grid API base URL or sim://PATH (default: GRID_URL, then the "
                                 "settings file).")
@click.option("--log-format", type=click.Choice(["console", "json"]),
              help="Log format on stderr (default: console, json when CI=true).")
@click.option("-v", "--verbose", count=True, help="More log detail (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, repo: Path | None, settings_file: str, grid_url: str | None,
         log_format: str | None, verbose: int) -> None:
    """gridops: Grid BYOC clusters, the GitOps way.

    Cluster YAML in git is the desired state; `plan` shows what would change in Grid,
    `apply` makes it so, safely and idempotently.
    """
    env = dict(os.environ)
    root = (repo or gitsource.find_repo_root(Path.cwd()) or Path.cwd()).resolve()
    resolver = _make_resolver(env, root)
    masker = Masker(resolver, env)
    configure_logging(fmt=choose_format(log_format, env, sys.stderr), verbose=verbose,
                      masker=masker)
    ctx.obj = App(root=root, settings_file=settings_file, grid_url=grid_url, env=env,
                  resolver=resolver, masker=masker, verbose=verbose)


pass_app = click.make_pass_decorator(App)


# --- GitHub options (plan --comment, apply --comment, drift --issue) ---------------------------

_F = TypeVar("_F", bound=Callable[..., Any])

_GITHUB_OPTIONS = [
    ("--github-token", "token", "The token (default: GITHUB_TOKEN)."),
    ("--github-repository", "repository", "owner/name (default: GITHUB_REPOSITORY)."),
    ("--github-event-path", "event_path", "The event JSON (default: GITHUB_EVENT_PATH)."),
    ("--github-api-url", "api_url", "The REST API (default: GITHUB_API_URL)."),
    ("--github-server-url", "server_url", "For links (default: GITHUB_SERVER_URL)."),
    ("--github-run-id", "run_id", "The workflow run (default: GITHUB_RUN_ID)."),
    ("--base-sha", "base_sha", "The PR's base commit (default: from the event)."),
    ("--head-sha", "head_sha", "The commit planned or applied (default: the event, GITHUB_SHA)."),
    ("--step-summary", "step_summary", "The job summary file (default: GITHUB_STEP_SUMMARY)."),
]


def github_options(fn: _F) -> _F:
    """The GitHub context, each value also settable from the environment as Actions does."""
    for flag, name, help_text in reversed(_GITHUB_OPTIONS):
        fn = click.option(flag, "gh_" + name, help=help_text)(fn)
    return click.option("--pr", "gh_pr_number", type=int,
                        help="The pull request (default: from the event).")(fn)


def _github_context(app: App, values: dict[str, Any]) -> Any:
    from reconciler.github.context import ContextOptions, load_context

    options = ContextOptions(**{k[3:]: v for k, v in values.items() if k.startswith("gh_")})
    return load_context(app.env, options)


def _github_client(ctx: Any) -> Any:
    from reconciler.github.client import GitHubClient

    return GitHubClient(ctx.api_url, ctx.token)


def _annotate(app: App, findings: Any) -> None:
    """Findings as workflow annotations on the file and line, inside GitHub Actions."""
    from reconciler.github.annotations import annotation_lines, in_github_actions

    if in_github_actions(app.env):
        for line in annotation_lines(findings, mask=app.masker.mask):
            app.out(line)


# --- validate ---------------------------------------------------------------------------------

@main.command()
@click.argument("path", required=False)
@pass_app
def validate(app: App, path: str | None) -> None:
    """Check the cluster documents (or those under PATH) without contacting Grid."""
    from reconciler import settings_loader

    settings = settings_loader.load_settings(app.root, app.settings_file)
    if path:
        path = _repo_relative(app.root, path)
    clusters, findings = run.collect_findings(app.root, settings, path)
    for finding in findings:
        app.out(finding.format())
    _annotate(app, findings)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise _ValidationFailed(len(errors))
    app.out(f"{len(clusters)} cluster(s) valid.")


class WaitFailed(GridopsError):
    reason = "wait"


class _ValidationFailed(GridopsError):
    reason = "validation"

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} problem(s) found in the cluster documents",
                         hint="fix the findings above and run `gridops validate` again")


def _repo_relative(root: Path, path: str) -> str:
    p = Path(path)
    absolute = p if p.is_absolute() else (Path.cwd() / p)
    try:
        return absolute.resolve().relative_to(root).as_posix()
    except ValueError as e:
        raise ConfigError(f"{path} is outside the repository {root}") from e


# --- plan -------------------------------------------------------------------------------------

@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the plan to FILE for `gridops apply FILE`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
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
    gh = _github_context(app, github) if comment else None
    try:
        ws = app.workspace()
        with app.grid(ws) as grid:
            the_plan, _ = run.make_live_plan(ws, grid, app.state(ws), app.resolver,
                                             allow_empty=allow_empty)
        if preflight or strict or (preflight is None and app.aws_checks(ws)):
            the_plan = _with_preflight(app, ws, the_plan, strict=strict)
    except ValidationError as e:
        _annotate(app, e.findings)
        _publish_plan(app, gh, None, e.findings)
        raise
    except GridopsError as e:
        _publish_plan(app, gh, None, [], error=e)
        raise
    _publish_plan(app, gh, the_plan, list(ws.warnings), ws=ws)
    if out_file:
        out_file.write_text(app.masker.mask(the_plan.dumps()) + "\n", encoding="utf-8")
    app.out(render.render_plan_json(the_plan) if as_json else render.render_plan_text(the_plan))
    if detailed_exitcode:
        sys.exit(run.exit_code_for_plan(the_plan))


def _publish_plan(app: App, gh: Any, the_plan: Plan | None, findings: list[Any], *,
                  ws: run.Workspace | None = None, error: GridopsError | None = None) -> None:
    """The plan comment (with --comment) and the job summary (inside Actions)."""
    from reconciler.github.prview import split_for_pull_request
    from reconciler.github.publish import publish_plan, summarize_plan

    settings_file = ws.settings.file if ws else app.settings_file
    if error is not None and the_plan is None:
        from reconciler.errors import Finding

        findings = [Finding(file=settings_file, line=0, col=0, message=f"gridops could not "
                            f"plan: {error}")]
    pr_view = False
    if the_plan is not None and ws is not None and gh is not None:
        the_plan, pr_view = split_for_pull_request(
            the_plan, app.root, base=gh.base_sha, head=gh.head_sha or ws.desired.git_sha,
            clusters_dir=ws.settings.clusters_dir)
    summary = gh.step_summary if gh else app.env.get("GITHUB_STEP_SUMMARY")
    summarize_plan(summary, the_plan, findings=findings, masker=app.masker,
                   settings_file=settings_file, run_url=gh.run_url if gh else "",
                   pr_view=pr_view)
    if gh is None:
        return
    with _github_client(gh) as client:
        ref = publish_plan(client, gh, the_plan, findings=findings, masker=app.masker,
                           settings_file=settings_file,
                           labels=ws.settings.github_labels if ws else False, pr_view=pr_view)
    log.info("github.plan_comment", url=ref.html_url, created=ref.created)


# --- apply ------------------------------------------------------------------------------------

@main.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
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
@click.option("--lock-wait", default=0.0, type=float, show_default=True,
              help="Seconds to wait for the state lock held by another apply.")
@click.option("--comment", is_flag=True,
              help="Post each cluster's outcome to the pull request the commit came from.")
@click.option("--if-self-heal", is_flag=True,
              help="Apply only when the settings say selfHeal: true (scheduled runs).")
@github_options
@pass_app
def apply(app: App, /, plan_file: Path | None, auto_approve: bool, force_delete: bool,
          wait_: bool, timeout: float, interval: float, allow_empty: bool,
          lock_wait: float, comment: bool, if_self_heal: bool, **github: Any) -> None:
    """Carry out a plan: create, change and delete clusters in Grid."""
    gh = _github_context(app, github) if comment else None
    ws = app.workspace()
    if if_self_heal and not ws.settings.self_heal:
        app.out("selfHeal is false in the settings: drift is reported, not applied.")
        return
    run.refuse_uncommitted(ws)
    backend = app.state(ws)
    with app.grid(ws) as grid, backend.lock(app.lock_info(), wait_seconds=lock_wait):
        the_plan = _plan_for_apply(app, ws, grid, backend, plan_file, allow_empty)
        if not plan_file and the_plan.has_changes:
            _confirm(app, auto_approve)
        from reconciler.apply import apply_plan

        # Always carried out: even a plan without Grid changes may update the inventory
        # (deletion protection switched off, a deleted cluster dropped).
        before = backend.read().state
        result = apply_plan(the_plan, grid, app.resolver, backend, force_delete=force_delete,
                            git_sha=the_plan.git_sha)
        if force_delete or app.aws_checks(ws):
            for note in run.record_leftovers(backend, run.sweep_targets(before, the_plan, result),
                                             _leftover_finder(app)):
                app.err(f"warning: {note}")
        if not the_plan.has_changes:
            app.out("Nothing to apply.")
            _publish_apply(app, gh, ws, result, the_plan)
            return
        app.out(render.render_apply_text(result))
        _publish_apply(app, gh, ws, result, the_plan)
        if wait_ and not result.failed:
            _wait(app, grid, the_plan, timeout, interval)
    if result.failed:
        sys.exit(1)


def _publish_apply(app: App, gh: Any, ws: run.Workspace, result: Any, the_plan: Plan) -> None:
    from reconciler.github.publish import publish_apply, summarize_apply

    summary = gh.step_summary if gh else app.env.get("GITHUB_STEP_SUMMARY")
    summarize_apply(summary, result, the_plan, masker=app.masker,
                    settings_file=ws.settings.file, run_url=gh.run_url if gh else "",
                    applied_sha=ws.desired.git_sha, self_heal=ws.settings.self_heal)
    if gh is None:
        return
    with _github_client(gh) as client:
        publish_apply(client, gh, result, the_plan, masker=app.masker,
                      settings_file=ws.settings.file, self_heal=ws.settings.self_heal)


def _leftover_finder(app: App) -> run.LeftoverFinder:
    def find(entry: Any) -> tuple[str, ...]:
        from reconciler.aws.sweep import find_leftovers

        if not entry.region:
            raise ConfigError(f"the region of {entry.name} is not recorded")
        return tuple(x.ref for x in find_leftovers(entry.name, entry.region, _sessions(app)))

    return find


def _plan_for_apply(app: App, ws: run.Workspace, grid: GridAPI, backend: StateBackend,
                    plan_file: Path | None, allow_empty: bool) -> Plan:
    if plan_file is None:
        the_plan, _ = run.make_live_plan(ws, grid, backend, app.resolver,
                                         allow_empty=allow_empty)
        app.out(render.render_plan_text(the_plan))
        return the_plan
    try:
        text = plan_file.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read plan file {plan_file}: {e.strerror}") from e
    the_plan = Plan.loads(text, source=str(plan_file))
    run.check_not_stale(the_plan, git_sha=ws.desired.git_sha, live=grid.list_clusters())
    return the_plan


def _confirm(app: App, auto_approve: bool, *, question: str = "Apply these changes?",
             flag: str = "--auto-approve") -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise Aborted("no terminal to confirm", hint=f"review the above and run again with {flag}")
    if not click.confirm(question, default=False):
        raise Aborted("cancelled; nothing was changed")


def _wait(app: App, grid: GridAPI, the_plan: Plan, timeout: float, interval: float) -> None:
    from reconciler.apply import is_settled, wait_for
    from reconciler.model import PHASE_DELETED, PHASE_FAILED
    from reconciler.plan import Action

    targets = {c.name: c.action for c in the_plan.changes
               if c.action.value in ("create", "delete")}
    if not targets:
        return

    seen: dict[str, str] = {}

    def progress(name: str, phase: str, elapsed: float) -> None:
        shown = render.short_enum(phase) or "not listed"
        if targets[name] is Action.DELETE and phase != PHASE_DELETED:
            shown = "terminating"  # the phase stays RUNNING until teardown ends
        if seen.get(name) != shown:  # a line per change, not per poll
            seen[name] = shown
            app.err(f"  {name}: {shown} ({elapsed:.0f}s)")

    final = wait_for(grid, targets, timeout=timeout, interval=interval, on_progress=progress)
    unsettled = []
    for name, phase in sorted(final.items()):
        settled = is_settled(targets[name], phase)
        app.out(f"{name}: {render.short_enum(phase) or 'not listed'}"
                + ("" if settled else f" (still not settled after {timeout:.0f}s)"))
        if not settled or phase == PHASE_FAILED:
            unsettled.append(name)
    if unsettled:
        raise WaitFailed(f"not settled or failed: {', '.join(unsettled)}",
                         hint="see `gridops status`; the next apply picks up from here")


if __name__ == "__main__":  # pragma: no cover
    main()


# --- status, import, drift, force-unlock ------------------------------------------------------

@main.command()
@pass_app
def status(app: App) -> None:
    """Live clusters with their phase, whether gridops manages them, and drift."""
    ws = app.workspace()
    backend = app.state(ws)
    with app.grid(ws) as grid:
        the_plan, live = run.make_live_plan(ws, grid, backend, app.resolver, allow_empty=True)
    owned = backend.read().state.inventory
    app.out(render.render_status_table(render.status_rows(the_plan, live, owned)))


@main.command("import")
@click.argument("name")
@pass_app
def import_(app: App, name: str) -> None:
    """Adopt the live cluster NAME: record it in the inventory so gridops manages it."""
    ws = app.workspace()
    with app.grid(ws) as grid:
        entry = run.import_cluster(name, ws, grid, app.state(ws), lock=app.lock_info())
    protection = "on" if entry.deletion_protection else "off"
    app.out(f"Imported {name} (deletion protection {protection}). "
            "Run `gridops plan` to see how it compares with git.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--issue", is_flag=True,
              help="Keep one GitHub issue open while drift exists; close it when it is gone.")
@github_options
@pass_app
def drift(app: App, /, as_json: bool, issue: bool, **github: Any) -> None:
    """Compare git with live and report drift without changing anything.

    Exit 0 when live matches git, 2 when it does not, 1 on error.
    """
    gh = _github_context(app, github) if issue else None
    ws = app.workspace()
    with app.grid(ws) as grid:
        the_plan, _ = run.make_live_plan(ws, grid, app.state(ws), app.resolver,
                                         allow_empty=True)
    app.out(render.render_plan_json(the_plan) if as_json else render.render_plan_text(the_plan))
    if gh is not None:
        from reconciler.github.publish import sync_drift_issue

        with _github_client(gh) as client:
            ref = sync_drift_issue(client, gh, the_plan, masker=app.masker,
                                   settings_file=ws.settings.file,
                                   self_heal=ws.settings.self_heal)
        if ref is not None:
            app.err(f"drift issue #{ref.number}: {ref.state} ({ref.action})")
    sys.exit(run.exit_code_for_plan(the_plan))


@main.command("force-unlock")
@click.argument("lock_id")
@pass_app
def force_unlock(app: App, lock_id: str) -> None:
    """Release the apply lock LOCK_ID left behind by a run that died."""
    ws = app.workspace()
    app.state(ws).force_unlock(lock_id)
    app.out(f"Released lock {lock_id}.")


# --- the AWS account side ---------------------------------------------------------------------

def _sessions(app: App) -> Any:
    from reconciler.aws.session import SessionFactory

    return SessionFactory(env=app.env)


def _run_checks(app: App, clusters: list[Any]) -> list[Any]:
    from reconciler.aws.preflight import run_preflight

    def external_id(cluster: Any) -> str:
        return app.resolver.resolve(cluster.external_id, cluster=cluster.name)

    return run_preflight(clusters, external_id, _sessions(app))


def _with_preflight(app: App, ws: run.Workspace, the_plan: Plan, *, strict: bool) -> Plan:
    """Preflight the clusters about to be created; findings become plan warnings."""
    from dataclasses import replace

    from reconciler.aws.preflight import has_failures
    from reconciler.aws.report import render_checks

    creating = [ws.desired.clusters[c.name] for c in the_plan.changes
                if c.action.value == "create"]
    if not creating:
        return the_plan
    checks = _run_checks(app, creating)
    notes = [f"preflight {c.cluster} ({c.region}) {c.name}: {c.status}: {c.message}"
             + (f" ({c.hint})" if c.hint else "") for c in checks if c.status != "pass"]
    if strict and has_failures(checks):
        app.err(render_checks(checks))
        raise PlanRefused("preflight checks failed for clusters about to be created",
                          hint="fix the AWS account (see the table above), or plan without "
                               "--strict to see the rest of the plan")
    return replace(the_plan, warnings=(*the_plan.warnings, *notes))


@main.command("preflight")
@click.argument("names", nargs=-1)
@pass_app
def preflight_(app: App, names: tuple[str, ...]) -> None:
    """Check the AWS account side of the clusters in git (or only NAMES): credentials, the STS
    regional endpoint, the role and its external id, instance types, quotas and headroom.

    Exit 1 when any check fails.
    """
    from reconciler.aws.preflight import has_failures
    from reconciler.aws.report import render_checks

    ws = app.workspace()
    unknown = sorted(set(names) - set(ws.desired.clusters))
    if unknown:
        raise ConfigError(f"no cluster document named {', '.join(unknown)}",
                          hint="name clusters as written in metadata.name")
    clusters = [c for n, c in sorted(ws.desired.clusters.items()) if not names or n in names]
    checks = _run_checks(app, clusters)
    app.out(render_checks(checks))
    if has_failures(checks):
        sys.exit(1)


@main.command()
@click.argument("name")
@click.option("--region", help="The region to sweep (default: the one gridops recorded).")
@click.option("--delete", "delete_", is_flag=True, help="Delete what was found.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before deleting.")
@pass_app
def sweep(app: App, name: str, region: str | None, delete_: bool, yes: bool) -> None:
    """List (and with --delete remove) the AWS resources cluster NAME left behind.

    Refuses while NAME still exists in Grid: its resources are in use.
    """
    from reconciler.aws.cleanup import delete_leftovers
    from reconciler.aws.report import render_leftovers, render_sweep_results
    from reconciler.aws.sweep import find_leftovers

    ws = app.workspace()
    backend = app.state(ws)
    with app.grid(ws) as grid:
        live = {c.name: c for c in grid.list_clusters()}
    if name in live:
        raise ConfigError(f"{name} still exists in Grid ({render.short_enum(live[name].phase)}):"
                          " its AWS resources are in use",
                          hint="sweep after its delete has finished")
    entry = backend.read().state.inventory.get(name)
    doc = ws.desired.clusters.get(name)
    region = region or (entry.region if entry else "") or (doc.region if doc else "")
    if not region:
        raise ConfigError(f"gridops does not know the region of {name}",
                          hint="give it with --region")
    bucket = dict(doc.aws_extra).get("bucketName") if doc else None
    sessions = _sessions(app)
    found = find_leftovers(name, region, sessions, names=[bucket] if bucket else [])
    app.out(render_leftovers(name, found))
    if not delete_ or not found:
        run.remember_leftovers(backend, name, tuple(x.ref for x in found))
        return
    _confirm(app, yes, question=f"Delete these {len(found)} resources?", flag="--yes")
    results = delete_leftovers(found, sessions)
    app.out(render_sweep_results(results))
    remaining = tuple(r.leftover.ref for r in results if r.outcome == "failed")
    run.remember_leftovers(backend, name, remaining)
    if remaining:
        sys.exit(1)


def _add_sim() -> None:
    from reconciler.sim.cli import sim

    main.add_command(sim)


_add_sim()
