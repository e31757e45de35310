"""The AWS account side in the command line: preflight (alone and in plan), sweeps of what a
deleted cluster left behind."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from reconciler import run
from reconciler.cli.app import App, confirm, pass_app
from reconciler.cli.completion import complete_cluster_names
from reconciler.errors import (
    ConfigError,
    PlanRefused,
)
from reconciler.views import render

if TYPE_CHECKING:
    from reconciler.aws.checks import Check
    from reconciler.aws.session import SessionFactory
    from reconciler.model import DesiredCluster, InventoryEntry
    from reconciler.plan.types import Plan


def leftover_finder(app: App) -> run.LeftoverFinder:
    """Finds what a deleted cluster left in its account, by the region gridops recorded."""
    def find(entry: InventoryEntry) -> tuple[str, ...]:
        from reconciler.aws.leftovers import without_grid_role
        from reconciler.aws.sweep import find_leftovers

        if not entry.region:
            raise ConfigError(f"the region of {entry.name} is not recorded")
        found = find_leftovers(entry.name, entry.region, _sessions(app))
        return tuple(x.ref for x in without_grid_role(found, entry.role_arn))

    return find


def _sessions(app: App) -> SessionFactory:
    from reconciler.aws.session import SessionFactory

    return SessionFactory(env=app.env)


def _run_checks(app: App, clusters: list[DesiredCluster]) -> list[Check]:
    from reconciler.aws.preflight import run_preflight

    def external_id(cluster: DesiredCluster) -> str:
        return app.resolver.resolve(cluster.external_id, cluster=cluster.name)

    return run_preflight(clusters, external_id, _sessions(app))


def with_preflight(app: App, ws: run.Workspace, the_plan: Plan, *, strict: bool) -> Plan:
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


@click.command("preflight")
@click.argument("names", nargs=-1, shell_complete=complete_cluster_names)
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


@click.command()
@click.argument("name", shell_complete=complete_cluster_names)
@click.option("--region", help="The region to sweep (default: the one gridops recorded).")
@click.option("--delete", "delete_", is_flag=True, help="Delete what was found.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before deleting.")
@click.option("--unowned", is_flag=True,
              help="Delete even though gridops has no record of owning NAME.")
@pass_app
def sweep(app: App, name: str, region: str | None, delete_: bool, yes: bool,
          unowned: bool) -> None:
    """List (and with --delete remove) the AWS resources cluster NAME left behind.

    Refuses while NAME still exists in Grid: its resources are in use.
    """
    from reconciler.aws.cleanup import delete_leftovers
    from reconciler.aws.leftovers import without_grid_role
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
    if delete_ and entry is None and not unowned:
        raise ConfigError(f"gridops has no record of owning {name}: its inventory does not "
                          "list it", hint="check the name; to delete what was found anyway, "
                          "add --unowned after reviewing the list without --delete")
    doc = ws.desired.clusters.get(name)
    region = region or (entry.region if entry else "") or (doc.region if doc else "")
    if not region:
        raise ConfigError(f"gridops does not know the region of {name}",
                          hint="give it with --region")
    bucket = dict(doc.aws_extra).get("bucketName") if doc else None
    sessions = _sessions(app)
    role_arn = (entry.role_arn if entry else "") or (doc.role_arn if doc else "")
    found = without_grid_role(
        find_leftovers(name, region, sessions, names=[bucket] if bucket else []), role_arn)
    app.out(render_leftovers(name, found))
    if not delete_ or not found:
        with backend.lock(app.lock_info()):
            run.remember_leftovers(backend, name, tuple(x.ref for x in found))
        return
    confirm(app, yes, question=f"Delete these {len(found)} resources?", flag="--yes",
            destructive=True)
    results = delete_leftovers(found, sessions)
    app.out(render_sweep_results(results))
    remaining = tuple(r.leftover.ref for r in results if r.outcome == "failed")
    with backend.lock(app.lock_info()):
        run.remember_leftovers(backend, name, remaining)
    if remaining:
        sys.exit(1)


