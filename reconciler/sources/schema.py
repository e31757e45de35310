"""The JSON Schemas in ``schemas/`` and readable findings from them.

Schemas are loaded once from the package and checked against the draft 2020-12 metaschema by
the tests. Each has a ``urn:gridops:v1:...`` ``$id`` that ``schema_registry`` resolves from
the package alone, never over the network. ``validate_document`` turns every schema error into a
``Finding`` at the line and column the error is about, with a message a person can act on:
an unknown field gets "did you mean", an ``anyOf`` reports the branch the value was meant for
instead of a wall of alternatives, and a plain-string secret shows the reference form.

Each schema is compiled once into jsonschema-rs's validator, which answers "valid?" about
80 times faster than jsonschema (it resolves ``$ref`` once, at compile time); only a document
it refuses goes through jsonschema's ``iter_errors``, whose errors make the messages. When
jsonschema-rs cannot compile a schema (a regular expression Rust's engine does not take) the
Python validator alone decides, so the result never depends on which one ran.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import Finding
from reconciler.sources.secrets import parse_secret_ref

if TYPE_CHECKING:  # jsonschema is imported only when a document fails the fast check
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as SchemaError
    from referencing import Registry

    from reconciler.sources.yamlsafe import JsonPath, YamlDocument

CLUSTER_SCHEMA = "gridcluster.schema.json"
SETTINGS_SCHEMA = "gridops-settings.schema.json"


#: The schemas by the short names ``gridops schema`` takes.
SCHEMA_NAMES = {"cluster": CLUSTER_SCHEMA, "settings": SETTINGS_SCHEMA}

#: The data package holding the schema files (installed with gridops).
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

_TYPE_NAMES = {"string": "a string", "integer": "a whole number", "number": "a number",
               "boolean": "true or false", "object": "a mapping", "array": "a list",
               "null": "null"}


@cache
def load_schema(name: str) -> Mapping[str, Any]:
    """The schema ``schemas/NAME`` as parsed JSON (cached; do not modify it)."""
    data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return data


def schema_text(name: str) -> str:
    """The schema file ``NAME`` as shipped, byte for byte (for ``gridops schema``)."""
    return (SCHEMA_DIR / name).read_text(encoding="utf-8")


@cache
def schema_registry() -> Registry[Any]:
    """Every gridops schema under its ``$id``, so a ``$ref`` to one resolves offline."""
    from referencing import Registry, Resource

    resources = [Resource.from_contents(dict(load_schema(n))) for n in SCHEMA_NAMES.values()]
    return Registry().with_resources((str(r.contents["$id"]), r) for r in resources)


@cache
def _validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name), registry=schema_registry())


@cache
def _fast_check(name: str) -> Callable[[Any], bool] | None:
    return compile_fast_check(load_schema(name))


def compile_fast_check(schema: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """jsonschema-rs's ``is_valid`` for ``schema``, or None when it cannot take the schema."""
    import jsonschema_rs

    try:
        validator = jsonschema_rs.validator_for(dict(schema), validate_formats=False,
                                                retriever=_offline_schema)
    except ValueError:  # jsonschema_rs.ValidationError: a pattern Rust cannot compile
        return None
    check: Callable[[Any], bool] = validator.is_valid
    return check


def _offline_schema(uri: str) -> Any:
    """A ``$ref`` to another gridops schema resolves from the packaged files, never the web."""
    for name in SCHEMA_NAMES.values():
        if load_schema(name).get("$id") == uri:
            return dict(load_schema(name))
    raise ValueError(f"no gridops schema has the $id {uri}")


def is_valid(value: Any, schema_name: str) -> bool:
    """Whether ``value`` passes the schema, by the fast validator when it can answer."""
    fast = _fast_check(schema_name)
    if fast is not None:
        try:
            return fast(value)
        except (ValueError, OverflowError):  # a value Rust cannot hold: ask jsonschema
            pass
    return bool(_validator(schema_name).is_valid(value))


def validate_document(document: YamlDocument, schema_name: str) -> list[Finding]:
    """Every schema finding for ``document``, in document order."""
    if is_valid(document.value, schema_name):
        return []
    errors = _validator(schema_name).iter_errors(document.value)
    findings = [f for e in errors for f in _findings(document, e)]
    return sorted(set(findings), key=lambda f: (f.line, f.col, f.message))


def _findings(document: YamlDocument, error: SchemaError) -> list[Finding]:
    path = tuple(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and error.context:
        branch = _branch_errors(error)
        if branch is None:
            message = _type_message(_branch_types(error), error.instance)
            return [document.finding(path, _prefixed(path, message)).tagged("schema-type")]
        return [f for e in branch for f in _findings(document, e)]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return [f.tagged("schema-unknown-field") for f in _unknown_fields(document, error, path)]
    rule = _RULES.get(str(error.validator), "schema-value")
    return [document.finding(path, _prefixed(path, _message(error))).tagged(rule)]


#: The finding kind of a schema error by its JSON Schema keyword; any other is "schema-value".
_RULES = {"type": "schema-type", "required": "schema-required",
          "additionalProperties": "schema-unknown-field"}


def _branch_errors(error: SchemaError) -> Sequence[SchemaError] | None:
    """The errors of the alternative the value was meant for: branches whose type does not
    fit the value are dropped; ``None`` when no branch takes a value of this type."""
    own_path = list(error.absolute_path)
    branches: dict[Any, list[SchemaError]] = {}
    for e in error.context or ():
        branches.setdefault(e.relative_schema_path[0], []).append(e)
    fitting = [errs for errs in branches.values()
               if not any(e.validator == "type" and list(e.absolute_path) == own_path
                          for e in errs)]
    if len(fitting) == 1:
        return fitting[0]
    if fitting:
        from jsonschema.exceptions import best_match

        best = best_match(e for errs in fitting for e in errs)
        return [best] if best is not None else []
    return None


def _branch_types(error: SchemaError) -> list[str]:
    return [t for e in error.context or () if e.validator == "type"
            for t in _as_list(e.validator_value)]


def _unknown_fields(document: YamlDocument, error: SchemaError,
                    path: JsonPath) -> list[Finding]:
    known = list(error.schema.get("properties", {}))
    findings = []
    for key in error.instance:
        if key in known:
            continue
        message = f"unknown field {key!r}"
        close = difflib.get_close_matches(key, known, n=1)
        message += f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        findings.append(document.finding((*path, key), _prefixed(path, message), at_key=True))
    return findings


def _message(error: SchemaError) -> str:
    if error.schema.get("$anchor") == "secretRef" and error.validator != "additionalProperties":
        problem = parse_secret_ref(error.instance)
        if isinstance(problem, str):
            return problem
    v, expected, got = error.validator, error.validator_value, error.instance
    if v == "type":
        return _type_message(_as_list(expected), got)
    if v == "required":
        missing = [k for k in expected if k not in got]
        return f"missing required field {', '.join(repr(k) for k in missing)}"
    if v == "enum":
        return _choice_message(got, [str(x) for x in expected])
    if v == "const":
        return f"must be {expected!r}, not {got!r}"
    if v == "minimum":
        return f"must be {expected} or more, not {got}"
    if v == "maximum":
        return f"must be {expected} or less, not {got}"
    if v == "minLength":
        return "must not be empty"
    if v == "minItems":
        return f"needs at least {expected} item(s)"
    if v == "pattern":
        return f"{got!r} does not match the expected form ({expected})"
    return str(error.message)


def _type_message(expected: list[str], got: Any) -> str:
    wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
    message = f"expected {wanted}, got {_describe(got)}"
    if expected == ["string"] and isinstance(got, (int, float)) and not isinstance(got, bool):
        message += ": put the value in quotes"
    return message


def _choice_message(got: Any, choices: list[str]) -> str:
    message = f"{got!r} is not one of: {', '.join(choices)}"
    close = difflib.get_close_matches(str(got), choices, n=1)
    return message + (f"; did you mean {close[0]!r}?" if close else "")


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if value is None:
        return "null (nothing)"
    for kind, name in ((str, "a string"), (int, "a whole number"), (float, "a number")):
        if isinstance(value, kind):
            return f"{name} ({value!r})"
    return "a mapping" if isinstance(value, dict) else "a list"


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _prefixed(path: JsonPath, message: str) -> str:
    from reconciler.sources.yamlsafe import format_path

    return f"{format_path(path)}: {message}" if path else message
