"""Secret providers that read from AWS and from terraform's outputs.

    externalId: {fromSsm: {name: /grid/external-id, region: us-east-1}}
    externalId: {fromSecretsManager: {secretId: grid/byoc, key: externalId, region: ...}}
    externalId: {fromTerraformOutput: {file: terraform/outputs.json, output: external_id}}
    externalId: {fromTerraformState: {bucket: tf-state, key: grid.tfstate, output: external_id}}

The loader gives every ``fromSsm``/``fromSecretsManager`` reference the cluster's region
when it names none; a reference built elsewhere without one falls back to ``AWS_REGION`` or
``AWS_DEFAULT_REGION``. ``fromTerraformOutput`` reads the JSON that ``terraform output -json``
prints (``file`` defaults to ``terraform/outputs.json``, ``output`` to ``external_id``);
``fromTerraformState`` reads ``outputs.NAME.value`` of an S3-backed state (``aws.terraform``).
Errors name the parameter, secret, key, file or output, never the value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.aws.terraform import read_terraform_value
from reconciler.errors import SecretError
from reconciler.model import SecretRef
from reconciler.sources.secrets import PATH_PARAM, Provider
from reconciler.sources.selfmanaged import secret_at

if TYPE_CHECKING:  # boto3 loads when an AWS reference is resolved, not when the CLI starts
    from reconciler.aws.session import SessionFactory


def aws_providers(sessions: SessionFactory, *, repo_root: Path,
                  env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """``fromSsm``, ``fromSecretsManager`` and ``fromTerraformOutput`` for the Resolver."""
    source = os.environ if env is None else env
    return {
        "fromSsm": lambda ref: _from_ssm(ref, sessions, source),
        "fromSecretsManager": lambda ref: _from_secrets_manager(ref, sessions, source),
        "fromTerraformOutput": lambda ref: read_terraform_output(ref, repo_root),
        "fromTerraformState": lambda ref: read_terraform_output(ref, repo_root, sessions),
    }


def lazy_aws_providers(*, repo_root: Path,
                       env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """Like ``aws_providers``, making the AWS session only when an AWS reference needs it."""
    made: list[dict[str, Provider]] = []

    def provider(kind: str) -> Provider:
        def resolve(ref: SecretRef) -> str:
            from reconciler.aws import session

            if not made:
                made.append(aws_providers(session.SessionFactory(env=env), repo_root=repo_root,
                                          env=env))
            return made[0][kind](ref)
        return resolve

    return {"fromSsm": provider("fromSsm"),
            "fromSecretsManager": provider("fromSecretsManager"),
            "fromTerraformOutput": lambda ref: read_terraform_output(ref, repo_root),
            "fromTerraformState": provider("fromTerraformState")}


def _region(params: Mapping[str, str], env: Mapping[str, str], what: str) -> str:
    region = params.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise SecretError(f"no AWS region for {what}",
                          hint="add `region:` to the reference or set AWS_DEFAULT_REGION")
    return region


def _from_ssm(ref: SecretRef, sessions: SessionFactory, env: Mapping[str, str]) -> str:
    params = dict(ref.params)
    name = params["name"]
    region = _region(params, env, f"SSM parameter {name}")
    ssm = sessions.client("ssm", region)
    answer = _call(lambda: ssm.get_parameter(Name=name, WithDecryption=True),
                   what=f"SSM parameter {name} in {region}",
                   missing=("ParameterNotFound",), permission="ssm:GetParameter (and "
                   "kms:Decrypt for a SecureString)")
    return str(answer["Parameter"]["Value"])


def _from_secrets_manager(ref: SecretRef, sessions: SessionFactory,
                          env: Mapping[str, str]) -> str:
    params = dict(ref.params)
    secret_id = params["secretId"]
    what = f"secret {secret_id}"
    region = _region(params, env, what)
    sm = sessions.client("secretsmanager", region)
    answer = _call(lambda: sm.get_secret_value(SecretId=secret_id),
                   what=f"{what} in {region}", missing=("ResourceNotFoundException",),
                   permission="secretsmanager:GetSecretValue")
    if "SecretString" not in answer:
        raise SecretError(f"{what} holds binary data, not a string",
                          hint="store the external id as a secret string")
    text = str(answer["SecretString"])
    key = params.get("key")
    return text if key is None else _json_key(text, key, what)


def _json_key(text: str, key: str, what: str) -> str:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        # The decoder's message can quote the secret: it is not kept.
        raise SecretError(f"{what} is not JSON, so it has no key {key!r}",
                          hint="drop `key:` to use the whole secret string") from None
    if not isinstance(document, dict):
        raise SecretError(f"{what} is JSON but not an object, so it has no key {key!r}")
    if key not in document:
        raise SecretError(f"{what} has no key {key!r}",
                          hint=f"its keys are: {', '.join(sorted(map(str, document)))}")
    value = document[key]
    if not isinstance(value, str) or not value:
        raise SecretError(f"key {key!r} of {what} is not a non-empty string")
    return value


def read_terraform_output(ref: SecretRef, repo_root: Path,
                          sessions: SessionFactory | None = None) -> str:
    """The secret a ``fromTerraformOutput``/``fromTerraformState`` reference names: the
    output's value, or with a ``path`` param (a self-managed cluster's create body) the
    field at that wire path of it."""
    s3 = (lambda region: sessions.client("s3", region)) if sessions else None
    read = read_terraform_value(ref, repo_root=repo_root, s3_client=s3)
    path = dict(ref.params).get(PATH_PARAM)
    value = secret_at(read.value, path) if path else read.value
    if not isinstance(value, str) or not value:
        what = f"{path} in {read.where}" if path else read.where
        raise SecretError(f"{what} is not a non-empty string")
    return value


def _call(call: Callable[[], Any], *, what: str, missing: tuple[str, ...],
          permission: str) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    from reconciler.aws.calls import ACCESS_DENIED_CODES, error_code, error_message

    try:
        return call()
    except ClientError as e:
        code = error_code(e)
        if code in missing:
            raise SecretError(f"{what} does not exist",
                              hint="create it, or fix the reference's name and region") from e
        if code in ACCESS_DENIED_CODES:
            raise SecretError(f"access denied reading {what}",
                              hint=f"allow {permission} for the credentials gridops runs "
                                   "with") from e
        raise SecretError(f"cannot read {what}: {code}: {error_message(e)}") from e
    except BotoCoreError as e:
        raise SecretError(f"cannot read {what}: {e}",
                          hint="check the AWS credentials and network") from e
