"""The secret resolver asks each reference once per run, whether it resolves or not, and says
for each cluster what stops it."""

from __future__ import annotations

import pytest

from reconciler.errors import SecretError
from reconciler.model import SecretRef
from reconciler.sources.secrets import Resolver, UnresolvedSecret

REF = SecretRef(kind="fromSsm", params=(("name", "/grid/external-id"),))


def _counting(answer: str | SecretError) -> tuple[Resolver, list[SecretRef]]:
    asked: list[SecretRef] = []

    def provider(ref: SecretRef) -> str:
        asked.append(ref)
        if isinstance(answer, SecretError):
            raise answer
        return answer

    return Resolver({"fromSsm": provider}), asked


def test_a_reference_that_resolves_is_asked_once() -> None:
    resolver, asked = _counting("a-long-enough-value")
    assert [resolver.resolve(REF, cluster=c) for c in ("a", "b")] == ["a-long-enough-value"] * 2
    assert asked == [REF]


@pytest.mark.parametrize("answer", [SecretError("parameter /grid/external-id does not exist",
                                                hint="create it"), "zq7"],
                         ids=["refused", "too-short"])
def test_a_reference_that_fails_is_asked_once_and_each_cluster_is_told(
        answer: str | SecretError) -> None:
    resolver, asked = _counting(answer)
    failures = []
    for cluster in ("a", "b", "c"):
        with pytest.raises(UnresolvedSecret) as caught:
            resolver.resolve(REF, cluster=cluster)
        failures.append(caught.value)

    assert asked == [REF]
    assert [f.cluster for f in failures] == ["a", "b", "c"]
    assert len({f.problem for f in failures}) == 1
    assert failures[1].message == f"cluster b: {failures[1].problem}"
    assert "zq7" not in failures[0].message  # never the value itself
