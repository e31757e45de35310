from __future__ import annotations

import pytest

from reconciler.errors import PlanRefused
from reconciler.plan.guards import check_guards
from reconciler.plan.types import Action, Change, Plan


def _plan(*deletes: str) -> Plan:
    return Plan(changes=tuple(Change(name=n, action=Action.DELETE) for n in deletes),
                created_at="2024-05-01T12:00:00Z", git_sha=None, live_fingerprint="f")


@pytest.mark.parametrize(("deletes", "max_deletes"), [((), 0), (("a",), 1), (("a", "b"), 2)],
                         ids=["none", "at-limit-1", "at-limit-2"])
def test_guards_pass_deletes_up_to_max_deletes(deletes: tuple[str, ...],
                                               max_deletes: int) -> None:
    check_guards(_plan(*deletes), max_deletes=max_deletes, desired_count=1, inventory_count=3,
                 allow_empty=False)


def test_guards_refuse_more_deletes_than_max_deletes_naming_them() -> None:
    with pytest.raises(PlanRefused) as refused:
        check_guards(_plan("a", "b"), max_deletes=1, desired_count=1, inventory_count=3,
                     allow_empty=False)
    assert "2 clusters (a, b)" in refused.value.message
    assert "maxDeletes" in (refused.value.hint or "") and "split" in (refused.value.hint or "")


def test_guards_refuse_an_empty_desired_set_over_a_non_empty_inventory() -> None:
    with pytest.raises(PlanRefused, match="no cluster documents were found") as refused:
        check_guards(_plan(), max_deletes=5, desired_count=0, inventory_count=2,
                     allow_empty=False)
    assert "--allow-empty" in (refused.value.hint or "")


@pytest.mark.parametrize(("inventory_count", "allow_empty"), [(0, False), (2, True)],
                         ids=["nothing-owned", "allowed"])
def test_guards_pass_an_empty_desired_set_when_safe(inventory_count: int,
                                                    allow_empty: bool) -> None:
    check_guards(_plan(), max_deletes=1, desired_count=0, inventory_count=inventory_count,
                 allow_empty=allow_empty)


@pytest.mark.parametrize(("setting", "url", "on"), [
    ("auto", "https://platform.grid.ai", True),
    ("auto", "sim://.gridops/sim.db", False),
    ("auto", "http://127.0.0.1:8080", False),
    ("auto", "http://localhost:8080", False),
    ("always", "sim://x.db", True),
    ("never", "https://platform.grid.ai", False),
], ids=["real-grid", "sim-url", "loopback-ip", "localhost", "always", "never"])
def test_aws_checks_auto_is_off_only_against_the_emulator(setting: str, url: str,
                                                          on: bool) -> None:
    from reconciler.run import checks_enabled

    assert checks_enabled(setting, url) is on
