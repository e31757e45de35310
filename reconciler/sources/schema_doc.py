"""A Markdown field reference generated from a JSON Schema, so the README's document reference
never drifts from what ``validate`` enforces. Pure: a schema in, text out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_TYPE_NAMES = {"string": "string", "integer": "integer", "number": "number",
               "boolean": "boolean", "object": "mapping", "array": "list", "null": "null"}


def render_reference(schema: Mapping[str, Any]) -> str:
    """A Markdown section: the schema's title and description, then one table row per field
    (dotted path, type, description), nested fields under their parents."""
    lines = [f"## {schema.get('title', 'Reference')}", "", str(schema.get("description", "")),
             "", "| Field | Type | Description |", "| --- | --- | --- |"]
    lines += [f"| `{path}` | {kind} | {_cell(text)} |"
              for path, kind, text in _rows(schema, schema, "")]
    return "\n".join(lines) + "\n"


def _rows(root: Mapping[str, Any], node: Mapping[str, Any],
          prefix: str) -> Iterator[tuple[str, str, str]]:
    for name, prop in node.get("properties", {}).items():
        resolved = _resolve(root, prop)
        path = f"{prefix}.{name}" if prefix else name
        yield path, _type_of(root, resolved), str(resolved.get("description", ""))
        for child, suffix in _children(root, resolved):
            yield from _rows(root, child, path + suffix)


def _children(root: Mapping[str, Any],
              node: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """The object schemas whose fields are listed under ``node`` (with the path suffix)."""
    for branch in [node, *node.get("anyOf", ()), *node.get("oneOf", ())]:
        branch = _resolve(root, branch)
        if "properties" in branch:
            yield branch, ""
        items = _resolve(root, branch.get("items", {}))
        if items:
            yield from ((child, "[]" + suffix) for child, suffix in _children(root, items))


def _type_of(root: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        return " or ".join(_type_of(root, _resolve(root, b)) for b in branches)
    kind = node.get("type", "")
    if kind == "array":
        return f"list of {_type_of(root, _resolve(root, node.get('items', {})))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), Mapping):
        return f"map of {_type_of(root, node['additionalProperties'])}"
    text = _TYPE_NAMES.get(str(kind), str(kind) or "any")
    if "minimum" in node and "maximum" in node:
        text += f" {node['minimum']}..{node['maximum']}"
    elif "minimum" in node:
        text += f" >= {node['minimum']}"
    return text


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` with a local ``$ref`` (``#/$defs/x``) followed; sibling keywords are kept."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = root
    for part in str(ref).removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


START_MARKER = "<!-- reference:start -->"
END_MARKER = "<!-- reference:end -->"


def replace_reference(readme: str, reference: str) -> str:
    """``readme`` with the text between the reference markers replaced by ``reference``
    (headings demoted two levels to sit under the README's own section)."""
    head, start, rest = readme.partition(START_MARKER)
    _, end, tail = rest.partition(END_MARKER)
    if not start or not end:
        raise ValueError(f"the README has no {START_MARKER} ... {END_MARKER} section")
    body = "\n".join("##" + line if line.startswith("## ") else line
                     for line in reference.strip().splitlines())
    return f"{head}{START_MARKER}\n{body}\n{END_MARKER}{tail}"


def main(argv: list[str] | None = None) -> int:
    """``python -m reconciler.sources.schema_doc README.md``: refresh the field reference."""
    import sys
    from pathlib import Path

    from reconciler.sources.schema import CLUSTER_SCHEMA, SETTINGS_SCHEMA, load_schema

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "README.md")
    reference = "\n\n".join(render_reference(load_schema(name))
                            for name in (CLUSTER_SCHEMA, SETTINGS_SCHEMA))
    path.write_text(replace_reference(path.read_text(encoding="utf-8"), reference),
                    encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
