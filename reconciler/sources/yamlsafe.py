"""YAML parsing that keeps positions and turns YAML's surprises into findings.

``parse_documents`` reads the bytes of one file into ``YamlDocument`` values: the plain
JSON-compatible data plus the line and column of every node, so later checks can say
``FILE:LINE:COL``. It is built on PyYAML's composer (nodes carry marks) and refuses what a
reviewer would not see coming: duplicate keys, YAML 1.1 booleans such as ``no``/``on`` written
bare, aliases (an alias bomb expands a few lines into gigabytes), non-UTF-8 bytes, and tags
other than the standard ones. Timestamps stay strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from reconciler.errors import Finding

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


class _PureLoader(yaml.SafeLoader):
    """PyYAML's pure-Python loader, refusing aliases."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_marks: list[yaml.Mark] = []

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        alias = _skip_alias(self)
        return alias if alias is not None else super().compose_node(parent, index)


def _new_loader(text: str) -> _Composing:
    return _PureLoader(text)


if yaml.__with_libyaml__:
    from yaml._yaml import CParser
    from yaml.composer import Composer

    class _FastLoader(Composer, CParser, Resolver):
        """libyaml's parser (events with marks, several times faster) under PyYAML's
        Python composer, so aliases are refused the same way."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            Resolver.__init__(self)
            self.alias_marks: list[yaml.Mark] = []

        def compose_node(self, parent: Node | None, index: int) -> Node | None:
            alias = _skip_alias(self)
            return alias if alias is not None else super().compose_node(parent, index)

    def _new_loader(text: str) -> _Composing:
        return _FastLoader(text)


def parse_documents(data: bytes, file: str) -> tuple[list[YamlDocument], list[Finding]]:
    """Every document of ``data`` and every hazard found in it (all of them, not the first)."""
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
    except RecursionError:
        findings.append(Finding(file, 1, 1, "YAML is nested too deeply to read"))
    finally:
        loader.dispose()
    findings += [Finding(file, m.line + 1, m.column + 1, _ALIAS_MESSAGE)
                 for m in loader.alias_marks]
    return nodes, findings


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


def _syntax_error(error: yaml.MarkedYAMLError, file: str) -> Finding:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
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

    def build(self, node: Node, path: JsonPath) -> Any:
        self.positions[path] = _where(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            self._check_tag(node, _TAG + "seq", path)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: JsonPath) -> dict[str, Any]:
        self._check_tag(node, _TAG + "map", path)
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
