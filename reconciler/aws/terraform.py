"""Terraform outputs, where they live: a ``terraform output -json`` file in the repository
(``fromTerraformOutput: {file, output}``) or an S3-backed state (``fromTerraformState:
{bucket, key, region, output}``, read with boto3 as CI has no such file).

``read_terraform_value`` returns an output's value with where it came from (and the state's
serial and lineage); every failure is a ``SecretError`` naming the file or state and the
output, never a value (outputs hold secrets). ``output_reader`` is the loader's reader for
self-managed clusters: it also refuses an outputs file git tracks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import GitError, SecretError
from reconciler.model import SecretRef
from reconciler.sources import gitsource
from reconciler.sources.selfmanaged import OutputRead, OutputReader

DEFAULT_TERRAFORM_FILE = "terraform/outputs.json"
DEFAULT_TERRAFORM_OUTPUT = "external_id"

#: Makes an S3 client for a region (the edge passes its SessionFactory's).
S3Client = Callable[[str], Any]


@dataclass(frozen=True)
class TerraformValue:
    """An output's value, read.

    ``where`` names it for messages (``output 'gridv1_cluster' of infra/foo.json`` or ``of
    s3://bucket/key``); ``serial`` and ``lineage`` are the state's (None and "" for a file).
    """

    value: Any
    where: str
    serial: int | None = None
    lineage: str = ""


def read_terraform_value(ref: SecretRef, *, repo_root: Path,
                         s3_client: S3Client | None = None,
                         env: Mapping[str, str] | None = None) -> TerraformValue:
    """The output ``ref`` names, from its file or its S3 state."""
    params = dict(ref.params)
    if ref.kind == "fromTerraformState":
        return _from_state(params, s3_client, os.environ if env is None else env)
    return _from_file(params, repo_root)


def _from_file(params: Mapping[str, str], repo_root: Path) -> TerraformValue:
    file = params.get("file", DEFAULT_TERRAFORM_FILE)
    output = params.get("output", DEFAULT_TERRAFORM_OUTPUT)
    where = f"output {output!r} of {file}"
    path = _inside(repo_root, file)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SecretError(f"{file} does not exist (looking for {where})",
                          hint=f"run `terraform output -json > {file}` where the module "
                               "was applied (the file is git-ignored, so each checkout "
                               "needs its own; in CI use fromTerraformState)") from e
    except json.JSONDecodeError:
        # The decoder's error keeps the file's text, secrets and all: it is not chained.
        raise SecretError(f"{file} is not JSON (looking for {where})",
                          hint=f"write it with `terraform output -json > {file}`") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SecretError(f"cannot read {file} (looking for {where}): {e}") from e
    return TerraformValue(_output(document, output, file, "terraform output -json"), where)


def _from_state(params: Mapping[str, str], s3_client: S3Client | None,
                env: Mapping[str, str]) -> TerraformValue:
    bucket, key, output = params.get("bucket", ""), params.get("key", ""), params.get("output",
                                                                                       "")
    state = f"s3://{bucket}/{key}"
    where = f"output {output!r} of the terraform state {state}"
    region = params.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise SecretError(f"no AWS region for the terraform state {state}",
                          hint="add `region:` (the bucket's region) to fromTerraformState")
    document = _state_document(state, bucket, key, region, s3_client)
    serial = document.get("serial")
    lineage = document.get("lineage")
    return TerraformValue(_output(document.get("outputs"), output, state, "terraform output"),
                          where, serial=serial if isinstance(serial, int) else None,
                          lineage=lineage if isinstance(lineage, str) else "")


def _state_document(state: str, bucket: str, key: str, region: str,
                    s3_client: S3Client | None) -> Mapping[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    from reconciler.aws.calls import ACCESS_DENIED_CODES, error_code

    client = s3_client(region) if s3_client else _default_client(region)
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        code = error_code(e)
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            raise SecretError(f"the terraform state {state} does not exist ({code})",
                              hint="check bucket and key against the module's `backend \"s3\"` "
                                   "block, and that terraform apply has run") from e
        if code in ACCESS_DENIED_CODES:
            raise SecretError(f"access denied reading the terraform state {state}",
                              hint="allow s3:GetObject on it (and kms:Decrypt if encrypted) "
                                   "for the credentials gridops runs with") from e
        raise SecretError(f"cannot read the terraform state {state}: {code}") from e
    except BotoCoreError as e:
        raise SecretError(f"cannot read the terraform state {state}: {type(e).__name__}",
                          hint="check the AWS credentials and network") from e
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SecretError(f"{state} is not a terraform state (not JSON)") from None
    if not isinstance(document, dict):
        raise SecretError(f"{state} is not a terraform state (not a JSON object)")
    return document


def _default_client(region: str) -> Any:
    from reconciler.aws.session import SessionFactory

    return SessionFactory().client("s3", region)


def _output(outputs: Any, output: str, where: str, how: str) -> Any:
    entry = outputs.get(output) if isinstance(outputs, dict) else None
    if not isinstance(entry, dict) or "value" not in entry:
        known = ", ".join(sorted(outputs)) if isinstance(outputs, dict) and outputs else "none"
        raise SecretError(f"{where} has no output {output!r}",
                          hint=f"its outputs are: {known} (as `{how}` lists them)")
    return entry["value"]


def _inside(repo_root: Path, file: str) -> Path:
    root = repo_root.resolve()
    path = (root / file).resolve()
    if Path(file).is_absolute() or not path.is_relative_to(root):
        raise SecretError(f"terraform output file {file} is outside the repository",
                          hint="give a path relative to the repository root")
    return path


def output_reader(root: Path) -> OutputReader:
    """Reads a self-managed cluster's terraform output (a file in the repository, which git
    must not track, or an S3 state); a failure is the problem to report, never a value."""
    def read(ref: SecretRef) -> OutputRead:
        file = dict(ref.params).get("file", "")
        standing = "none"
        if ref.kind == "fromTerraformOutput":
            try:  # inside the repository first: git is never asked about a path outside it
                _inside(root, file)
                standing = gitsource.git_standing(root, file)
            except (SecretError, GitError) as e:
                return OutputRead(problem=e.message + (f" ({e.hint})" if e.hint else ""))
        if standing == "tracked":
            return OutputRead(problem=f"{file} holds secrets and is tracked by git: remove it "
                                      f"(`git rm --cached {file}`), add it to .gitignore and "
                                      "rotate the secrets its history holds")
        try:
            value = read_terraform_value(ref, repo_root=root)
        except SecretError as e:
            return OutputRead(problem=e.message + (f" ({e.hint})" if e.hint else ""))
        warnings = (f"{file} holds secrets and git does not ignore it: add it to .gitignore "
                    "so it is never committed",) if standing == "untracked" else ()
        return OutputRead(value=value.value, where=value.where, serial=value.serial,
                          lineage=value.lineage, warnings=warnings)

    return read
