"""What every command shares: the ``App`` it receives, built from the group's options by
``make_app`` (the resolver, the masked output, logging), and the confirmation before a change.
The ``reconciler.cli`` package is the only place that knows click."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from reconciler import run
from reconciler.errors import Aborted, ConfigError

if TYPE_CHECKING:  # the values a command uses load with the command
    from pathlib import Path

    from reconciler.model import SecretRef
    from reconciler.ports import GridAPI, LockInfo, StateBackend
    from reconciler.sources.secrets import Masker, Provider, Resolver


class _Log:
    """The ``gridops`` logger (``reconciler.logs``), made on first use."""

    def __getattr__(self, name: str) -> Any:
        from reconciler.logs import get_logger

        return getattr(get_logger("gridops"), name)


log = _Log()


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
    #: True when --settings named the file (then it must exist)
    settings_given: bool = False
    #: the Grid URL the credentials belong to (--pin-grid-url), or None
    pin_url: str | None = None
    #: the commit whose settings file pins the Grid URL (--pin-grid-url-from), or None
    pin_from: str | None = None
    #: colour on stdout and on stderr (``views.color.use_color``)
    color: bool = False
    color_err: bool = False
    _echo: Callable[..., None] = field(default=click.echo)
    _warned: set[str] = field(default_factory=set)
    #: the pinned Grid URL for each settings file, once worked out (it may read git)
    _pins: dict[str, str | None] = field(default_factory=dict)

    def out(self, text: str = "", *, nl: bool = True) -> None:
        """Write to stdout, secrets masked; styles kept only when colour is on."""
        self._echo(self.masker.mask(text), nl=nl, color=self.color)

    def err(self, text: str) -> None:
        self._echo(self.masker.mask(text), err=True, color=self.color_err)

    def configured(self, *, from_commit: bool = False) -> run.Configured:
        """The settings of the working tree (or, ``from_commit``, of the commit HEAD points
        at), read before the cluster files."""
        return run.read_settings(self.root, self.settings_file,
                                 settings_required=self.settings_given, from_commit=from_commit)

    def workspace(self, *, from_commit: bool = False,
                  configured: run.Configured | None = None,
                  git_read: run.GitRead | None = None) -> run.Workspace:
        """The repository as loaded: the working tree, or (``from_commit``) the commit HEAD
        points at, as apply uses it; ``configured``: its settings, already read, and
        ``git_read`` what git holds for them (``read_git``)."""
        return run.load_workspace(self.root, self.settings_file,
                                  settings_required=self.settings_given,
                                  from_commit=from_commit, configured=configured,
                                  git_read=git_read)

    def read_git(self, configured: run.Configured) -> run.GitRead:
        """What git holds for ``configured``: the commit's cluster files, what is uncommitted."""
        return run.read_git(self.root, self.settings_file, configured)

    def url(self, ws: run.Workspace | run.Configured) -> str:
        return self.grid_url or self.env.get("GRID_URL") or ws.settings.grid_url

    def aws_checks(self, ws: run.Workspace | run.Configured) -> bool:
        return run.checks_enabled(ws.settings.aws_checks, self.url(ws))

    def unpinned(self, ws: run.Workspace | run.Configured, *,
                 changes: bool = False) -> str | None:
        """What to say when the Grid URL is not the pinned one (None when it is, or when
        nothing is pinned); ``changes``: to a command that would change Grid."""
        if ws.settings.file not in self._pins:
            self._pins[ws.settings.file] = run.pinned_grid_url(
                self.root, ws.settings.file, url=self.pin_url, from_rev=self.pin_from)
        return run.check_pinned(self.url(ws), self._pins[ws.settings.file], changes=changes)

    def warn_once(self, text: str) -> None:
        """A warning on stderr (and as a workflow annotation in GitHub Actions), once."""
        if text in self._warned:
            return
        self._warned.add(text)
        self.err(f"warning: {text}")
        if self.env.get("GITHUB_ACTIONS") == "true":
            from reconciler.github.annotations import escape_data

            # on stderr too, which the runner reads as well: stdout may be --json
            self.err(f"::warning title=gridops::{escape_data(self.masker.mask(text))}")

    @contextmanager
    def grid(self, ws: run.Workspace | run.Configured, *,
             changes: bool = False) -> Iterator[GridAPI]:
        """The Grid client. Against a Grid that is not the pinned one, a command that
        ``changes`` Grid is refused and any other runs without credentials."""
        from reconciler.live import open_grid

        problem = self.unpinned(ws, changes=changes)
        if problem and changes:
            raise ConfigError(problem, hint="set the Grid URL to the pinned one, or change the pin "
                                   "(--pin-grid-url, the repository variable GRID_URL)")
        if problem:
            self.warn_once(problem)
        from pathlib import Path

        home = Path(self.env.get("HOME", "~")).expanduser()
        with open_grid(self.url(ws), env=self.env, home=home, repo_root=self.root,
                       send_credentials=problem is None, on_secret=self.masker.add) as client:
            yield client

    @contextmanager
    def listed(self, configured: run.Configured | None = None
               ) -> Iterator[tuple[run.Workspace, GridAPI, run.Listing]]:
        """The working tree loaded and the Grid client open, Grid's cluster list asked
        (``run.Listing``) as soon as the client is, while the cluster files load."""
        configured = configured or self.configured()
        with self.grid(configured) as grid:
            listing = run.Listing(grid)
            yield self.workspace(configured=configured), grid, listing

    def state(self, ws: run.Workspace | run.Configured) -> StateBackend:
        from reconciler.state import open_state

        return open_state(ws.settings, self.root)

    def lock_info(self) -> LockInfo:
        import getpass
        import socket
        import uuid

        from reconciler.ports import LockInfo

        who = f"{getpass.getuser()}@{socket.gethostname()}"
        run_id = self.env.get("GITHUB_RUN_ID", "")
        repo = self.env.get("GITHUB_REPOSITORY", "")
        return LockInfo(id=uuid.uuid4().hex[:12], who=who, when=run.now_iso(),
                        run=f"{repo} run {run_id}".strip() if run_id else "")


def make_app(ctx: click.Context, *, repo: str | None, settings_file: str | None,
             grid_url: str | None, pin_url: str | None, pin_from: str | None,
             log_format: str | None, verbose: int, no_color: bool) -> App:
    """The ``App`` for the group's options; logging set up, the collector tuned for the run."""
    from pathlib import Path

    from reconciler.logs import choose_format, configure_logging
    from reconciler.sources import gitsource
    from reconciler.sources.secrets import Masker
    from reconciler.sources.settings import SETTINGS_FILE
    from reconciler.views.color import use_color

    _tune_gc(ctx)
    env = dict(os.environ)
    root = (Path(repo) if repo else gitsource.find_repo_root(Path.cwd()) or Path.cwd()).resolve()
    resolver = _make_resolver(env, root)
    masker = Masker(resolver, env)
    color_err = use_color(sys.stderr, env, disabled=no_color)
    configure_logging(fmt=choose_format(log_format, env, sys.stderr), verbose=verbose,
                      masker=masker, color=color_err)
    return App(root=root, settings_file=settings_file or SETTINGS_FILE, grid_url=grid_url,
               env=env, resolver=resolver, masker=masker, verbose=verbose,
               settings_given=settings_file is not None, pin_url=pin_url or None,
               pin_from=pin_from or None,
               color=use_color(sys.stdout, env, disabled=no_color), color_err=color_err)


def _tune_gc(ctx: click.Context) -> None:
    """Fewer collections while the command runs: a plan of 10,000 clusters makes millions of
    objects and almost no cycles, and the collector's passes over them cost a fifth of its
    time. What is loaded so far is frozen (not scanned); cycles are still collected, less
    often. Both are undone when the command ends (the tests run many commands in one
    process)."""
    import gc

    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)

    def restore() -> None:
        gc.set_threshold(*thresholds)
        gc.unfreeze()

    ctx.call_on_close(restore)


def freeze_loaded() -> None:
    """Freeze what the command has loaded and planned so far: it lives until the command ends,
    and the collector's first pass over it otherwise came in the middle of apply's Grid calls
    (at 200 clusters, one 30-40 ms pass that stalled every call in flight). ``_tune_gc``
    unfreezes it when the command ends."""
    import gc

    gc.freeze()


def _make_resolver(env: dict[str, str], root: Path) -> Resolver:
    """fromEnv, plus the AWS kinds: ``aws.secrets`` loads with the first reference of theirs
    resolved (and no AWS session is made until one is needed)."""
    from reconciler.sources.secrets import REFERENCE_KINDS, Resolver, env_provider

    made: list[dict[str, Provider]] = []

    def provider(kind: str) -> Provider:
        def resolve(ref: SecretRef) -> str:
            if not made:
                from reconciler.aws.secrets import lazy_aws_providers

                made.append(lazy_aws_providers(repo_root=root))
            return made[0][kind](ref)

        return resolve

    aws = {kind: provider(kind) for kind in REFERENCE_KINDS if kind != "fromEnv"}
    return Resolver({"fromEnv": env_provider(env), **aws})


pass_app = click.make_pass_decorator(App)


class FilePath(click.Path):
    """A file named on the command line, given to the command as a ``pathlib.Path``. Not
    ``click.Path(path_type=Path)``: that needs pathlib loaded to declare the option, and
    ``gridops --help`` needs no pathlib (its import is a quarter of Python's start-up)."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False)

    def coerce_path_result(self, value: str | os.PathLike[str]) -> Path:
        from pathlib import Path

        return Path(value)


def confirm(app: App, auto_approve: bool, *, question: str = "Apply these changes?",
            flag: str = "--auto-approve", destructive: bool = False) -> None:
    """Ask at a terminal before changing anything: y/N, or for something ``destructive``
    (a delete) the word ``yes`` typed out, as Terraform asks."""
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise Aborted("no terminal to confirm", hint=f"review the above and run again with {flag}")
    if destructive:
        answer = click.prompt(f"{question} This deletes what is listed above; only 'yes' "
                              "will be accepted to approve", default="", show_default=False)
        if answer.strip() != "yes":
            raise Aborted("cancelled (the answer was not 'yes'); nothing was changed")
        return
    if not click.confirm(question, default=False):
        raise Aborted("cancelled; nothing was changed")
