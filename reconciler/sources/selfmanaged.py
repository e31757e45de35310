"""Self-managed BYOC clusters: the create body a terraform output holds, as document fields.

In self-managed mode Grid's full terraform module prints the whole create request as one
output (``gridv1_cluster``), the body the Grid CLI's editor takes: a JSON object, or a JSON
string holding one, with an optional ``name`` and a ``spec`` in the CLI's snake_case or the
wire's camelCase. ``read_create_body`` turns it into ``OutputSpec``: the document fields it
sets (in the document's own words, so a cluster document and its defaults merge over them as
usual), the ``driver.kubernetes`` fields beyond ``aws``, and every secret as a reference back
into the output, never its value. Each problem names the output and the wire path; no
message quotes a secret. Pure: values in, values out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.live.codec import read_int
from reconciler.model import PROFILE_COST_SAVING, PROFILE_DEFAULT, TYPE_BYOC, SecretRef
from reconciler.sources import rules
from reconciler.sources.secrets import PATH_PARAM

#: The reference kinds that name where a terraform output lives.
OUTPUT_KINDS = ("fromTerraformOutput", "fromTerraformState")

_AWS_STRINGS = frozenset({
    "region", "roleArn", "externalId", "bucketName", "kubernetesVersion",
    "builderAmiNameOverride", "builderAmiOverride", "bastionAmiOverride", "cpuAmiOverride",
    "gpuAmiOverride", "managementNodeInstanceType", "builderNodeInstanceType",
    "tensorboardNodeInstanceType", "originalClusterName", "internalGcTtl",
})
_AWS_BOOLS = frozenset({
    "guarddutyIntegration", "enableDnsFirewall", "fsxEnabled", "internalTestCluster",
    "enableDatastoreTransitionToIntelligentTiering",
    "enableExperimentTransitionToIntelligentTiering",
})
_AWS_INTS = frozenset({
    "xMultiAzCount", "abortIncompleteDatastoreNumDays",
    "datastoreTransitionToIntelligentTieringNumDays",
    "experimentTransitionToIntelligentTieringNumDays",
})
_AWS_LISTS = frozenset({"azSkipIds"})
_AWS_KEYS = _AWS_STRINGS | _AWS_BOOLS | _AWS_INTS | _AWS_LISTS | {"instanceTypes"}
#: Keys of the spec the create body may set (server-set fields such as costFactor are not).
_SPEC_KEYS = frozenset({"clusterType", "desiredState", "performanceProfile", "driver"})
_PROFILE_NAMES = {PROFILE_DEFAULT: "default", PROFILE_COST_SAVING: "cost-saving",
                  "default": "default", "cost-saving": "cost-saving"}
#: Fields holding secrets, besides any whose name says so (``_SECRET_NAME``).
_SECRET_KEYS = frozenset({"externalId", "kubeconfig"})
_SECRET_NAME = re.compile(r"(?i)(secret|password|token|privatekey|apikey|credential)")
AWS_PREFIX = "driver.kubernetes.aws."
KUBERNETES_PREFIX = "driver.kubernetes."


@dataclass(frozen=True)
class OutputSpec:
    """What a terraform output's create body asks for, read.

    ``spec`` holds document fields (``region``, ``roleArn``, ``externalId`` as a reference,
    ``performanceProfile`` as ``default``/``cost-saving``, ``instanceTypes`` in the document's
    form, ``aws`` for the other AWSClusterDriverSpec fields). ``kubernetes`` holds the other
    ``driver.kubernetes`` fields (wire names, values as given). ``secrets`` maps each secret's
    wire path (outside ``externalId``) to its reference. ``digest`` is sha256 of every field
    but the secrets, so it changes when the output does without encoding a secret.
    """

    name: str | None
    spec: Mapping[str, Any]
    kubernetes: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    digest: str = ""
    #: where it was read and what it was: ``source``, ``digest``, ``serial``, ``lineage``
    inputs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OutputRead:
    """What the edge read for a ``selfManaged`` reference.

    ``value`` is the output's value; ``where`` names it (``output 'gridv1_cluster' of
    infra/foo.json``); ``serial``/``lineage`` are the state's. ``problem`` is set instead when
    it could not be read (a missing file, state or output), saying what to do; ``warnings``
    are notes such as a file git does not ignore.
    """

    value: Any = None
    where: str = ""
    serial: int | None = None
    lineage: str = ""
    problem: str = ""
    warnings: tuple[str, ...] = ()


#: Reads the output a ``selfManaged`` reference names (the edge: a file or an S3 state).
OutputReader = Callable[[SecretRef], OutputRead]


def read_create_body(value: Any, source: SecretRef) -> OutputSpec | list[str]:
    """The output's ``value`` as an ``OutputSpec``, or every problem found in it."""
    body = _as_object(value)
    if isinstance(body, str):
        return [body]
    problems = [f"{key!r} is not a field of a create body (name, spec)"
                for key in body if key not in ("name", "spec")]
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        problems.append("'name' is not a string")
    spec = body.get("spec", {})
    if not isinstance(spec, Mapping):
        return [*problems, "'spec' is not an object"]
    wire = camel_case_spec(spec)
    problems += [f"'{key}' is not a field a create body sets" for key in wire
                 if key not in _SPEC_KEYS]
    problems += _check_enums(wire)
    driver = wire.get("driver", {})
    kubernetes = driver.get("kubernetes", {}) if isinstance(driver, Mapping) else None
    if not isinstance(kubernetes, Mapping):
        return [*problems, "'spec.driver.kubernetes' is not an object"]
    problems += [f"'spec.driver.{key}' is not supported: gridops manages AWS clusters "
                 "(driver.kubernetes.aws)" for key in driver if key != "kubernetes"]
    aws = kubernetes.get("aws", {})
    if not isinstance(aws, Mapping):
        return [*problems, "'spec.driver.kubernetes.aws' is not an object"]
    doc, aws_problems = _aws_fields(aws, source)
    problems += aws_problems
    profile = wire.get("performanceProfile")
    if isinstance(profile, str) and profile in _PROFILE_NAMES:
        doc["performanceProfile"] = _PROFILE_NAMES[profile]
    extra, secrets = _kubernetes_fields(kubernetes, source, problems)
    if problems:
        return problems
    named = name if isinstance(name, str) else None
    return OutputSpec(name=named, spec=doc, kubernetes=extra, secrets=secrets,
                      digest=_digest({"name": named, "spec": doc, "kubernetes": extra}))


def _as_object(value: Any) -> Mapping[str, Any] | str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            # The decoder's message quotes the text, secrets and all: it is not kept.
            return "the value is a string but not JSON: it must be the create body as JSON"
    if not isinstance(value, Mapping):
        return "the value is not an object: it must be the create body {name, spec}"
    return value


def camel_case_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` with the message field names in camelCase (the CLI writes snake_case); the
    values of other fields (maps, unmodelled objects) are kept as written."""
    out = {_camel(k): v for k, v in spec.items()}
    driver = out.get("driver")
    if isinstance(driver, Mapping):
        out["driver"] = driver = {_camel(k): v for k, v in driver.items()}
        kubernetes = driver.get("kubernetes")
        if isinstance(kubernetes, Mapping):
            driver["kubernetes"] = kubernetes = {_camel(k): v for k, v in kubernetes.items()}
            aws = kubernetes.get("aws")
            if isinstance(aws, Mapping):
                kubernetes["aws"] = aws = {_camel(k): v for k, v in aws.items()}
                items = aws.get("instanceTypes")
                if isinstance(items, list):
                    aws["instanceTypes"] = [{_camel(k): v for k, v in i.items()}
                                            if isinstance(i, Mapping) else i for i in items]
    return out


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _check_enums(wire: Mapping[str, Any]) -> list[str]:
    problems = []
    if wire.get("clusterType", TYPE_BYOC) not in (TYPE_BYOC, "CLUSTER_TYPE_UNSPECIFIED"):
        problems.append(f"'spec.clusterType' is {_shown(wire['clusterType'])}: only "
                        f"{TYPE_BYOC} clusters are self-managed")
    if wire.get("desiredState", "CLUSTER_STATE_RUNNING") not in (
            "CLUSTER_STATE_RUNNING", "CLUSTER_STATE_UNSPECIFIED"):
        problems.append(f"'spec.desiredState' is {_shown(wire['desiredState'])}: a create "
                        "body asks for CLUSTER_STATE_RUNNING (delete by removing the document)")
    profile = wire.get("performanceProfile")
    if profile is not None and profile not in (*_PROFILE_NAMES,
                                               "CLUSTER_PERFORMANCE_PROFILE_UNSPECIFIED"):
        problems.append(f"'spec.performanceProfile' is {_shown(profile)}, not one of "
                        f"{PROFILE_DEFAULT}, {PROFILE_COST_SAVING}")
    return problems


def _aws_fields(aws: Mapping[str, Any], source: SecretRef) -> tuple[dict[str, Any], list[str]]:
    """Document fields from ``driver.kubernetes.aws``, and the problems of their types."""
    doc: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in aws.items():
        where = f"'spec.{AWS_PREFIX}{key}'"
        if key not in _AWS_KEYS:
            problems.append(f"{where} is not a field of Grid's AWSClusterDriverSpec")
        elif key == "externalId":
            if not isinstance(value, str) or not value:
                problems.append(f"{where} is not a non-empty string")  # never the value
            else:
                doc["externalId"] = _reference(source, AWS_PREFIX + key)
        elif key == "instanceTypes":
            items = _instance_types(value, f"spec.{AWS_PREFIX}{key}", problems)
            if items:
                doc["instanceTypes"] = items
        elif key in ("region", "roleArn"):
            if isinstance(value, str) and value:
                doc[key] = value
            else:
                problems.append(f"{where} is not a non-empty string")
        else:
            checked = _typed(key, value, where, problems)
            if checked is not None:
                extra[key] = checked
    if extra:
        doc["aws"] = extra
    return doc, problems


def _typed(key: str, value: Any, where: str, problems: list[str]) -> Any:
    if key in _AWS_INTS:
        number = read_int(value)
        if number is None or number < 0:
            problems.append(f"{where} is {_shown(value)}, not a whole number >= 0")
        return number
    if key in _AWS_BOOLS and not isinstance(value, bool):
        problems.append(f"{where} is {_shown(value)}, not true or false")
        return None
    if key in _AWS_LISTS and not (isinstance(value, list)
                                  and all(isinstance(v, str) for v in value)):
        problems.append(f"{where} is not a list of strings")
        return None
    if key in _AWS_STRINGS and not isinstance(value, str):
        problems.append(f"{where} is {_shown(value)}, not a string")
        return None
    return value


def _instance_types(value: Any, path: str, problems: list[str]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        problems.append(f"'{path}' is not a list")
        return []
    items = []
    for i, item in enumerate(value):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping) or not isinstance(name, str) or not name:
            problems.append(f"'{path}[{i}]' is not an instance type with a 'name'")
            continue
        entry: dict[str, Any] = {"name": name}
        for wire_key, doc_key, least in (("overprovisionedOndemandCount",
                                          "overprovisionedOnDemand", 0),
                                         ("rootVolumeSize", "rootVolumeGiB", 1)):
            raw = item.get(wire_key)
            number = read_int(raw)
            if raw is None or (least and number == 0):  # protobuf's zero: unset
                continue
            if number is None or number < least:
                problems.append(f"'{path}[{i}].{wire_key}' is {_shown(raw)}, "
                                f"not a whole number >= {least}")
            else:
                entry[doc_key] = number
        unknown = sorted(set(item) - {"name", "overprovisionedOndemandCount", "rootVolumeSize"})
        problems += [f"'{path}[{i}].{k}' is not a field of an instance type" for k in unknown]
        items.append(entry)
    return items


def _kubernetes_fields(kubernetes: Mapping[str, Any], source: SecretRef,
                       problems: list[str]) -> tuple[dict[str, Any], dict[str, SecretRef]]:
    """The ``driver.kubernetes`` fields beside ``aws``; secret ones as references."""
    extra: dict[str, Any] = {}
    secrets: dict[str, SecretRef] = {}
    for key, value in kubernetes.items():
        if key == "aws":
            continue
        if is_secret_key(key):
            if not isinstance(value, str) or not value:
                problems.append(f"'spec.{KUBERNETES_PREFIX}{key}' is a secret but not a "
                                "non-empty string")
            else:
                secrets[KUBERNETES_PREFIX + key] = secret_ref(source, KUBERNETES_PREFIX + key)
        elif value is not None:
            extra[key] = value
    return extra, secrets


def is_secret_key(key: str) -> bool:
    """A field whose value is a secret: never shown, compared without being shown."""
    return key in _SECRET_KEYS or bool(_SECRET_NAME.search(key))


def secret_ref(source: SecretRef, path: str) -> SecretRef:
    """A reference to the secret at wire ``path`` of the output ``source`` names."""
    return SecretRef(kind=source.kind,
                     params=tuple(sorted({**dict(source.params), PATH_PARAM: path}.items())))


def _reference(source: SecretRef, path: str) -> dict[str, dict[str, str]]:
    """The document form of ``secret_ref`` (the loader parses it like any reference)."""
    return {source.kind: {**dict(source.params), PATH_PARAM: path}}


def secret_at(value: Any, path: str) -> str | None:
    """The secret at wire ``path`` of the output's create body, or None when it is not a
    non-empty string there (read at resolve time, so only references travel)."""
    body = _as_object(value)
    if isinstance(body, str) or not isinstance(body.get("spec"), Mapping):
        return None
    node: Any = camel_case_spec(body["spec"])
    for key in path.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, str) and node else None


def _digest(read: Mapping[str, Any]) -> str:
    """sha256 of what was read: secrets appear in it only as references, never values."""
    return hashlib.sha256(json.dumps(read, sort_keys=True, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_output_fields(spec: Mapping[str, Any], written: Mapping[str, Any]) -> list[str]:
    """Grid's rules for the fields the output sets and the document does not override
    (``written`` is the document's own spec): region, roleArn, amd64 instance types."""
    problems = []
    for key, check in (("region", rules.check_region), ("roleArn", rules.check_role_arn)):
        value = spec.get(key)
        if key not in written and isinstance(value, str):
            problem = check(value)
            problems += [f"'spec.{AWS_PREFIX}{key}': {problem}"] if problem else []
    if "instanceTypes" not in written:
        seen: set[str] = set()
        for i, item in enumerate(spec.get("instanceTypes", [])):
            problem = rules.check_instance_type(item["name"])
            if not problem and item["name"] in seen:
                problem = f"instance type {item['name']!r} is listed twice"
            seen.add(item["name"])
            problems += [f"'spec.{AWS_PREFIX}instanceTypes[{i}]': {problem}"] if problem else []
    own_aws = written.get("aws", {}) if isinstance(written.get("aws"), Mapping) else {}
    for key in ("managementNodeInstanceType", "builderNodeInstanceType",
                "tensorboardNodeInstanceType"):
        value = spec.get("aws", {}).get(key)
        if key not in own_aws and isinstance(value, str) and value:
            problem = rules.check_instance_type(value)
            problems += [f"'spec.{AWS_PREFIX}{key}': {problem}"] if problem else []
    return problems
