"""The create body of a self-managed cluster's terraform output, read as document fields."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.model import SecretRef
from reconciler.sources.selfmanaged import OutputSpec, read_create_body, secret_at

SOURCE = SecretRef("fromTerraformOutput", (("file", "tf.json"), ("output", "gridv1_cluster")))
SECRET = "ext-9a7c41d2e0"


def _body(aws: dict[str, Any], **kubernetes: Any) -> dict[str, Any]:
    return {"name": "foo-01", "spec": {"driver": {"kubernetes": {**kubernetes, "aws": aws}}}}


SNAKE = _body({"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/g",
               "external_id": SECRET, "x_multi_az_count": "2",
               "instance_types": [{"name": "t3.large", "overprovisioned_ondemand_count": "1",
                                   "root_volume_size": 0}]},
              root_domain_name="a.example.com", extra_gridlet_env_var={"MY_VAR": "1"})
CAMEL = _body({"region": "us-east-1", "roleArn": "arn:aws:iam::123456789012:role/g",
               "externalId": SECRET, "xMultiAzCount": 2,
               "instanceTypes": [{"name": "t3.large", "overprovisionedOndemandCount": 1}]},
              rootDomainName="a.example.com", extraGridletEnvVar={"MY_VAR": "1"})


def _read(value: Any) -> OutputSpec:
    read = read_create_body(value, SOURCE)
    assert isinstance(read, OutputSpec), read
    return read


def test_snake_case_and_camel_case_bodies_read_alike() -> None:
    snake, camel = _read(SNAKE), _read(CAMEL)
    assert snake == camel
    assert snake.spec == {
        "region": "us-east-1", "roleArn": "arn:aws:iam::123456789012:role/g",
        "externalId": {"fromTerraformOutput": {"file": "tf.json", "output": "gridv1_cluster",
                                               "path": "driver.kubernetes.aws.externalId"}},
        "instanceTypes": [{"name": "t3.large", "overprovisionedOnDemand": 1}],
        "aws": {"xMultiAzCount": 2}}
    # map keys are the user's own: never camel-cased
    assert snake.kubernetes == {"rootDomainName": "a.example.com",
                                "extraGridletEnvVar": {"MY_VAR": "1"}}


def test_a_secret_travels_as_a_reference_and_is_read_back_at_its_path() -> None:
    body = _body(CAMEL["spec"]["driver"]["kubernetes"]["aws"], kubeconfig="apiVersion: v1 ...")
    read = _read(body)
    assert "kubeconfig" not in read.kubernetes
    assert dict(read.secrets["driver.kubernetes.kubeconfig"].params)["path"] == \
        "driver.kubernetes.kubeconfig"
    assert SECRET not in repr(read) and "apiVersion: v1" not in repr(read)
    assert secret_at(SNAKE, "driver.kubernetes.aws.externalId") == SECRET


def test_the_digest_follows_the_fields_but_never_encodes_a_secret() -> None:
    rotated = _body({**CAMEL["spec"]["driver"]["kubernetes"]["aws"], "externalId": "other"},
                    rootDomainName="a.example.com", extraGridletEnvVar={"MY_VAR": "1"})
    moved = _body({**CAMEL["spec"]["driver"]["kubernetes"]["aws"], "region": "eu-west-1"},
                  rootDomainName="a.example.com", extraGridletEnvVar={"MY_VAR": "1"})
    assert _read(rotated).digest == _read(CAMEL).digest != _read(moved).digest


@pytest.mark.parametrize(("aws", "problem"), [
    ({"externalId": 12345}, "'spec.driver.kubernetes.aws.externalId' is not a non-empty string"),
    ({"fsxEnabled": "yes"}, "'spec.driver.kubernetes.aws.fsxEnabled' is 'yes', not true or "
                            "false"),
    ({"regoin": "x"}, "'spec.driver.kubernetes.aws.regoin' is not a field of Grid's "
                      "AWSClusterDriverSpec"),
    ({"instanceTypes": [{"size": 1}]}, "'spec.driver.kubernetes.aws.instanceTypes[0]' is not "
                                       "an instance type with a 'name'"),
], ids=["secret-wrong-type", "bool", "unknown-field", "type-without-name"])
def test_each_problem_names_the_wire_path_and_never_a_secret(aws: dict[str, Any],
                                                             problem: str) -> None:
    read = read_create_body(_body(aws), SOURCE)
    assert isinstance(read, list) and problem in read
    assert not any("12345" in p for p in read)
