from __future__ import annotations

import time

import pytest
import yaml

from reconciler.sources import yamlsafe
from reconciler.sources.yamlsafe import format_path, parse_documents, parse_path


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def _parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with libyaml's parser (when PyYAML has it) and with the pure one."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlsafe, "_new_loader", yamlsafe._PureLoader)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML is built without libyaml")


def _formatted(text: bytes) -> list[str]:
    _, findings = parse_documents(text, "clusters/a.yaml")
    return [f.format() for f in findings]


@pytest.mark.parametrize(("text", "expected"), [
    (b"a: 1\nb: 2\na: 3\n",
     "clusters/a.yaml:3:1: duplicate key 'a' (first written on line 1)"),
    (b"spec:\n  deletionProtection: no\n",
     "clusters/a.yaml:2:23: 'no' is a YAML 1.1 boolean"),
    (b"labels: {critical: On}\n",
     "clusters/a.yaml:1:20: 'On' is a YAML 1.1 boolean"),
    (b"on: push\n",
     "clusters/a.yaml:1:1: 'on' is a YAML 1.1 boolean"),
    (b"zones: [a, y, N]\n",
     "clusters/a.yaml:1:12: 'y' is a YAML 1.1 boolean"),
    (b"base: &b {x: 1}\nother: *b\n",
     "clusters/a.yaml:2:8: aliases (*name) are not allowed"),
    (b"name: ok\nowner: caf\xe9\n",
     "clusters/a.yaml:2:11: the file is not UTF-8 text (byte 0xe9 at offset 19)"),
    (b"spec:\n  region: [us-east-1\n  x: 1\n",
     "clusters/a.yaml:3:4: YAML syntax error"),
    (b"a: b\n\tc: d\n",
     "clusters/a.yaml:2:1: YAML syntax error: found"),
    (b"secret: !vault abc\n",
     "clusters/a.yaml:1:9: the tag '!vault' is not supported"),
    (b"data: !!binary aGk=\n",
     "clusters/a.yaml:1:7: the tag 'tag:yaml.org,2002:binary' is not supported"),
    (b"base: {x: 1}\nother:\n  <<: {y: 2}\n",
     "clusters/a.yaml:3:3: merge keys (<<) are not supported"),
    (b"1: one\n",
     "clusters/a.yaml:1:1: mapping keys must be strings"),
    (b"when: 12:30\n",
     "clusters/a.yaml:1:7: '12:30' is a YAML 1.1 base-60 number (750)"),
    (b"size: .nan\n",
     "clusters/a.yaml:1:7: '.nan' is not a finite number"),
    (b"bell: \x07\n",
     "clusters/a.yaml:1:7: the character U+0007 is not allowed in YAML"),
], ids=["duplicate-key", "bare-no", "bare-On-in-flow", "bare-on-as-key", "bare-y-in-list",
        "alias", "non-utf8", "syntax-error", "tab-indent", "custom-tag", "binary-tag",
        "merge-key", "int-key", "sexagesimal", "nan", "control-character"])
def test_hazard_is_reported_at_its_line_and_column(text: bytes, expected: str) -> None:
    findings = _formatted(text)

    assert any(f.startswith(expected) for f in findings), findings


def test_alias_bomb_is_refused_without_expanding_it() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]"
              for i in range(8)]
    started = time.perf_counter()

    documents, findings = parse_documents("\n".join(lines).encode(), "bomb.yaml")

    assert time.perf_counter() - started < 1.0
    assert len(findings) == 80
    assert documents[0].value["i"] == [None] * 10


def test_recursive_alias_is_refused() -> None:
    documents, findings = parse_documents(b"a: &a [*a]\n", "x.yaml")

    assert [f.format() for f in findings][0].startswith("x.yaml:1:8: aliases")
    assert documents[0].value == {"a": [None]}


@pytest.mark.parametrize(("text", "expected"), [
    (b'v: "no"\n', {"v": "no"}),
    (b"v: 'on'\n", {"v": "on"}),
    (b"v: true\n", {"v": True}),
    (b"v: 2024-05-01\n", {"v": "2024-05-01"}),
    (b"v: 2024-05-01T10:00:00Z\n", {"v": "2024-05-01T10:00:00Z"}),
    (b"v: 1.29\n", {"v": 1.29}),
    (b"v: ~\n", {"v": None}),
    (b"v: !!str 12\n", {"v": "12"}),
    (b"\xef\xbb\xbfv: bom\n", {"v": "bom"}),
], ids=["quoted-no", "quoted-on", "true", "date", "timestamp", "float", "null", "str-tag",
        "utf8-bom"])
def test_plain_values_are_json_compatible(text: bytes, expected: object) -> None:
    documents, findings = parse_documents(text, "x.yaml")

    assert findings == []
    assert documents[0].value == expected


def test_every_finding_of_a_file_is_reported_at_once() -> None:
    findings = _formatted(b"a: yes\na: 1\nb: *x\n")

    assert len(findings) == 3


def test_documents_keep_their_start_line_and_node_positions() -> None:
    text = (b"# comment\napiVersion: gridops/v1\n---\nspec:\n  instanceTypes:\n"
            b"    - t3.large\n    - {name: g4dn.xlarge}\n")

    documents, _ = parse_documents(text, "x.yaml")

    assert [d.start_line for d in documents] == [2, 4]
    spec = documents[1]
    assert spec.position("spec.instanceTypes[1].name") == (7, 14)
    assert spec.position("spec.instanceTypes[1].name", at_key=True) == (7, 8)
    assert spec.position("spec.instanceTypes") == (5, 3)
    assert spec.position("spec.instanceTypes[0]") == (6, 7)
    assert spec.position("spec.instanceTypes[1].rootVolumeGiB") == (7, 7)
    assert spec.position("spec.missing.deeper") == (4, 1)


def test_empty_documents_are_null_and_empty_files_have_none() -> None:
    assert parse_documents(b"", "x.yaml") == ([], [])
    documents, _ = parse_documents(b"---\n---\na: 1\n", "x.yaml")
    assert [d.value for d in documents] == [None, {"a": 1}]


@pytest.mark.parametrize("path", ["spec.instanceTypes[1].name", "metadata.labels[\"a.b\"]",
                                  "", "spec.aws.azSkipIds[0]"],
                         ids=["nested", "quoted-key", "root", "list-item"])
def test_paths_round_trip(path: str) -> None:
    assert format_path(parse_path(path)) == path


def _nested_block(levels: int) -> bytes:
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(levels)).encode() + b"  " * levels + b"v\n"


@pytest.mark.parametrize(("text", "expected"), [
    (_nested_block(40),
     "clusters/a.yaml:33:65: nested more than 32 levels deep: a cluster document needs a few "
     "levels; flatten this value"),
    (b"a: " + b"[" * 40 + b"]" * 40 + b"\n",
     "clusters/a.yaml:1:35: nested more than 32 levels deep"),
    (b"a: " + b"{b: " * 40 + b"1" + b"}" * 40 + b"\n",
     "clusters/a.yaml:1:128: nested more than 32 levels deep"),
    (b"spec:\n" + b"".join(b"  k%d: v\n" % i for i in range(1001)),
     "clusters/a.yaml:1002:3: this mapping has 1,001 keys, more than the 1,000 one "
     "mapping may hold: split the document"),
    (b"a: 1\n" + b"#" * (1024 * 1024),
     "clusters/a.yaml:1:1: the file is 1,048,581 bytes (1.0 MiB), more than the 1,048,576 "
     "bytes (1.0 MiB) one file may hold: split it into smaller files (one cluster per file), "
     "or raise maxFileBytes in gridops.yaml; it was not read"),
], ids=["block-nesting", "flow-nesting", "flow-mappings",
        "too-many-keys", "file-too-large"])
def test_limit_is_reported_where_it_is_passed(text: bytes, expected: str) -> None:
    findings = _formatted(text)

    assert any(f.startswith(expected) for f in findings), findings
    assert len(findings) == 1, findings


def test_nesting_past_libyaml_own_limit_is_the_same_finding() -> None:
    # libyaml stops at 1,000 levels by itself, before gridops's builder sees the document.
    findings = _formatted(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n")

    assert len(findings) == 1
    assert findings[0].startswith("clusters/a.yaml:1:")
    assert "nested more than 32 levels deep" in findings[0]


@pytest.mark.parametrize(("text", "value"), [
    (_nested_block(31), 31),
    (b"spec:\n" + b"".join(b"  k%d: v\n" % i for i in range(1000)), 1000),
], ids=["nesting-at-the-limit", "keys-at-the-limit"])
def test_document_at_the_limit_is_read(text: bytes, value: int) -> None:
    documents, findings = parse_documents(text, "clusters/a.yaml")

    assert findings == []
    assert documents and documents[0].value


def test_alias_met_twice_by_the_builder_is_refused() -> None:
    # The C composer (used for text without '*') would share the node; the builder refuses it.
    node = yaml.compose("k: [1]\n", Loader=yaml.SafeLoader)
    assert node is not None
    node.value.append((node.value[0][0].__class__(node.value[0][0].tag, "other",
                                                  node.value[0][0].start_mark,
                                                  node.value[0][0].end_mark), node.value[0][1]))
    builder = yamlsafe._Builder("x.yaml")

    value = builder.build(node, ())

    assert value == {"k": [1], "other": None}
    assert [f.format() for f in builder.findings][0].startswith("x.yaml:1:4: aliases")


def test_size_limit_can_be_raised() -> None:
    text = b"a: 1\n" + b"#" * (1024 * 1024)

    documents, findings = parse_documents(text, "clusters/a.yaml", max_bytes=2 * 1024 * 1024)

    assert findings == [] and documents[0].value == {"a": 1}


def test_a_value_keeps_its_type_however_often_and_however_it_was_written() -> None:
    # the resolver remembers tags by value and by how the value was written: a quoted 1 is
    # a string and a plain 1 a number, in one file and in every later one
    text = b"a: '1'\nb: 1\nc: \"true\"\nd: true\ne: null\nf: 'null'\ng: 1.5\n"
    for _ in range(3):
        documents, findings = parse_documents(text, "clusters/a.yaml")
        assert findings == []
        assert documents[0].value == {"a": "1", "b": 1, "c": "true", "d": True, "e": None,
                                      "f": "null", "g": 1.5}
