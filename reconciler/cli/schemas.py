"""``gridops schema``: the JSON Schemas of the cluster documents and the settings file, as
shipped in the package, for editors and other tools."""

from __future__ import annotations

import click

from reconciler.cli.app import App, pass_app

#: The names ``reconciler.sources.schema.SCHEMA_NAMES`` knows (a test keeps them equal), here so
#: that --help does not import jsonschema.
NAMES = ("cluster", "settings")


@click.command("schema")
@click.argument("name", type=click.Choice(NAMES), default="cluster")
@click.option("--path", "show_path", is_flag=True,
              help="Print where the installed schema file is instead of its text.")
@click.option("--list", "list_all", is_flag=True,
              help="List every schema: its name, $id and installed file.")
@pass_app
def schema(app: App, name: str, show_path: bool, list_all: bool) -> None:
    """Print the JSON Schema of cluster documents (cluster, the default) or of gridops.yaml
    (settings), for an editor's YAML language server or check-jsonschema.
    """
    from reconciler.sources.schema import SCHEMA_DIR, SCHEMA_NAMES, load_schema, schema_text

    if list_all:
        for short, file in sorted(SCHEMA_NAMES.items()):
            app.out(f"{short}\t{load_schema(file)['$id']}\t{SCHEMA_DIR / file}")
        return
    file = SCHEMA_NAMES[name]
    app.out(str(SCHEMA_DIR / file) if show_path else schema_text(file), nl=show_path)
