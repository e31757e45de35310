"""What ``--help`` shows beyond the options: two or three examples for each main command and
the exit codes (``reconciler.errors.EXIT_CODES``, the one table) on every command. The group
adds them to a command when it loads it, and to itself when it shows its help: ``--version``
needs none of it."""

from __future__ import annotations

import click

from reconciler.errors import describe_exit_codes

#: Examples per command path (``sim serve`` for a subcommand), shown in this order.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("gridops validate", "gridops plan --detailed-exitcode",
         "gridops apply --auto-approve --wait"),
    "validate": ("gridops validate",
                 "gridops validate clusters/research/",
                 "gridops validate --format sarif > gridops.sarif"),
    "plan": ("gridops plan",
             "gridops plan --out plan.json && gridops apply plan.json",
             "gridops plan --json | jq .summary"),
    "apply": ("gridops apply",
              "gridops apply --auto-approve --wait --timeout 1800",
              "gridops apply plan.json --lock-wait 600"),
    "status": ("gridops status", "GRID_URL=https://platform.grid.ai gridops status"),
    "drift": ("gridops drift", "gridops drift --json > drift.json",
              "gridops drift --issue --out plan.json"),
    "import": ("gridops import research-use1", "gridops import research-use1 && gridops plan"),
    "preflight": ("gridops preflight", "gridops preflight research-use1 platform-usw2"),
    "sweep": ("gridops sweep research-sandbox",
              "gridops sweep research-sandbox --region us-east-1 --delete"),
    "force-unlock": ("gridops force-unlock 3f2a9c1e7b4d",),
    "schema": ("gridops schema cluster > .gridops/gridcluster.schema.json",
               "gridops schema settings --path", "gridops schema --list"),
    "sim serve": ("gridops sim serve --port 8080 --db sim.db --user-id me --api-key key",
                  "gridops sim serve --db sim.db --user-id me --api-key key --fail broken=quota"),
}


def add_help_epilogs(command: click.Command, path: str) -> None:
    """Give ``command`` (at ``path``: ``sim`` for ``gridops sim``) and every command under it
    their examples and the exit codes."""
    for where, each in _walk(command, path):
        each.epilog = help_epilog(where)


def help_epilog(path: str) -> str:
    """The examples of the command at ``path`` ("" for ``gridops`` itself) and the exit codes."""
    examples = EXAMPLES.get(path, ())
    # \b keeps click from rewrapping the block.
    parts = []
    if examples:
        parts.append("\b\nExamples:\n" + "\n".join(f"  {e}" for e in examples))
    parts.append("\b\nExit codes:\n" + describe_exit_codes())
    return "\n\n".join(parts)


def _walk(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _walk(sub, f"{path} {name}".strip())
    return found
