"""Shell completion of cluster names (import, sweep, preflight) from the repository's cluster
documents: read from the working tree only, never from Grid, and silent on any problem (a
completion must never print an error into the user's command line).

Enable completion with click's own mechanism, e.g. for bash:
``eval "$(_GRIDOPS_COMPLETE=bash_source gridops)"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

    from click.shell_completion import CompletionItem


def complete_cluster_names(ctx: click.Context, param: click.Parameter,
                           incomplete: str) -> list[CompletionItem]:
    """The names of the GridCluster documents that start with ``incomplete``, sorted, minus
    those already on the command line."""
    from click.shell_completion import CompletionItem

    try:
        names = cluster_names(*_where(ctx))
    except Exception:  # noqa: BLE001 - a completion never fails loudly
        return []
    given = set(ctx.params.get(param.name or "", ()) or ())
    return [CompletionItem(n) for n in names if n.startswith(incomplete) and n not in given]


def cluster_names(root: Path, settings_file: str) -> list[str]:
    """Every ``metadata.name`` of a GridCluster document under the clusters folder."""
    import yaml

    from reconciler.sources.loader import read_cluster_files

    clusters_dir = _clusters_dir(root / settings_file)
    files, _ = read_cluster_files(root, clusters_dir)
    names: set[str] = set()
    for data in files.values():
        try:
            documents = list(yaml.safe_load_all(data))
        except yaml.YAMLError:
            continue
        names.update(_name(d) for d in documents if _name(d))
    return sorted(names)


def _where(ctx: click.Context) -> tuple[Path, str]:
    from pathlib import Path

    from reconciler.sources import gitsource
    from reconciler.sources.settings import SETTINGS_FILE

    params = ctx.find_root().params
    repo = params.get("repo")
    root = Path(repo) if repo else gitsource.find_repo_root(Path.cwd()) or Path.cwd()
    return root.resolve(), params.get("settings_file") or SETTINGS_FILE


def _clusters_dir(settings: Path) -> str:
    import yaml

    try:
        data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return "clusters"
    value = data.get("clustersDir") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else "clusters"


def _name(document: Any) -> str:
    if not isinstance(document, dict) or document.get("kind") != "GridCluster":
        return ""
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""
