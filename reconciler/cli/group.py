"""The ``gridops`` group: its options, where each command is defined, and the one handler that
turns every GridopsError into a clear message and its exit code.

``gridops --version`` loads click and this module, nothing else: a command's module is imported
when the command runs, completes or is listed (``--help`` lists every command with its short
help, so it reads their definitions, and nothing they use when they run). The executable
answers ``--version``, and ``--help`` at the widths ``reconciler.cli.helptext`` stores, before
this module loads."""

from __future__ import annotations

import errno
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from reconciler import __version__

if TYPE_CHECKING:
    from reconciler.cli.app import App
    from reconciler.errors import GridopsError

#: Every command, by name, and where it is defined (``module:attribute``).
COMMANDS = {
    "validate": "reconciler.cli.commands:validate",
    "plan": "reconciler.cli.commands:plan",
    "apply": "reconciler.cli.commands:apply",
    "status": "reconciler.cli.commands:status",
    "import": "reconciler.cli.commands:import_",
    "drift": "reconciler.cli.commands:drift",
    "force-unlock": "reconciler.cli.commands:force_unlock",
    "preflight": "reconciler.cli.aws:preflight_",
    "sweep": "reconciler.cli.aws:sweep",
    "schema": "reconciler.cli.schemas:schema",
    "sim": "reconciler.sim.cli:sim",
}

#: What the commands' code uses, deferred (``reconciler.lazy``) before the first command module
#: loads: their definitions need none of it, and each command loads only what it runs.
_DEFERRED = ("reconciler.run", "reconciler.views.render", "reconciler.logs")


class _LazyGroup(click.Group):
    """A group whose commands are imported by name when first used and given the examples and
    exit codes of their ``--help`` then (``reconciler.cli.help``); the group gets its own when
    its help is shown."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from reconciler.cli.help import help_epilog

        self.epilog = help_epilog("")
        super().format_help(ctx, formatter)

    def _load(self, name: str) -> click.Command:
        from reconciler.cli.help import add_help_epilogs
        from reconciler.lazy import defer_import

        for deferred in _DEFERRED:
            defer_import(deferred)
        module, _, attribute = self.lazy_commands[name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command) or command.name != name:
            raise TypeError(f"{self.lazy_commands[name]} is not the command {name!r}")
        add_help_epilogs(command, name)
        return command


class _UsageError(click.UsageError):
    """A usage error with gridops' exit code and click's message and usage line."""

    def __init__(self, error: click.UsageError) -> None:
        from reconciler.errors import EXIT_USAGE

        super().__init__(error.format_message(), error.ctx)
        # click types exit_code a ClassVar; set here, errors load only when a usage error does
        self.exit_code = EXIT_USAGE  # type: ignore[misc]


class _Group(_LazyGroup):
    """Maps every GridopsError to a clear message and its exit code; never a traceback for
    them. Unexpected errors print one line (and the traceback only with -vv). Usage errors
    (an unknown option, a bad argument) exit ``EXIT_USAGE``, never click's 2, which gridops
    keeps for "live differs from git"."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as e:
            raise _UsageError(e) from e

    def invoke(self, ctx: click.Context) -> Any:
        from reconciler.errors import EXIT_ERROR, EXIT_INTERRUPTED, GridopsError

        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # a subcommand's options or arguments
            raise _UsageError(e) from e
        except GridopsError as e:
            _report(ctx, e)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as e:
            if e.errno == errno.EPIPE:  # the reader went away (`| head`): click ends quietly
                raise
            _report(ctx, _system_error(e))
            ctx.exit(EXIT_ERROR)
        except Exception as e:  # noqa: BLE001 - the last line of defence
            import traceback

            app = _app(ctx)
            message = f"internal error: {type(e).__name__}: {e}"
            click.echo(app.masker.mask(message) if app else message, err=True)
            if app and app.verbose > 1:
                click.echo(app.masker.mask(traceback.format_exc()), err=True)
            else:
                click.echo("  run again with -vv for details, and please report it", err=True)
            ctx.exit(EXIT_ERROR)


def _app(ctx: click.Context) -> App | None:
    from reconciler.cli.app import App

    return ctx.obj if isinstance(ctx.obj, App) else None


def _system_error(e: OSError) -> GridopsError:
    """An error the system gave that no part of gridops turned into its own (the output going
    to a full disk): what the system said, not a gridops fault to report."""
    from reconciler.errors import GridopsError

    where = f": {e.filename}" if e.filename else ""
    return GridopsError(f"{e.strerror or e}{where}",
                        hint="the system refused what gridops asked of it (a file, the output, "
                             "a connection): check the disk space, the permissions and where "
                             "the output goes")


def _report(ctx: click.Context, e: GridopsError) -> None:
    from reconciler.errors import ValidationError
    from reconciler.printable import printable

    app = _app(ctx)
    mask = app.masker.mask if app else (lambda s: s)
    if isinstance(e, ValidationError):
        for finding in e.findings:
            click.echo(mask(finding.format()), err=True)
    # one line each, whatever value the message quotes (see Finding.format)
    click.echo(mask(printable(f"error: {e.message}")), err=True)
    if e.hint:
        click.echo(mask(printable(f"  hint: {e.hint}")), err=True)


@click.group(cls=_Group, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gridops")
@click.option("--repo", "repo", type=click.Path(exists=True, file_okay=False),
              help="The GitOps repository (default: the git repository around the current "
                   "folder).")
@click.option("--settings", "settings_file", default=None,
              help="The settings file, relative to the repository root (default: "
                   "gridops.yaml, optional).")
@click.option("--grid-url", help="Grid API base URL or sim://PATH (default: GRID_URL, then the "
                                 "settings file).")
@click.option("--pin-grid-url", "pin_url", envvar="GRIDOPS_PIN_GRID_URL", show_envvar=True,
              help="The Grid the credentials belong to: against any other Grid URL, plan "
                   "runs without credentials and apply refuses.")
@click.option("--pin-grid-url-from", "pin_from", envvar="GRIDOPS_PIN_GRID_URL_FROM",
              show_envvar=True, metavar="REV",
              help="Pin the Grid URL of the settings file at commit REV (a pull request's "
                   "base) when --pin-grid-url is not given.")
@click.option("--log-format", type=click.Choice(["console", "json"]),
              help="Log format on stderr (default: console, json when CI=true).")
@click.option("-v", "--verbose", count=True, help="More log detail (-vv for debug).")
@click.option("--no-color", is_flag=True,
              help="No colour in the plan or the logs (also NO_COLOR; FORCE_COLOR forces it). "
                   "Default: colour only at a terminal.")
@click.pass_context
def main(ctx: click.Context, /, **options: Any) -> None:
    """gridops: Grid BYOC clusters, the GitOps way.

    Cluster YAML in git is the desired state; `plan` shows what would change in Grid,
    `apply` makes it so, safely and idempotently.
    """
    from reconciler.cli.app import make_app

    ctx.obj = make_app(ctx, **options)
