"""A cluster's status as the emulator answers it, pure (``reconciler.sim.status``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.model import PHASE_RUNNING
from reconciler.sim.phases import new_timeline
from reconciler.sim.specs import decode_spec
from reconciler.sim.status import render_status, rfc3339
from reconciler.sim.store import ClusterRecord
from tests.sim_fixtures import byoc_spec

CREATED = 1700000000.25


def _record(name: str = "alpha", created_at: float = CREATED) -> ClusterRecord:
    spec = decode_spec(byoc_spec(xMultiAzCount=2, fsxEnabled=True))
    return ClusterRecord(name=name, id=name, spec=spec, timeline=new_timeline(created_at, 0))


def _eks(record: ClusterRecord, now: float = CREATED + 45) -> dict[str, object]:
    status = render_status(record, PHASE_RUNNING, now)
    return dict(status["driverStatus"]["kubernetes"]["eks"])


def test_made_up_ids_are_derived_from_the_name_and_the_creation_time() -> None:
    eks = _eks(_record())
    assert (eks["vpcId"], eks["vpcPrivateSubnetIds"], eks["vpcPublicSubnetIds"]) == (
        "vpc-6df3f27406511d46c", ["subnet-b4e73529a2e459a28", "subnet-f6a1079c0dad22233"],
        ["subnet-d8e2c2aaa864d6740", "subnet-fe96c2d858ac835d4"])
    assert (eks["bastionAmi"], eks["gpuAmi"], eks["fsxSgId"]) == (
        "ami-448b27a2c989df1a2", "ami-d001f6f788b0b7952", "sg-af0d373e2a2883554")


def test_made_up_ids_stay_the_same_for_a_cluster_and_differ_between_clusters() -> None:
    first = _eks(_record())
    assert _eks(_record(), now=CREATED + 400) == first  # every poll of it
    other_name, recreated = _eks(_record("beta")), _eks(_record(created_at=CREATED + 1))
    for key in ("vpcId", "bastionAmi", "fsxSgId"):
        assert len({first[key], other_name[key], recreated[key]}) == 3, key
    assert _eks(_record()) == first  # asked again after the others


def test_the_last_health_check_steps_every_30_seconds_since_running() -> None:
    record = _record()
    checks = [render_status(record, PHASE_RUNNING, CREATED + s)["lastHealthcheckTimestamp"]
              for s in (0, 29.9, 30, 59.9, 60)]
    assert checks == ["2023-11-14T22:13:20Z"] * 2 + ["2023-11-14T22:13:50Z"] * 2 + [
        "2023-11-14T22:14:20Z"]
    recovered = replace(record, timeline=replace(record.timeline, recovered_at=CREATED + 50))
    assert render_status(recovered, PHASE_RUNNING, CREATED + 60)["lastHealthcheckTimestamp"] \
        == "2023-11-14T22:14:10Z"


@pytest.mark.parametrize(("timestamp", "expected"), [
    (1700000000, "2023-11-14T22:13:20Z"),
    (1700000000.0, "2023-11-14T22:13:20Z"),
    (1700000000.9999993, "2023-11-14T22:13:20Z"),
    (1700000000.9999996, "2023-11-14T22:13:21Z"),  # rounded to the microsecond first
    (0.0, "1970-01-01T00:00:00Z"),
], ids=["int", "float", "just-below-a-second", "rounds-up-to-a-second", "epoch"])
def test_timestamps_are_whole_seconds_in_utc(timestamp: float, expected: str) -> None:
    assert rfc3339(timestamp) == expected
    assert rfc3339(timestamp) == expected  # asked again
