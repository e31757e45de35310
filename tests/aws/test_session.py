"""Clients made by the SessionFactory: endpoints, retries, timeouts, caching."""

from __future__ import annotations

import pytest

from reconciler.aws.session import ENDPOINT_ENV, SessionFactory, global_region


def test_sts_clients_use_the_regions_own_endpoint() -> None:
    sts = SessionFactory(env={}).client("sts", "eu-west-3")
    assert sts.meta.endpoint_url == "https://sts.eu-west-3.amazonaws.com"


def test_endpoint_override_from_the_environment_reaches_every_client() -> None:
    sessions = SessionFactory(env={ENDPOINT_ENV: "http://127.0.0.1:5000"})
    urls = {sessions.client(s, "eu-west-1").meta.endpoint_url for s in ("s3", "iam", "sts")}
    assert urls == {"http://127.0.0.1:5000"}


def test_clients_retry_in_standard_mode_with_short_timeouts() -> None:
    config = SessionFactory(env={}).client("ec2", "us-east-1").meta.config
    assert config.retries["mode"] == "standard"
    assert config.connect_timeout <= 10 and config.read_timeout <= 30


def test_clients_are_made_once_per_service_and_region() -> None:
    sessions = SessionFactory(env={})
    assert sessions.client("s3", "us-east-1") is sessions.client("s3", "us-east-1")
    assert sessions.client("s3", "us-east-1") is not sessions.client("s3", "eu-west-1")
    assert sessions("eu-west-1").region_name == "eu-west-1"


@pytest.mark.parametrize(("region", "home"), [("eu-central-1", "us-east-1"),
                                              ("us-gov-east-1", "us-gov-west-1"),
                                              ("cn-northwest-1", "cn-north-1")],
                         ids=["aws", "govcloud", "china"])
def test_global_services_are_asked_in_the_partitions_home_region(region: str,
                                                                  home: str) -> None:
    assert global_region(region) == home
