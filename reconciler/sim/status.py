"""A cluster's ``status`` as Grid answers it (``V1ClusterStatus`` and below), pure.

Once a cluster is RUNNING its status carries what the platform learnt while building it:
the gridlet version, the time of the last health check (every 30 s) and the driver status
(for AWS ``kubernetes.eks``: the VPC and subnets, the roles, the registry, the AMIs).
The ids are made up but stable: derived from the cluster's name and creation time, in the
account and partition of its role ARN.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.model import PHASE_FAILED, PHASE_RUNNING
from reconciler.sim.phases import RETRY_REASON, phase_at
from reconciler.sim.store import ClusterRecord

#: seconds between two health checks of a RUNNING cluster
HEALTHCHECK_SECONDS = 30.0
_DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}


def render_status(record: ClusterRecord, phase: str, now: float) -> dict[str, Any]:
    """The wire ClusterStatus of ``record`` answering ``phase`` at ``now``."""
    status: dict[str, Any] = {"phase": phase}
    if phase == PHASE_FAILED:
        retrying = phase_at(record.timeline, now) != PHASE_FAILED  # a Retry spell's poll
        reason = RETRY_REASON if retrying else record.reason
        if reason:
            status["reason"] = reason
    if phase != PHASE_RUNNING:
        return status
    version = record.spec.get("gridletVersion")
    if version:
        status["gridletVersion"] = version
    status["lastHealthcheckTimestamp"] = rfc3339(_last_healthcheck(record, now))
    driver = _driver_status(record)
    if driver:
        status["driverStatus"] = driver
    return status


# every poll answers each cluster's creation time and its last health check (the same for 30 s)
@functools.lru_cache(maxsize=65_536)
def rfc3339(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def account_id(role_arn: str) -> str | None:
    """The 12-digit account of ``arn:PARTITION:iam::ACCOUNT:role/NAME`` (None otherwise)."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam":
        return None
    account = parts[4]
    return account if len(account) == 12 and account.isdigit() else None


def _last_healthcheck(record: ClusterRecord, now: float) -> float:
    """Health checks run every HEALTHCHECK_SECONDS since the cluster last turned RUNNING."""
    t = record.timeline
    turned = [t.ready_at, t.recovered_at, record.retry.recovered_at]
    since = max(at for at in turned if at is not None and at <= now)
    return since + ((now - since) // HEALTHCHECK_SECONDS) * HEALTHCHECK_SECONDS


def _driver_status(record: ClusterRecord) -> dict[str, Any]:
    aws: Mapping[str, Any] = record.spec.get("driver", {}).get("kubernetes", {}).get("aws", {})
    role_arn = str(aws.get("roleArn", ""))
    account = account_id(role_arn)
    if account is None:
        return {}
    partition = role_arn.split(":")[1]
    region = str(aws.get("region", "us-east-1"))
    name = record.name
    suffix = _DNS_SUFFIX.get(partition, "amazonaws.com")
    seed = f"{name}:{record.timeline.created_at}"

    def made_up(kind: str, index: int = 0) -> str:
        return _made_up_id(seed, kind, index)

    def role(suffix_name: str) -> str:
        return f"arn:{partition}:iam::{account}:role/grid-{name}-{suffix_name}"

    zones = max(int(aws.get("xMultiAzCount", 1)), 1)
    eks: dict[str, Any] = {
        "vpcId": made_up("vpc"),
        "vpcPrivateSubnetIds": [made_up("subnet", i) for i in range(zones)],
        "vpcPublicSubnetIds": [made_up("subnet", zones + i) for i in range(zones)],
        "gridletRoleArn": role("gridlet"),
        "userWorkloadRoleArn": role("user-workload"),
        "ecrRegistryId": account,
        "ecrRepositoryUri": f"{account}.dkr.ecr.{region}.{suffix}/grid-{name}",
        "bastionAmi": aws.get("bastionAmiOverride") or made_up("ami", 0),
        "builderAmi": aws.get("builderAmiOverride") or made_up("ami", 1),
        "cpuAmi": aws.get("cpuAmiOverride") or made_up("ami", 2),
        "gpuAmi": aws.get("gpuAmiOverride") or made_up("ami", 3),
    }
    if aws.get("fsxEnabled"):
        eks["fsxGlobalRoleArn"] = role("fsx")
        eks["fsxSgId"] = made_up("sg")
    hostname = f"{made_up('a')[2:]}.elb.{region}.{suffix}"
    return {"kubernetes": {"eks": eks, "ingressLoadBalancerHostname": hostname}}


# a cluster's ids are answered on every poll of it
@functools.lru_cache(maxsize=65_536)
def _made_up_id(seed: str, kind: str, index: int) -> str:
    """An id of ``kind`` that stays the same for the cluster ``seed`` names."""
    digest = hashlib.sha256(f"{seed}:{kind}:{index}".encode()).hexdigest()
    return f"{kind}-{digest[:17]}"
