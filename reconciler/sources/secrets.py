"""Secret references: parsed from documents, resolved lazily once per run, masked everywhere.

A document writes a secret as a reference, never a value::

    externalId: {fromEnv: GRID_EXTERNAL_ID_RESEARCH}
    externalId: {fromSsm: {name: /grid/external-id, region: us-east-1}}
    externalId: {fromSecretsManager: {secretId: grid/byoc, key: externalId}}
    externalId: {fromTerraformOutput: {file: terraform/outputs.json, output: external_id}}
    externalId: {fromTerraformState: {bucket: tf-state, key: grid/terraform.tfstate,
                                      output: external_id}}

``Resolver`` resolves a reference the first time a request needs it, caches it for the run,
and remembers every value so the ``Masker`` can blank it out of logs, plans and comments.
Providers for kinds other than ``fromEnv`` are registered by ``reconciler.aws.secrets``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from reconciler.errors import SecretError
from reconciler.model import SecretRef

#: A provider turns a reference into its value or raises SecretError (without the value).
Provider = Callable[[SecretRef], str]

#: The reference kinds and, for each, the field a plain-string shorthand fills.
REFERENCE_KINDS: Mapping[str, str] = {
    "fromEnv": "name",
    "fromSsm": "name",
    "fromSecretsManager": "secretId",
    "fromTerraformOutput": "output",
    "fromTerraformState": "output",
}
#: The fields a mapping reference must have, where more than its shorthand field.
_REQUIRED = {"fromTerraformOutput": (), "fromTerraformState": ("bucket", "key", "output")}

REFERENCE_EXAMPLE = "externalId: {fromEnv: GRID_EXTERNAL_ID}"
MASK = "***"


def parse_secret_ref(value: Any) -> SecretRef | str:
    """A ``SecretRef`` from a document value, or an error message saying what to write."""
    if isinstance(value, str):
        return ("a secret must be a reference, never a plain string: write "
                f"`{REFERENCE_EXAMPLE}` (or fromSsm, fromSecretsManager, fromTerraformOutput, "
                "fromTerraformState)")
    if not isinstance(value, Mapping) or len(value) != 1:
        return (f"a secret reference has exactly one of {', '.join(REFERENCE_KINDS)}, "
                f"for example `{REFERENCE_EXAMPLE}`")
    ((kind, body),) = value.items()
    if kind not in REFERENCE_KINDS:
        return f"unknown secret reference {kind!r}: use one of {', '.join(REFERENCE_KINDS)}"
    if isinstance(body, str):
        body = {REFERENCE_KINDS[kind]: body}
    if not isinstance(body, Mapping) or not all(isinstance(v, str) and v for v in body.values()):
        return f"{kind} takes a string or a mapping of strings"
    required = _REQUIRED.get(kind, (REFERENCE_KINDS[kind],))
    missing = [key for key in required if key not in body]
    if missing:
        return f"{kind} needs {', '.join(repr(k) for k in missing)}"
    return SecretRef(kind=kind, params=tuple(sorted((str(k), str(v)) for k, v in body.items())))


def env_provider(env: Mapping[str, str] | None = None) -> Provider:
    source = os.environ if env is None else env

    def _resolve(ref: SecretRef) -> str:
        name = dict(ref.params)["name"]
        value = source.get(name)
        if not value:
            raise SecretError(f"environment variable {name} is not set",
                              hint=f"export {name}=... (or set it as a CI secret)")
        return value

    return _resolve


class Resolver:
    """Resolves references with the registered providers; one lookup per reference per run."""

    def __init__(self, providers: Mapping[str, Provider]) -> None:
        self._providers = dict(providers)
        self._cache: dict[SecretRef, str] = {}

    def resolve(self, ref: SecretRef, *, cluster: str) -> str:
        if ref in self._cache:
            return self._cache[ref]
        provider = self._providers.get(ref.kind)
        if provider is None:
            raise SecretError(f"cluster {cluster}: secret reference {ref.kind} is not available "
                              "here", hint="install gridops with AWS support or use fromEnv")
        try:
            value = provider(ref)
        except SecretError as e:
            raise SecretError(f"cluster {cluster}: cannot resolve {ref.describe()}: {e.message}",
                              hint=e.hint) from e
        self._cache[ref] = value
        return value

    def resolved_values(self) -> Iterator[str]:
        return iter(self._cache.values())


class Masker:
    """Replaces every known secret value with ``***`` in text written anywhere."""

    def __init__(self, resolver: Resolver | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self._resolver = resolver
        source = os.environ if env is None else env
        self._static = [v for k, v in source.items() if k.startswith("GRIDOPS_MASK_") and v]

    def values(self) -> list[str]:
        dynamic = list(self._resolver.resolved_values()) if self._resolver else []
        # Longest first so a secret containing another is masked whole. Very short values
        # (under 4 chars) would blank ordinary words, so they are left alone.
        return sorted({v for v in self._static + dynamic if len(v) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        values = self.values()
        if not values:
            return text
        pattern = re.compile("|".join(re.escape(v) for v in values))
        return pattern.sub(MASK, text)

    def mask_all(self, texts: Iterable[str]) -> list[str]:
        return [self.mask(t) for t in texts]
