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

import base64
import html
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

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
#: The param of a reference into a terraform output that names the secret's wire path
#: (``sources.selfmanaged``).
PATH_PARAM = "path"

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


class UnresolvedSecret(SecretError):
    """A reference ``cluster`` names that cannot be resolved; ``problem`` is the reference's
    own, the same for every cluster that names it."""

    def __init__(self, cluster: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"cluster {cluster}: {problem}", hint=hint)
        self.cluster = cluster
        self.problem = problem


class Resolver:
    """Resolves references with the registered providers; one lookup per reference per run."""

    def __init__(self, providers: Mapping[str, Provider]) -> None:
        self._providers = dict(providers)
        self._cache: dict[SecretRef, str] = {}
        #: why each reference that failed did: asked once too (200 clusters naming one
        #: parameter make one AWS call, and one problem)
        self._failed: dict[SecretRef, SecretError] = {}

    def resolve(self, ref: SecretRef, *, cluster: str) -> str:
        if ref in self._cache:
            return self._cache[ref]
        if ref not in self._failed:
            try:
                self._cache[ref] = self._lookup(ref)
                return self._cache[ref]
            except SecretError as e:
                self._failed[ref] = e
        failure = self._failed[ref]
        raise UnresolvedSecret(cluster, failure.message, hint=failure.hint) from failure

    def _lookup(self, ref: SecretRef) -> str:
        """The value of ``ref``, or a SecretError saying why not (of the reference alone)."""
        provider = self._providers.get(ref.kind)
        if provider is None:
            raise SecretError(f"secret reference {ref.kind} is not available here",
                              hint="install gridops with AWS support or use fromEnv")
        try:
            value = provider(ref)
        except SecretError as e:
            raise SecretError(f"cannot resolve {ref.describe()}: {e.message}",
                              hint=e.hint) from e
        if len(value) < MIN_SECRET_LENGTH:
            raise SecretError(f"the secret in {ref.describe()} is shorter than "
                              f"{MIN_SECRET_LENGTH} characters, too short to be masked in "
                              "output without blanking ordinary words",
                              hint="use a longer, random value (the BYOC terraform makes one)")
        return value

    def resolved_values(self) -> Iterator[str]:
        return iter(self._cache.values())


#: The one masking rule: a secret of at least this many characters is masked wherever it
#: appears, in every encoding; a shorter one would blank ordinary words ("create", "plan"),
#: so secrets gridops sends (external ids, the Grid API key) must be at least this long.
MIN_SECRET_LENGTH = 8

#: Environment variables whose values are always secret (with GRIDOPS_MASK_*).
SECRET_ENV = ("GRID_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY",
              "AWS_SESSION_TOKEN")


def encoded_forms(value: str) -> set[str]:
    """``value`` as it may appear in text: plain, JSON-escaped, URL-encoded (either case of
    hex digits, ``+`` for spaces), HTML-escaped, and base64 (standard and URL-safe, at each of
    the three alignments it can have inside a longer encoded string: the characters that
    depend only on ``value``). Forms shorter than MIN_SECRET_LENGTH are left out."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             html.escape(value)}
    for quoted in (quote(value, safe=""), quote(value), quote_plus(value)):
        forms |= {quoted, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quoted)}
    data = value.encode("utf-8")
    for shift in range(3):
        whole = len(data) + shift
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * shift + data).decode("ascii")
            forms.add(text[4 if shift else 0:4 * (whole // 3)])
            if shift == 0:
                forms.add(text)
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Masker:
    """Replaces every known secret with ``***`` in text written anywhere: the values the
    resolver resolved, those added with ``add`` (Grid credentials), and the environment's
    secrets (SECRET_ENV, ``GRID_USER_ID:GRID_API_KEY``, GRIDOPS_MASK_*), each in every form
    ``encoded_forms`` gives. Values shorter than MIN_SECRET_LENGTH are never masked."""

    def __init__(self, resolver: Resolver | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self._resolver = resolver
        source = os.environ if env is None else env
        self._static = {v for k, v in source.items()
                        if v and (k.startswith("GRIDOPS_MASK_") or k in SECRET_ENV)}
        if source.get("GRID_USER_ID") and source.get("GRID_API_KEY"):
            self._static.add(f"{source['GRID_USER_ID']}:{source['GRID_API_KEY']}")
        self._compiled: tuple[frozenset[str], re.Pattern[str] | None] = (frozenset(), None)

    def add(self, value: str) -> None:
        """Mask ``value`` from now on (a credential read from a file, say)."""
        if value:
            self._static.add(value)

    def values(self) -> list[str]:
        """Every secret, longest first, that is long enough to be masked."""
        dynamic = set(self._resolver.resolved_values()) if self._resolver else set()
        return sorted({v for v in self._static | dynamic if len(v) >= MIN_SECRET_LENGTH},
                      key=len, reverse=True)

    def mask(self, text: str) -> str:
        pattern = self._pattern()
        return pattern.sub(MASK, text) if pattern is not None else text

    def mask_all(self, texts: Iterable[str]) -> list[str]:
        return [self.mask(t) for t in texts]

    def _pattern(self) -> re.Pattern[str] | None:
        values = frozenset(self.values())
        if values != self._compiled[0]:
            forms = sorted({f for v in values for f in encoded_forms(v)}, key=len, reverse=True)
            pattern = re.compile("|".join(re.escape(f) for f in forms)) if forms else None
            self._compiled = (values, pattern)
        return self._compiled[1]
