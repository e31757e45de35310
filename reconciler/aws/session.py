"""AWS sessions and clients for gridops, made in one place.

Every AWS call gridops makes goes through a ``SessionFactory``: clients cached per (service,
region), botocore's standard retry mode and short timeouts so a check that cannot be answered
fails fast instead of hanging a plan. ``GRIDOPS_AWS_ENDPOINT_URL`` points every client at one
endpoint (a moto server, LocalStack) for local runs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, create_loader

#: Environment variable naming one endpoint URL for every AWS service (moto server, LocalStack).
ENDPOINT_ENV = "GRIDOPS_AWS_ENDPOINT_URL"

#: Retries with botocore's standard mode (exponential backoff with jitter, throttling aware).
DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=20,
)

_loader_lock = threading.Lock()
_loader: Loader | None = None


def _shared_loader() -> Loader:
    """One model loader per process: botocore's service models are parsed once, however
    many factories are made."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = create_loader()
        return _loader


class SessionFactory:
    """Makes AWS clients per region (``client``) and boto3 sessions (``sessions(region)``).

    Credentials come from the usual chain (environment, profile, instance role); ``profile``
    picks a named profile. STS clients use the region's own endpoint
    (``sts_regional_endpoints = regional``), which the preflight check relies on. Clients are
    thread-safe and shared; making them is guarded by a lock because sessions are not.
    """

    def __init__(self, *, profile: str | None = None, endpoint_url: str | None = None,
                 config: Config | None = None, env: Mapping[str, str] | None = None) -> None:
        source = os.environ if env is None else env
        self.profile = profile
        #: one endpoint for every service, or None for AWS's own endpoints
        self.endpoint_url = endpoint_url or source.get(ENDPOINT_ENV) or None
        self.config = config or DEFAULT_CONFIG
        self._core = botocore.session.get_session()
        self._core.register_component("data_loader", _shared_loader())
        self._core.set_config_variable("sts_regional_endpoints", "regional")
        if profile:
            self._core.set_config_variable("profile", profile)
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, region: str) -> boto3.Session:
        """A boto3 session for ``region`` (made once), for callers that want resources."""
        with self._lock:
            if region not in self._sessions:
                self._sessions[region] = boto3.Session(profile_name=self.profile,
                                                       region_name=region)
            return self._sessions[region]

    def client(self, service: str, region: str) -> Any:
        """A cached client for ``service`` in ``region``."""
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self._core.create_client(
                    service, region_name=region, config=self.config,
                    endpoint_url=self.endpoint_url)
            return self._clients[key]


def global_region(region: str) -> str:
    """The region that serves the global services (IAM, S3 bucket listing) of ``region``'s
    partition."""
    if region.startswith("us-gov-"):
        return "us-gov-west-1"
    if region.startswith("cn-"):
        return "cn-north-1"
    return "us-east-1"
