"""A small, normalised view of Terraform files and the IAM policies in them, for the tests.

python-hcl2 8.x keeps HCL's surface syntax: a quoted string keeps its quotes (``'"grid-"'``),
an expression comes back as ``"${...}"`` (``var.x`` is ``"${var.x}"``), a block's labels are
quoted keys (``{'"aws_iam_role"': {'"grid"': {...}}}``) and every block body is marked with
``__is_block__``. ``jsonencode({...})`` stays one expression string. This module turns that
into plain values:

- a literal string is a ``str`` without quotes (a template like ``"arn:${var.p}:x"`` stays a
  ``str`` with its ``${...}`` parts);
- any other expression is an ``Expr`` holding its source text;
- a block is a ``Block`` (kind, labels, body); nested blocks sit in the body as lists of Blocks.

On top of it, ``policy_statements`` finds every IAM statement (``aws_iam_policy_document``
data sources, their ``dynamic "statement"`` blocks, and JSON policies written with
``jsonencode`` or as JSON text) and ``wildcard_findings`` / ``trust_findings`` judge them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import hcl2

_OPTIONS = hcl2.SerializationOptions(with_comments=False, preserve_heredocs=False)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class Expr:
    """An HCL expression that is not a literal; ``source`` is its text without ``${ }``."""

    source: str


@dataclass(frozen=True)
class Block:
    """One block. ``body`` maps attribute names to values and nested block kinds to lists of
    Blocks; ``where`` says where it came from (file and address) for failure messages."""

    kind: str
    labels: tuple[str, ...]
    body: Mapping[str, Any]
    where: str = ""

    def blocks(self, kind: str) -> list[Block]:
        found = self.body.get(kind, [])
        return [b for b in found if isinstance(b, Block)] if isinstance(found, list) else []

    def get(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default)


@dataclass(frozen=True)
class Condition:
    test: Any
    variable: Any
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement, from either syntax. ``resources`` is None when the statement
    has neither Resource nor NotResource (a trust policy's statements)."""

    where: str
    effect: Any = "Allow"
    actions: tuple[Any, ...] = ()
    not_actions: tuple[Any, ...] = ()
    resources: tuple[Any, ...] | None = None
    not_resources: tuple[Any, ...] = ()
    principals: tuple[tuple[Any, tuple[Any, ...]], ...] = ()
    conditions: tuple[Condition, ...] = ()
    #: Parts that are expressions, so what they allow cannot be read from the source.
    opaque: tuple[str, ...] = ()


# --- HCL -> plain values ----------------------------------------------------------------------

def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def normalise(value: Any, where: str = "") -> Any:
    """python-hcl2's value -> str / Expr / number / bool / None / list / dict / Block."""
    if isinstance(value, str):
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            return _unquote(value)
        if value.startswith("${") and value.endswith("}"):
            return Expr(value[2:-1])
        return Expr(value)  # bare keywords such as `string` in `type = string`
    if isinstance(value, list):
        return [normalise(v, where) for v in value]
    if isinstance(value, dict):
        if value.get("__is_block__"):
            raise ValueError(f"{where}: a block where a value was expected")
        return {_key(k): normalise(v, where) for k, v in value.items()}
    return value


def _key(key: str) -> str:
    return _unquote(key) if len(key) >= 2 and key.startswith('"') and key.endswith('"') else key


def _body(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in raw.items():
        if name.startswith("__"):
            continue
        if isinstance(value, list) and value and all(_is_block(v) for v in value):
            body[name] = [_block(name, v, where, i) for i, v in enumerate(value, 1)]
        else:
            body[name] = normalise(value, f"{where}.{name}")
    return body


def _is_block(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    while "__is_block__" not in value:
        if len(value) != 1:
            return False
        (inner,) = value.values()
        if not isinstance(inner, dict):
            return False
        value = inner
    return True


def _block(kind: str, raw: Mapping[str, Any], where: str, index: int = 0) -> Block:
    labels: list[str] = []
    while "__is_block__" not in raw:
        ((label, raw),) = raw.items()
        labels.append(_key(label))
    address = ".".join((kind, *labels))
    # A nested block is numbered among its kind: "main.tf: data.x.y > statement[2]".
    inner_where = f"{where} > {address}[{index}]" if index else f"{where}: {address}"
    return Block(kind, tuple(labels), _body(raw, inner_where), inner_where)


def parse_tf(text: str, name: str = "<string>.tf") -> list[Block]:
    """The top-level blocks of one .tf file's text."""
    raw = hcl2.loads(text, serialization_options=_OPTIONS)
    return [_block(kind, entry, name)
            for kind, entries in raw.items() if not kind.startswith("__")
            for entry in entries]


def load_dir(folder: Path) -> list[Block]:
    """Every top-level block of every .tf file directly in ``folder`` (one Terraform module)."""
    blocks: list[Block] = []
    for path in sorted(folder.glob("*.tf")):
        blocks.extend(parse_tf(path.read_text(encoding="utf-8"), path.name))
    return blocks


def find(blocks: Iterable[Block], kind: str, *labels: str) -> list[Block]:
    return [b for b in blocks if b.kind == kind and b.labels[:len(labels)] == labels]


def one(blocks: Iterable[Block], kind: str, *labels: str) -> Block:
    found = find(blocks, kind, *labels)
    assert len(found) == 1, f"expected one {'.'.join((kind, *labels))}, found {len(found)}"
    return found[0]


# --- references -------------------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_REFERENCE = re.compile(
    r"(?<![\w.])(?:(var|local|module)\.(\w+)|data\.(\w+)\.(\w+)|((?:aws|random)_\w+)\.(\w+))")


def expressions(value: Any) -> Iterator[str]:
    """The source text of every expression in a value: Exprs and ``${}`` parts of templates."""
    if isinstance(value, Expr):
        yield value.source
    elif isinstance(value, str):
        yield from _INTERPOLATION.findall(value)
    elif isinstance(value, Block):
        yield from expressions(value.body)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from expressions(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from expressions(v)


def references(blocks: Iterable[Block]) -> set[str]:
    """Addresses referred to anywhere: ``var.x``, ``local.x``, ``module.x``, ``data.t.n``,
    ``aws_iam_role.grid``."""
    found: set[str] = set()
    for block in blocks:
        for source in expressions(block):
            for m in _REFERENCE.finditer(source):
                if m.group(1):
                    found.add(f"{m.group(1)}.{m.group(2)}")
                elif m.group(3):
                    found.add(f"data.{m.group(3)}.{m.group(4)}")
                else:
                    found.add(f"{m.group(5)}.{m.group(6)}")
    return found


def declared(blocks: Iterable[Block]) -> set[str]:
    """Addresses the blocks declare, in the form ``references`` reports."""
    names: set[str] = set()
    for block in blocks:
        if block.kind == "variable":
            names.add(f"var.{block.labels[0]}")
        elif block.kind == "module":
            names.add(f"module.{block.labels[0]}")
        elif block.kind == "locals":
            names.update(f"local.{name}" for name in block.body)
        elif block.kind == "data":
            names.add(f"data.{block.labels[0]}.{block.labels[1]}")
        elif block.kind == "resource":
            names.add(f"{block.labels[0]}.{block.labels[1]}")
    return names


# --- IAM policy statements --------------------------------------------------------------------

def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def _document_statements(doc: Block) -> Iterator[Statement]:
    bodies: list[tuple[str, Block]] = [(s.where, s) for s in doc.blocks("statement")]
    for dynamic in doc.blocks("dynamic"):
        if dynamic.labels == ("statement",):
            bodies.extend((c.where, c) for c in dynamic.blocks("content"))
    for where, s in bodies:
        conditions = [*s.blocks("condition")]
        for dynamic in s.blocks("dynamic"):
            if dynamic.labels == ("condition",):
                conditions.extend(dynamic.blocks("content"))
        has_resources = "resources" in s.body or "not_resources" in s.body
        yield _with_opaque(Statement(
            where=where,
            effect=s.get("effect", "Allow"),
            actions=_as_tuple(s.get("actions")),
            not_actions=_as_tuple(s.get("not_actions")),
            resources=_as_tuple(s.get("resources")) if has_resources else None,
            not_resources=_as_tuple(s.get("not_resources")),
            principals=tuple((p.get("type"), _as_tuple(p.get("identifiers")))
                             for p in s.blocks("principals")),
            conditions=tuple(Condition(c.get("test"), c.get("variable"),
                                       _as_tuple(c.get("values"))) for c in conditions),
        ))


def _with_opaque(statement: Statement) -> Statement:
    opaque = [name for name in ("actions", "not_actions", "resources", "not_resources")
              if any(isinstance(v, Expr) for v in getattr(statement, name) or ())]
    if isinstance(statement.effect, Expr):
        opaque.append("effect")
    return replace(statement, opaque=tuple(opaque))


def _json_statements(policy: Any, where: str) -> Iterator[Statement]:
    """Statements of a JSON policy (from jsonencode or JSON text). A policy, or a statement
    list, that is itself an expression comes back as one opaque statement."""
    raw = policy.get("Statement") if isinstance(policy, Mapping) else Expr(str(policy))
    if raw is None:
        return
    if isinstance(raw, Expr):
        yield Statement(where=f"{where} Statement", opaque=("Statement",))
        return
    for i, s in enumerate(_as_tuple(raw), 1):
        if not isinstance(s, Mapping):
            yield Statement(where=f"{where} Statement[{i}]", opaque=("Statement",))
            continue
        yield _with_opaque(_json_statement(s, f"{where} Statement[{i}]"))


def _json_statement(s: Mapping[str, Any], where: str) -> Statement:
    principal = s.get("Principal")
    principals: tuple[tuple[Any, tuple[Any, ...]], ...] = ()
    if isinstance(principal, Mapping):
        principals = tuple((k, _as_tuple(v)) for k, v in principal.items())
    elif principal is not None:
        principals = (("*", _as_tuple(principal)),)
    conditions: list[Condition] = []
    raw_conditions = s.get("Condition")
    if isinstance(raw_conditions, Mapping):
        for test, pairs in raw_conditions.items():
            for variable, values in (pairs.items() if isinstance(pairs, Mapping) else ()):
                conditions.append(Condition(test, variable, _as_tuple(values)))
    has_resources = "Resource" in s or "NotResource" in s
    return Statement(
        where=where,
        effect=s.get("Effect", "Allow"),
        actions=_as_tuple(s.get("Action")),
        not_actions=_as_tuple(s.get("NotAction")),
        resources=_as_tuple(s.get("Resource")) if has_resources else None,
        not_resources=_as_tuple(s.get("NotResource")),
        principals=principals,
        conditions=tuple(conditions),
    )


def _decode_policy(value: Any) -> Any | None:
    """The policy object in a ``jsonencode(...)`` expression or a JSON string, else None."""
    if isinstance(value, Expr):
        m = re.fullmatch(r"\s*jsonencode\((.*)\)\s*", value.source, re.S)
        if not m:
            return None
        parsed = hcl2.loads(f"policy = {m.group(1)}\n", serialization_options=_OPTIONS)
        return normalise(parsed["policy"])
    if isinstance(value, str) and value.lstrip().startswith("{") and "Statement" in value:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return {"Statement": Expr(value)}  # JSON with interpolations: cannot be read
    return None


def _embedded_policies(value: Any, where: str, key: str = "") -> Iterator[tuple[str, Any]]:
    """(where, policy) for each JSON policy in a value. Under an attribute whose name says
    policy, ``jsonencode`` of anything but a literal policy object is kept (as an expression)
    so that the caller can report it; elsewhere jsonencode may encode any data."""
    policy = _decode_policy(value)
    if policy is not None:
        if (isinstance(policy, Mapping) and "Statement" in policy) or "policy" in key:
            yield where, policy
    elif isinstance(value, Block):
        for k, v in value.body.items():
            yield from _embedded_policies(v, f"{value.where} {k}", k)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _embedded_policies(v, f"{where}.{k}", k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _embedded_policies(v, f"{where}[{i}]", key)


def policy_statements(blocks: Iterable[Block]) -> list[Statement]:
    """Every IAM statement in the blocks, whichever way it is written."""
    statements: list[Statement] = []
    for block in blocks:
        if block.kind == "data" and block.labels[0] == "aws_iam_policy_document":
            statements.extend(_document_statements(block))
        for where, policy in _embedded_policies(block, block.where):
            statements.extend(_json_statements(policy, where))
    return statements


def document_statements(blocks: Iterable[Block], reference: Any) -> list[Statement]:
    """The statements behind a policy attribute: ``data.aws_iam_policy_document.X.json`` or an
    inline ``jsonencode``/JSON policy."""
    blocks = list(blocks)
    if isinstance(reference, Expr):
        m = re.fullmatch(r"data\.aws_iam_policy_document\.(\w+)\.json", reference.source.strip())
        if m:
            return list(_document_statements(one(blocks, "data", "aws_iam_policy_document",
                                                     m.group(1))))
    policy = _decode_policy(reference)
    return list(_json_statements(policy, "inline policy")) if policy is not None else []


# --- judgements -------------------------------------------------------------------------------

def _is_every_action(action: Any) -> bool:
    return isinstance(action, str) and action.strip() in ("*", "*:*")


def _is_every_resource(resource: Any) -> bool:
    if not isinstance(resource, str):
        return False
    parts = resource.strip().split(":")
    if parts == ["*"]:
        return True
    # arn:PARTITION:*:... with nothing but wildcards after the partition.
    return len(parts) >= 3 and parts[0] == "arn" and all(p in ("", "*") for p in parts[2:])


def wildcard_findings(statements: Iterable[Statement]) -> list[str]:
    """Allow statements that grant every action on every resource, or that may do so but are
    written as expressions that cannot be read."""
    findings: list[str] = []
    for s in statements:
        if s.effect != "Allow" and not isinstance(s.effect, Expr):
            continue
        if "Statement" in s.opaque:
            findings.append(f"{s.where}: statements built by an expression cannot be checked")
            continue
        if s.resources is None:  # a trust or resource policy statement: no Resource
            continue
        every_action = bool(s.not_actions) or any(_is_every_action(a) for a in s.actions)
        every_resource = (bool(s.not_resources)
                          or any(_is_every_resource(r) for r in s.resources))
        unknown_action = any(isinstance(a, Expr) for a in (*s.actions, *s.not_actions))
        unknown_resource = any(isinstance(r, Expr) for r in (*s.resources, *s.not_resources))
        if every_action and every_resource:
            findings.append(f"{s.where}: allows every action on every resource")
        elif (every_action or unknown_action) and (every_resource or unknown_resource):
            findings.append(f"{s.where}: may allow every action on every resource "
                            f"({', '.join(s.opaque)} written as expressions)")
    return findings


def trust_findings(statements: Iterable[Statement], *, principal_ref: str,
                   external_id_ref: str) -> list[str]:
    """What is wrong with a trust policy that must let only ``principal_ref``'s account assume
    the role, and only with ``StringEquals sts:ExternalId`` = ``external_id_ref``."""
    statements = list(statements)
    findings: list[str] = []
    allows = [s for s in statements if s.effect == "Allow"]
    if not allows:
        return ["no statement allows anyone to assume the role"]
    for s in allows:
        actions = set(s.actions)
        if not s.actions or s.not_actions or actions - {"sts:AssumeRole"}:
            findings.append(f"{s.where}: allows {sorted(map(str, actions)) or 'NotAction'}, "
                            "not only sts:AssumeRole")
        identifiers = [i for _, ids in s.principals for i in ids]
        if (not identifiers or any(t != "AWS" for t, _ in s.principals)
                or not all(principal_ref in "".join(expressions(i)) for i in identifiers)):
            findings.append(f"{s.where}: principals {identifiers} are not only {principal_ref}")
        bound = [c for c in s.conditions
                 if c.test == "StringEquals" and c.variable == "sts:ExternalId"
                 and c.values and all(isinstance(v, Expr) and v.source.strip() == external_id_ref
                                      for v in c.values)]
        if not bound:
            findings.append(f"{s.where}: no StringEquals sts:ExternalId condition equal to "
                            f"{external_id_ref}")
    return findings
