"""AWS secret providers through the real Resolver: moto for SSM and Secrets Manager, files in
a temporary repository for terraform outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.aws.secrets import aws_providers, lazy_aws_providers
from reconciler.aws.session import SessionFactory
from reconciler.errors import SecretError
from reconciler.model import SecretRef
from reconciler.sources.secrets import Resolver

VALUE = "ext-5e1d0b9a7c3f42"


def ref(kind: str, **params: str) -> SecretRef:
    return SecretRef(kind, tuple(sorted(params.items())))


@pytest.fixture
def resolver(sessions: SessionFactory, tmp_path: Path) -> Resolver:
    return Resolver(aws_providers(sessions, repo_root=tmp_path, env={}))


def count_calls(sessions: SessionFactory, service: str, region: str) -> list[str]:
    calls: list[str] = []
    client = sessions.client(service, region)

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register(f"before-call.{client.meta.service_model.endpoint_prefix}.*",
                                count)
    return calls


def test_ssm_secure_string_is_decrypted_once_per_run(sessions: SessionFactory,
                                                     resolver: Resolver) -> None:
    sessions.client("ssm", "eu-west-1").put_parameter(
        Name="/grid/external-id", Value=VALUE, Type="SecureString")
    calls = count_calls(sessions, "ssm", "eu-west-1")
    reference = ref("fromSsm", name="/grid/external-id", region="eu-west-1")
    values = {resolver.resolve(reference, cluster=c) for c in ("a", "b", "a")}
    assert values == {VALUE}
    assert calls == ["GetParameter"]
    assert list(resolver.resolved_values()) == [VALUE]


@pytest.mark.parametrize(("secret", "key", "expected"), [
    (VALUE, None, VALUE),
    (json.dumps({"externalId": VALUE, "other": "x"}), "externalId", VALUE),
], ids=["whole-string", "json-key"])
def test_secrets_manager_whole_or_by_key(sessions: SessionFactory, resolver: Resolver,
                                         secret: str, key: str | None, expected: str) -> None:
    sessions.client("secretsmanager", "us-east-1").create_secret(Name="grid/byoc",
                                                                 SecretString=secret)
    params = {"secretId": "grid/byoc", "region": "us-east-1", **({"key": key} if key else {})}
    assert resolver.resolve(ref("fromSecretsManager", **params), cluster="c") == expected


def test_region_defaults_to_aws_default_region(sessions: SessionFactory, tmp_path: Path) -> None:
    sessions.client("ssm", "ap-south-1").put_parameter(Name="p", Value=VALUE, Type="String")
    providers = aws_providers(sessions, repo_root=tmp_path,
                              env={"AWS_DEFAULT_REGION": "ap-south-1"})
    assert providers["fromSsm"](ref("fromSsm", name="p")) == VALUE


def _plant_secrets(sessions: SessionFactory) -> None:
    sm = sessions.client("secretsmanager", "us-east-1")
    sm.create_secret(Name="plain", SecretString=VALUE)
    sm.create_secret(Name="doc", SecretString=json.dumps({"externalId": VALUE, "n": 7}))
    sm.create_secret(Name="list", SecretString=json.dumps([VALUE]))


@pytest.mark.parametrize(("reference", "words"), [
    (ref("fromSsm", name="/grid/missing", region="us-east-1"),
     "SSM parameter /grid/missing in us-east-1 does not exist"),
    (ref("fromSecretsManager", secretId="absent", region="us-east-1"),
     "secret absent in us-east-1 does not exist"),
    (ref("fromSecretsManager", secretId="doc", key="nope", region="us-east-1"),
     "has no key 'nope'"),
    (ref("fromSecretsManager", secretId="doc", key="n", region="us-east-1"),
     "key 'n' of secret doc is not a non-empty string"),
    (ref("fromSecretsManager", secretId="plain", key="externalId", region="us-east-1"),
     "secret plain is not JSON"),
    (ref("fromSecretsManager", secretId="list", key="externalId", region="us-east-1"),
     "not an object"),
    (ref("fromSsm", name="/grid/x"), "no AWS region for SSM parameter /grid/x"),
], ids=["ssm-missing", "secret-missing", "key-missing", "key-not-string", "not-json",
        "json-not-object", "no-region"])
def test_unresolvable_references_name_cluster_and_reference_but_not_the_value(
        sessions: SessionFactory, resolver: Resolver, reference: SecretRef,
        words: str) -> None:
    _plant_secrets(sessions)
    with pytest.raises(SecretError) as raised:
        resolver.resolve(reference, cluster="research")
    text = str(raised.value)
    assert words in text
    assert "cluster research" in text and reference.describe() in text
    assert VALUE not in text and VALUE not in repr(raised.value.__cause__)


def write_outputs(root: Path, outputs: Any, file: str = "terraform/outputs.json") -> None:
    path = root / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(outputs if isinstance(outputs, str) else json.dumps(outputs))


def test_terraform_output_is_read_with_defaults(resolver: Resolver, tmp_path: Path) -> None:
    write_outputs(tmp_path, {
        "role_arn": {"sensitive": False, "type": "string", "value": "arn:aws:iam::1:role/r"},
        "external_id": {"sensitive": True, "type": "string", "value": VALUE}})
    assert resolver.resolve(ref("fromTerraformOutput"), cluster="c") == VALUE
    assert resolver.resolve(ref("fromTerraformOutput", output="role_arn",
                                file="terraform/outputs.json"), cluster="c").endswith("role/r")


@pytest.mark.parametrize(("content", "params", "words"), [
    (None, {}, "terraform/outputs.json does not exist"),
    ({"role_arn": {"value": "x"}}, {}, "has no output 'external_id'"),
    ({"external_id": {"type": ["list", "string"], "value": [VALUE]}}, {},
     "is not a non-empty string"),
    ("{" + VALUE, {}, "is not JSON"),
    ({}, {"file": "../outside.json"}, "outside the repository"),
], ids=["missing-file", "missing-output", "not-a-string", "not-json", "escapes-repo"])
def test_terraform_output_errors_name_file_and_output(
        resolver: Resolver, tmp_path: Path, content: Any, params: dict[str, str],
        words: str) -> None:
    if content is not None:
        write_outputs(tmp_path, content)
    with pytest.raises(SecretError) as raised:
        resolver.resolve(ref("fromTerraformOutput", **params), cluster="c")
    assert words in str(raised.value)
    cause = raised.value.__cause__
    assert VALUE not in str(raised.value) and VALUE not in str(cause)


def test_lazy_providers_make_no_aws_session_for_terraform_outputs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_session(**_: Any) -> None:
        raise AssertionError("an AWS session was made")

    monkeypatch.setattr("reconciler.aws.session.SessionFactory", no_session)
    write_outputs(tmp_path, {"external_id": {"sensitive": True, "value": VALUE}})
    providers = lazy_aws_providers(repo_root=tmp_path, env={})
    assert providers["fromTerraformOutput"](ref("fromTerraformOutput")) == VALUE
    with pytest.raises(AssertionError, match="session was made"):
        providers["fromSsm"](ref("fromSsm", name="p", region="us-east-1"))
