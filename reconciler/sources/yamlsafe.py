"""YAML parsing that keeps positions and turns YAML's surprises into findings.

``parse_documents`` reads the bytes of one file into ``YamlDocument`` values: the plain
JSON-compatible data plus the line and column of every node, so later checks can say
``FILE:LINE:COL``. It is built on PyYAML's composer (nodes carry marks) and refuses what a
reviewer would not see coming: duplicate keys, YAML 1.1 booleans such as ``no``/``on`` written
bare, aliases (an alias bomb expands a few lines into gigabytes), non-UTF-8 bytes, and tags
other than the standard ones. Timestamps stay strings.

Limits keep a hostile file cheap: a file larger than ``max_bytes`` (1 MiB unless the settings
say otherwise) is refused before it is parsed, a mapping may hold ``MAX_KEYS`` keys, and a
value nested deeper than ``MAX_DEPTH`` levels is reported at the line where it gets too deep.

Speed: a file without ``*`` cannot hold an alias, so it is composed by libyaml's C composer;
one with a ``*`` goes through PyYAML's Python composer, which records each alias where it is
written and never expands it. The builder refuses a node it meets twice, so an alias cannot
slip through either way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from reconciler.errors import Finding
from reconciler.sources.settings import DEFAULT_MAX_BYTES

PathPart = str | int
#: A JSON path as its parts: ``("spec", "instanceTypes", 1, "name")``.
JsonPath = tuple[PathPart, ...]

_TAG = "tag:yaml.org,2002:"
_STRING_TAGS = frozenset({_TAG + "str", _TAG + "timestamp", _TAG + "value"})
_CONSTRUCTED_TAGS = frozenset({_TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"})
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_/-]+$")
#: Characters YAML does not allow in a stream (C0/C1 controls other than tab and line breaks,
#: surrogates, U+FFFE/U+FFFF).
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                          "\U00010000-\U0010ffff]")
_PATH_PART = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')

#: The most keys one mapping may hold (a cluster document has a few dozen at most).
MAX_KEYS = 1000
#: The deepest nesting of mappings and lists (a cluster document needs 5 levels).
MAX_DEPTH = 32


def format_path(parts: Sequence[PathPart]) -> str:
    """``("spec", "instanceTypes", 1)`` -> ``spec.instanceTypes[1]``; odd keys are quoted."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def parse_path(path: str) -> JsonPath:
    """The inverse of ``format_path``."""
    parts: list[PathPart] = []
    for key, index, quoted in _PATH_PART.findall(path):
        parts.append(key if key else int(index) if index else str(json.loads(quoted)))
    return tuple(parts)


@dataclass(frozen=True)
class YamlDocument:
    """One YAML document of a file, as plain data with the position of every node."""

    #: the document as JSON-compatible data (str, int, float, bool, None, list, dict)
    value: Any
    #: the file, relative to the repository root
    file: str
    #: 1-based line where the document's content starts
    start_line: int
    #: 1-based (line, col) of every value node, by JSON path
    positions: Mapping[JsonPath, tuple[int, int]] = field(default_factory=dict)
    #: 1-based (line, col) of the key of every mapping entry, by the entry's JSON path
    key_positions: Mapping[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: str | Sequence[PathPart], *, at_key: bool = False) -> tuple[int, int]:
        """Where ``path`` is written: a scalar's value, or the key of a mapping entry that
        holds a mapping or a list (``at_key`` points at the key in both cases). A missing
        path is reported where its nearest parent is."""
        parts = parse_path(path) if isinstance(path, str) else tuple(path)
        while parts not in self.positions and parts:
            parts, at_key = parts[:-1], False
        if parts in self.key_positions and (at_key or _is_collection(self.value, parts)):
            return self.key_positions[parts]
        return self.positions.get(parts, (self.start_line, 1))

    def finding(self, path: str | Sequence[PathPart], message: str, *,
                at_key: bool = False) -> Finding:
        """A finding at ``path`` of this document (see ``position``)."""
        parts = parse_path(path) if isinstance(path, str) else tuple(path)
        line, col = self.position(parts, at_key=at_key)
        return Finding(self.file, line, col, message, path=format_path(parts))


def _is_collection(value: Any, parts: JsonPath) -> bool:
    for part in parts:
        value = value[part]
    return isinstance(value, (dict, list))


class _Composing(Protocol):
    """What parsing needs of a loader: nodes one document at a time, and the aliases seen."""

    alias_marks: list[yaml.Mark]

    def check_node(self) -> bool: ...

    def get_node(self) -> Node | None: ...

    def dispose(self) -> None: ...


def _skip_alias(loader: Any) -> Node | None:
    """An alias is never expanded: record where it was and put a null in its place, so even a
    recursive alias costs nothing. ``None`` when the next event is not an alias."""
    if not loader.check_event(AliasEvent):
        return None
    event = loader.get_event()
    loader.alias_marks.append(event.start_mark)
    return ScalarNode(_TAG + "null", "", event.start_mark, event.end_mark)


def _compose_limited(loader: Any, parent: Node | None, index: int,
                     compose: Any) -> Node | None:
    """Compose one node, an alias as a null, and stop at ``MAX_DEPTH`` + 1 levels: the
    builder reports a too-deep node, so what lies below it is skipped, not composed (the
    Python composer would otherwise recurse until Python's own limit)."""
    alias = _skip_alias(loader)
    if alias is not None:
        return alias
    if loader.depth > MAX_DEPTH:
        return _skip_subtree(loader)
    loader.depth += 1
    try:
        node: Node | None = compose(parent, index)
    finally:
        loader.depth -= 1
    return node


def _skip_subtree(loader: Any) -> Node:
    """Consume the events of one node without composing it: an empty list in its place."""
    start = loader.get_event()
    level = 1 if isinstance(start, (SequenceStartEvent, MappingStartEvent)) else 0
    while level:
        event = loader.get_event()
        if isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            level += 1
        elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
            level -= 1
    return SequenceNode(_TAG + "seq", [], start.start_mark, start.end_mark)


class _RememberingResolver(Resolver):
    """PyYAML's resolver, remembering the tag of each plain scalar it has resolved: the
    resolver tries a list of patterns for every scalar, yet cluster files repeat the same few
    values (regions, instance types, keys) thousands of times. A tag depends only on the
    value and how it was written (no path resolvers are registered), so the answer is the
    same every time. The memory is bounded: ``_RESOLVED_LIMIT`` values of at most
    ``_RESOLVED_LENGTH`` characters (a long value is rarely repeated)."""

    _resolved: ClassVar[dict[tuple[str, tuple[bool, bool]], str]] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode or not isinstance(value, str) or \
                len(value) > _RESOLVED_LENGTH:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        key = (value, tuple(implicit))
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(self._resolved) < _RESOLVED_LIMIT:
                self._resolved[key] = tag
        return tag


#: how many distinct scalars the resolver remembers, and how long each may be
_RESOLVED_LIMIT = 50_000
_RESOLVED_LENGTH = 100


class _PureLoader(_RememberingResolver, yaml.SafeLoader):
    """PyYAML's pure-Python loader, refusing aliases."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_marks: list[yaml.Mark] = []
        self.depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        return _compose_limited(self, parent, index, super().compose_node)


def _new_loader(text: str) -> _Composing:
    return _PureLoader(text)


if yaml.__with_libyaml__:
    from yaml._yaml import CParser
    from yaml.composer import Composer

    class _FastLoader(Composer, CParser, _RememberingResolver):
        """libyaml's parser (events with marks, several times faster) under PyYAML's
        Python composer, so aliases are refused the same way."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            _RememberingResolver.__init__(self)
            self.alias_marks: list[yaml.Mark] = []
            self.depth = 0

        def compose_node(self, parent: Node | None, index: int) -> Node | None:
            return _compose_limited(self, parent, index, super().compose_node)

    class _CLoader(CParser, _RememberingResolver):
        """libyaml's parser and composer, both in C: for text that holds no alias."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _RememberingResolver.__init__(self)
            self.alias_marks: list[yaml.Mark] = []

    def _new_loader(text: str) -> _Composing:
        return _FastLoader(text) if "*" in text else _CLoader(text)


def parse_documents(data: bytes, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES
                    ) -> tuple[list[YamlDocument], list[Finding]]:
    """Every document of ``data`` and every hazard found in it (all of them, not the first).
    ``data`` longer than ``max_bytes`` is refused unread (one finding)."""
    if len(data) > max_bytes:
        return [], [too_large(file, len(data), max_bytes)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [_non_utf8(data, e.start, file)]
    bad = _UNPRINTABLE.search(text)
    if bad:
        return [], [_unprintable(text, bad.start(), file)]
    nodes, findings = _compose(_new_loader(text), file)
    documents = []
    for node in nodes:
        builder = _Builder(file)
        value = builder.build(node, ())
        documents.append(YamlDocument(value, file, node.start_mark.line + 1,
                                      builder.positions, builder.key_positions))
        findings += builder.findings
    return documents, findings


def _compose(loader: _Composing, file: str) -> tuple[list[Node], list[Finding]]:
    nodes: list[Node] = []
    findings: list[Finding] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
    except yaml.MarkedYAMLError as e:
        findings.append(_syntax_error(e, file))
    except yaml.YAMLError as e:
        findings.append(Finding(file, 1, 1, f"YAML cannot be read: {e}"))
    except RecursionError:  # not reached within MAX_DEPTH; kept so nothing deeper can crash
        findings.append(Finding(file, 1, 1, _DEPTH_MESSAGE))
    finally:
        loader.dispose()
    findings += [Finding(file, m.line + 1, m.column + 1, _ALIAS_MESSAGE)
                 for m in loader.alias_marks]
    return nodes, findings


def too_large(file: str, size: int, max_bytes: int) -> Finding:
    """The finding for a file of ``size`` bytes over the ``max_bytes`` limit."""
    return Finding(file, 1, 1, f"the file is {size:,} bytes ({_mib(size)}), more than the "
                               f"{max_bytes:,} bytes ({_mib(max_bytes)}) one file may hold: "
                               "split it into smaller files (one cluster per file), or raise "
                               "maxFileBytes in gridops.yaml; it was not read")


def _mib(count: int) -> str:
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"


_ALIAS_MESSAGE = ("aliases (*name) are not allowed: a few aliases can expand into a huge "
                  "document (an alias bomb); repeat the value, or put shared fields in a "
                  "GridClusterDefaults document")


def _non_utf8(data: bytes, offset: int, file: str) -> Finding:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return Finding(file, line, col,
                   f"the file is not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}): "
                   "save it as UTF-8")


def _unprintable(text: str, offset: int, file: str) -> Finding:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Finding(file, line, col, f"the character U+{ord(text[offset]):04X} is not allowed in "
                                    "YAML: remove it")


_DEPTH_MESSAGE = (f"nested more than {MAX_DEPTH} levels deep: a cluster document needs a few "
                  "levels; flatten this value (lists of lists and maps of maps are not read)")
_KEYS_MESSAGE = ("this mapping has {count:,} keys, more than the {limit:,} one mapping may "
                 "hold: split the document (one cluster per file) or remove unused keys")


def _syntax_error(error: yaml.MarkedYAMLError, file: str) -> Finding:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if error.problem and "maximum nesting depth" in error.problem:  # libyaml's own limit
        return Finding(file, line, col, _DEPTH_MESSAGE)
    message = f"YAML syntax error: {error.problem or 'the text cannot be parsed'}"
    if error.context and error.context_mark and error.context_mark is not mark:
        message += f" ({error.context} on line {error.context_mark.line + 1})"
    return Finding(file, line, col, message)


class _Builder:
    """Turns composed nodes into plain values, recording positions and hazards."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.constructor = SafeConstructor()
        self.positions: dict[JsonPath, tuple[int, int]] = {}
        self.key_positions: dict[JsonPath, tuple[int, int]] = {}
        self.findings: list[Finding] = []
        self.seen: set[int] = set()

    def build(self, node: Node, path: JsonPath) -> Any:
        self.positions[path] = _where(node)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.seen:  # a node met twice came from an alias
            self._add(node, path, _ALIAS_MESSAGE)
            return None
        self.seen.add(id(node))
        if len(path) >= MAX_DEPTH:
            self._add(node, path, _DEPTH_MESSAGE)
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        assert isinstance(node, SequenceNode)
        self._check_tag(node, _TAG + "seq", path)
        return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def _mapping(self, node: MappingNode, path: JsonPath) -> dict[str, Any]:
        self._check_tag(node, _TAG + "map", path)
        if len(node.value) > MAX_KEYS:
            self._add(node.value[MAX_KEYS][0], path,
                      _KEYS_MESSAGE.format(count=len(node.value), limit=MAX_KEYS))
            return {}
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in seen:
                self._add(key_node, path, f"duplicate key {key!r} (first written on line "
                                          f"{seen[key]}): a key may appear once per mapping")
                continue
            seen[key] = key_node.start_mark.line + 1
            self.key_positions[(*path, key)] = _where(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _key(self, node: Node, path: JsonPath) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "merge":
            self._add(node, path, "merge keys (<<) are not supported: write the fields out")
            return None
        key = self._scalar(node, path) if isinstance(node, ScalarNode) else None
        if not isinstance(key, str):
            self._add(node, path, "mapping keys must be strings: quote the key")
            return None
        return key

    def _scalar(self, node: ScalarNode, path: JsonPath) -> Any:
        text = node.value
        if not node.style and text.lower() in _YAML11_BOOLEANS:
            self._add(node, path, f"{text!r} is a YAML 1.1 boolean: write \"{text}\" (quoted) "
                                  "for the string, or true/false for a boolean")
            return text
        if node.tag in _STRING_TAGS:
            return text
        if node.tag not in _CONSTRUCTED_TAGS:
            self._add(node, path, f"the tag {node.tag!r} is not supported: gridops reads plain "
                                  "YAML values (strings, numbers, booleans, null, lists, maps)")
            return text
        return self._constructed(node, path)

    def _constructed(self, node: ScalarNode, path: JsonPath) -> Any:
        value = self.constructor.construct_object(node)
        if not node.style and ":" in node.value and node.tag != _TAG + "null":
            self._add(node, path, f"{node.value!r} is a YAML 1.1 base-60 number ({value}): "
                                  "quote it if you mean the string")
        if isinstance(value, float) and not math.isfinite(value):
            self._add(node, path, f"{node.value!r} is not a finite number")
        return value

    def _check_tag(self, node: Node, expected: str, path: JsonPath) -> None:
        if node.tag != expected:
            self._add(node, path, f"the tag {node.tag!r} is not supported: gridops reads plain "
                                  "YAML values (strings, numbers, booleans, null, lists, maps)")

    def _add(self, node: Node, path: JsonPath, message: str) -> None:
        line, col = _where(node)
        self.findings.append(Finding(self.file, line, col, message, path=format_path(path)))


def _where(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1) if mark else (0, 0)
