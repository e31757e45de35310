from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.live import wire
from reconciler.model import PROFILE_COST_SAVING, InstanceSpec
from reconciler.plan.diff import creation_fields, diff_secret, diff_specs
from reconciler.plan.types import FieldChange
from tests.core.factories import desired_cluster, live_spec

AWS = "driver.kubernetes.aws"
BASE = desired_cluster(aws_extra=(("azSkipIds", ["use1-az1"]),))


def _changes(**overrides: Any) -> tuple[FieldChange, ...]:
    target = desired_cluster(**{"aws_extra": BASE.aws_extra, **overrides})
    desired, live = wire.comparable_views(wire.to_wire_spec(target), live_spec(BASE),
                                          wire.managed_aws_keys(target))
    return diff_specs(desired, live)


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, []),
    ({"performance_profile": PROFILE_COST_SAVING},
     [FieldChange("performanceProfile", "CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
                  PROFILE_COST_SAVING)]),
    ({"region": "eu-west-1"}, [FieldChange(f"{AWS}.region", "us-east-1", "eu-west-1")]),
    ({"instance_types": (InstanceSpec("t3.large"),
                         InstanceSpec("g4dn.xlarge", 2, 200))},
     [FieldChange(f"{AWS}.instanceTypes[g4dn.xlarge].overprovisionedOndemandCount", 1, 2)]),
    ({"instance_types": (InstanceSpec("g4dn.xlarge", 1, 200),)},
     [FieldChange(f"{AWS}.instanceTypes[t3.large]",
                  {"overprovisionedOndemandCount": 0, "rootVolumeSize": 100}, None)]),
    ({"instance_types": (*BASE.instance_types, InstanceSpec("p3.2xlarge"))},
     [FieldChange(f"{AWS}.instanceTypes[p3.2xlarge]", None,
                  {"overprovisionedOndemandCount": 0})]),
    ({"instance_types": tuple(reversed(BASE.instance_types))}, []),
    ({"aws_extra": (("azSkipIds", ["use1-az1", "use1-az2"]),)},
     [FieldChange(f"{AWS}.azSkipIds", ["use1-az1"], ["use1-az1", "use1-az2"])]),
    ({"aws_extra": (("azSkipIds", ["use1-az1"]), ("fsxEnabled", True))},
     [FieldChange(f"{AWS}.fsxEnabled", False, True)]),
], ids=["same", "profile", "region", "instance-count", "type-removed", "type-added",
        "type-order", "list-whole", "extra-added"])
def test_diff_names_each_changed_field_by_wire_path(overrides: dict[str, Any],
                                                    expected: list[FieldChange]) -> None:
    assert list(_changes(**overrides)) == expected


def test_diff_is_sorted_by_path_and_json_friendly() -> None:
    changes = _changes(region="eu-west-1", performance_profile=PROFILE_COST_SAVING,
                       instance_types=(InstanceSpec("m5.large"),))
    assert [c.path for c in changes] == sorted(c.path for c in changes)
    json.dumps([c.to_json() for c in changes])


@pytest.mark.parametrize(("desired", "live", "changed"), [
    ("secret-a", "secret-b", True),
    ("secret-a", "secret-a", False),
    ("secret-a", None, False),
    ("secret-a", "", False),
    (None, "secret-b", False),
], ids=["differs", "same", "redacted", "empty", "unresolved"])
def test_secret_change_is_sensitive_and_carries_no_value(desired: str | None, live: str | None,
                                                         changed: bool) -> None:
    change = diff_secret(wire.EXTERNAL_ID_PATH, desired, live)
    assert (change is not None) is changed
    if change is not None:
        assert change == FieldChange(wire.EXTERNAL_ID_PATH, None, None, sensitive=True)


def test_creation_fields_list_every_leaf_with_instance_types_as_entries() -> None:

    view = {"performanceProfile": "P", "driver": {"kubernetes": {"aws": {
        "region": "us-east-1", "azSkipIds": ["use1-az3"],
        "instanceTypes": {"t3.large": {"overprovisionedOndemandCount": 0}}}}}}
    fields = {f.path: f.new for f in creation_fields(view)}
    assert fields == {
        "performanceProfile": "P",
        "driver.kubernetes.aws.region": "us-east-1",
        "driver.kubernetes.aws.azSkipIds": ["use1-az3"],
        "driver.kubernetes.aws.instanceTypes[t3.large]": {"overprovisionedOndemandCount": 0},
    }
    assert all(f.old is None for f in creation_fields(view))


@pytest.mark.parametrize(("desired", "live", "expected"), [
    ({"a": 1, "b": {"c": [1, 2]}}, {"a": 2, "b": {"c": [1, 2]}}, [FieldChange("a", 2, 1)]),
    ({"a": 1}, {"a": 1, "gone": {"x": 1}}, [FieldChange("gone", {"x": 1}, None)]),
    ({"a": 1, "new": "v"}, {"a": 1}, [FieldChange("new", None, "v")]),
    ({"a": 1, "b": {"c": 1, "d": 2}}, {"a": 2, "b": {"c": 1, "d": 3}},
     [FieldChange("a", 2, 1), FieldChange("b.d", 3, 2)]),
    ({"b": {"c": {"x": 1, "y": [1, 2]}, "d": {"e": 1}}},
     {"b": {"c": {"x": 1, "y": [2, 1, 3]}, "d": {}, "f": "gone"}},
     [FieldChange("b.c.y", [2, 1, 3], [1, 2]), FieldChange("b.d.e", None, 1),
      FieldChange("b.f", "gone", None)]),
    ({"b": {"c": {"x": 1}}}, {"b": {"c": "text"}}, [FieldChange("b.c", "text", {"x": 1})]),
], ids=["one-of-two-fields", "field-only-live", "field-only-desired", "two-fields-one-nested",
        "deep-branches", "mapping-against-value"])
def test_diff_of_part_of_the_fields_names_the_same_paths(desired: dict[str, Any],
                                                         live: dict[str, Any],
                                                         expected: list[FieldChange]) -> None:
    assert list(diff_specs(desired, live)) == expected


def test_listing_a_create_s_fields_leaves_no_reference_cycle_behind() -> None:
    import gc

    view = {"performanceProfile": "P", "driver": {"kubernetes": {"aws": {
        "region": "us-east-1", "instanceTypes": {"t3.large": {"name": "t3.large"}}}}}}
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(100):
            creation_fields(view)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
