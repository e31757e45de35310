"""The emulator's static catalog of amd64 (x86_64) instance types, and the instance-types answer
of one cluster (its own types, priced and rated from the catalog)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CatalogEntry:
    """One EC2 instance type as Grid offers it."""

    #: the AWS instance type, e.g. ``g4dn.xlarge``
    name: str
    #: vCPUs, as Grid writes them (a string)
    cpu: str
    #: GPUs (a string; "0" for none)
    gpu: str
    #: memory, e.g. ``16Gi``
    memory: str
    #: on-demand price per hour in USD
    hourly_cost: float
    #: spot price per hour in USD (about a third of on-demand)
    spot_hourly_cost: float
    #: ``AVAILABILITY_*`` enum string
    availability: str = "AVAILABILITY_AVAILABLE"


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("t3.medium", "2", "0", "4Gi", 0.0416, 0.0125),
    CatalogEntry("t3.large", "2", "0", "8Gi", 0.0832, 0.025),
    CatalogEntry("t3.xlarge", "4", "0", "16Gi", 0.1664, 0.0499),
    CatalogEntry("m5.large", "2", "0", "8Gi", 0.096, 0.0355),
    CatalogEntry("m5.2xlarge", "8", "0", "32Gi", 0.384, 0.142),
    CatalogEntry("c5.4xlarge", "16", "0", "32Gi", 0.68, 0.2656),
    CatalogEntry("r5.xlarge", "4", "0", "32Gi", 0.252, 0.0794),
    CatalogEntry("g4dn.xlarge", "4", "1", "16Gi", 0.526, 0.1578),
    CatalogEntry("g4dn.12xlarge", "48", "4", "192Gi", 3.912, 1.1736),
    CatalogEntry("g5.xlarge", "4", "1", "16Gi", 1.006, 0.3018, "AVAILABILITY_LIMITED"),
    CatalogEntry("p3.2xlarge", "8", "1", "61Gi", 3.06, 0.918),
    CatalogEntry("p3.8xlarge", "32", "4", "244Gi", 12.24, 3.672, "AVAILABILITY_LIMITED"),
    CatalogEntry("p4d.24xlarge", "96", "8", "1152Gi", 32.7726, 9.8318,
                 "AVAILABILITY_UNAVAILABLE"),
)


_BY_NAME: Mapping[str, CatalogEntry] = {entry.name: entry for entry in CATALOG}


def instance_types_answer(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``{"instanceTypes": [...]}``: an on-demand and a spot entry for each type the cluster
    lists (in its order), with the cluster's ``overprovisionedOndemandCount`` on the
    on-demand one. A type the catalog lacks is answered by name only (no size, price or
    availability known)."""
    kubernetes = spec.get("driver", {}).get("kubernetes", {})
    own = [*kubernetes.get("aws", {}).get("instanceTypes", []),
           *kubernetes.get("azure", {}).get("instanceTypes", [])]
    answer: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in own:
        name = str(item.get("name", ""))
        if not name or name in seen:
            continue
        seen.add(name)
        entry = _BY_NAME.get(name)
        base: dict[str, Any] = {"name": name}
        on_demand, spot = {}, {}
        if entry is not None:
            base.update(cpu=entry.cpu, gpu=entry.gpu, memory=entry.memory,
                        availability=entry.availability)
            on_demand, spot = {"hourlyCost": entry.hourly_cost}, {
                "hourlyCost": entry.spot_hourly_cost}
        warm = item.get("overprovisionedOndemandCount", 0)
        if warm:
            on_demand["overprovisionedOndemandCount"] = warm
        answer += [{**base, **on_demand}, {**base, **spot, "spot": True}]
    return {"instanceTypes": answer}
