"""Derive ``data/grid_client_models.json`` from the Grid client package (not run in CI).

    pip download --no-deps lightning-grid==0.8.81 -d /tmp/lg
    python tests/sim/derive_client_models.py /tmp/lg/lightning_grid-0.8.81-py2.py3-none-any.whl \
        > tests/sim/data/grid_client_models.json

The wheel is read as a zip and its ``grid/openapi/models/*.py`` files are parsed with ``ast``
(nothing from the package is imported or run). For every model reachable from the cluster
and auth calls the JSON records each field's wire name (``attribute_map``), its proto name
(the Python attribute, which is the proto field name) and its type (``swagger_types``); for
every enum, its values. The suite reads only the JSON, never the package.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from typing import Any

#: the request and answer models of the calls the emulator serves
ROOTS = ("V1CreateClusterRequest", "Body", "Externalv1Cluster", "V1CreateClusterResponse",
         "V1GetClusterResponse", "V1UpdateClusterResponse", "V1DeleteClusterResponse",
         "V1ListClustersResponse", "V1ListClusterInstanceTypesResponse",
         "V1GetClusterCloudProviderAccountIDResponse", "V1LoginRequest", "V1LoginResponse",
         "V1GetUserResponse", "RpcStatus")
_MODELS = "grid/openapi/models/"
_NESTED = re.compile(r"^(?:list\[(?P<item>.+)\]|dict\(str, (?P<value>.+)\))$")
_SCALARS = {"str", "bool", "int", "float", "datetime", "object"}


def read_classes(wheel: str) -> dict[str, ast.ClassDef]:
    classes: dict[str, ast.ClassDef] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(_MODELS) and name.endswith(".py"):
                tree = ast.parse(archive.read(name).decode("utf-8"), filename=name)
                classes.update({node.name: node for node in tree.body
                                if isinstance(node, ast.ClassDef)})
    return classes


def class_dicts(node: ast.ClassDef) -> dict[str, dict[str, str]]:
    """The ``swagger_types`` and ``attribute_map`` literals of a model class."""
    found: dict[str, dict[str, str]] = {}
    for item in node.body:
        if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
            target = item.targets[0].id
            if target in ("swagger_types", "attribute_map"):
                found[target] = ast.literal_eval(item.value)
    return found


def enum_values(node: ast.ClassDef) -> list[str]:
    return [item.value.value for item in node.body
            if isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant)
            and isinstance(item.value.value, str) and isinstance(item.targets[0], ast.Name)
            and item.targets[0].id.isupper()]


def referenced(type_text: str) -> list[str]:
    match = _NESTED.match(type_text)
    if match:
        return referenced(match["item"] or match["value"])
    return [] if type_text in _SCALARS else [type_text]


def derive(wheel: str) -> dict[str, Any]:
    classes = read_classes(wheel)
    models: dict[str, Any] = {}
    enums: dict[str, list[str]] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in models or name in enums:
            continue
        values = enum_values(classes[name])
        if values:
            enums[name] = values
            continue
        dicts = class_dicts(classes[name])
        types, wire = dicts["swagger_types"], dicts["attribute_map"]
        models[name] = {attr: {"json": wire[attr], "type": types[attr]} for attr in sorted(types)}
        for type_text in types.values():
            todo += referenced(type_text)
    return {"package": "lightning-grid", "version": _version(wheel), "roots": list(ROOTS),
            "models": dict(sorted(models.items())), "enums": dict(sorted(enums.items()))}


def _version(wheel: str) -> str:
    match = re.search(r"lightning_grid-([^-]+)-", wheel)
    return match[1] if match else "unknown"


if __name__ == "__main__":
    json.dump(derive(sys.argv[1]), sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
