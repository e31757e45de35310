"""--help: examples that parse and the exit codes on every command; shell completion of
cluster names from the repository's documents, without Grid."""

from __future__ import annotations

import shlex

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.cli.help import EXAMPLES
from reconciler.errors import EXIT_CODES
from tests.cli.conftest import GitOpsRepo, cluster_doc

MAIN_COMMANDS = ["validate", "plan", "apply", "status", "drift", "import", "preflight", "sweep",
                 "schema"]


def _subcommand(group: click.Group, name: str) -> click.Command | None:
    return group.get_command(click.Context(group), name)  # gridops loads its commands by name


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name in group.list_commands(click.Context(group)):
        command = _subcommand(group, name)
        found += (_commands(command, (*path, name)) if isinstance(command, click.Group)
                  else [(*path, name)])
    return found


@pytest.mark.parametrize("path", _commands(main), ids=lambda p: " ".join(p) or "gridops")
def test_every_command_shows_the_exit_codes_in_its_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    codes = result.stdout.split("Exit codes:")[1]
    assert [line.split()[0] for line in codes.strip().splitlines()] == [
        str(code) for code, _ in EXIT_CODES]


@pytest.mark.parametrize("name", MAIN_COMMANDS)
def test_each_main_command_has_two_or_three_examples(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    examples = result.stdout.split("Examples:")[1].split("Exit codes:")[0].strip().splitlines()
    assert 2 <= len(examples) <= 3
    assert all(line.strip().split()[0] in ("gridops",) or "=" in line.split()[0]
               for line in examples)


def _example_args(example: str) -> list[str]:
    """The gridops arguments of an example, up to the first shell operator."""
    words = shlex.split(example)
    words = words[next(i for i, w in enumerate(words) if w == "gridops") + 1:]
    cut = next((i for i, w in enumerate(words) if w in ("&&", "|", ">", ";", "||")), len(words))
    return words[:cut]


@pytest.mark.parametrize("example", sorted({e for es in EXAMPLES.values() for e in es}))
def test_every_example_parses_with_the_real_options(example: str) -> None:
    args = _example_args(example)
    command: click.Command = main
    while isinstance(command, click.Group) and args:
        sub = _subcommand(command, args[0])
        if sub is None:
            break
        command = sub
        args.pop(0)
    assert not isinstance(command, click.Group) or not args, example
    command.make_context(command.name or "gridops", list(args))  # raises on a bad option


def test_the_group_lists_and_loads_every_command() -> None:
    names = [path[0] for path in _commands(main) if len(path) == 1]

    assert names == sorted([*MAIN_COMMANDS, "force-unlock", "sim"])
    assert ("sim", "serve") in _commands(main)


def test_examples_are_only_for_commands_that_exist() -> None:
    paths = {" ".join(p) for p in _commands(main)}
    assert set(EXAMPLES) <= paths


def _complete(gitops: GitOpsRepo, words: str) -> list[str]:
    line = f"gridops --repo {gitops.root} {words}"
    env = {"_GRIDOPS_COMPLETE": "bash_complete", "COMP_WORDS": line,
           "COMP_CWORD": str(len(shlex.split(line)) - (0 if line.endswith(" ") else 1))}
    result = CliRunner().invoke(main, [], env=env, prog_name="gridops")
    return [item.split(",", 1)[1] for item in result.stdout.splitlines()]


@pytest.mark.parametrize("command", ["import", "sweep", "preflight"])
def test_cluster_names_complete_from_the_documents_without_grid(
        gitops: GitOpsRepo, command: str) -> None:
    gitops.write("clusters/team-a/more.yaml", cluster_doc("alpha-2") + "---\n"
                 + cluster_doc("gamma"))
    gitops.sim.stop()  # no Grid to ask: completion reads only the repository
    assert _complete(gitops, f"{command} al") == ["alpha", "alpha-2"]
    assert _complete(gitops, f"{command} ") == ["alpha", "alpha-2", "beta", "gamma"]


def test_preflight_does_not_offer_a_name_already_given(gitops: GitOpsRepo) -> None:
    assert _complete(gitops, "preflight alpha ") == ["beta"]


def test_completion_in_a_broken_repository_offers_nothing_and_prints_no_error(
        gitops: GitOpsRepo) -> None:
    gitops.write("gridops.yaml", "clustersDir: [oops\n")
    gitops.write("clusters/team-a/alpha.yaml", "metadata: {name: [\n")
    assert _complete(gitops, "import ") == ["beta"]
