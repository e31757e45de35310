from __future__ import annotations

import json

import pytest

from reconciler.live import wire
from reconciler.model import PHASE_QUEUED, PHASE_RUNNING, TYPE_BYOC, TYPE_GLOBAL
from reconciler.plan.types import (
    Action,
    ApplyResult,
    Change,
    ChangeResult,
    FieldChange,
    Outcome,
    Plan,
)
from reconciler.views.render import (
    StatusRow,
    render_apply_text,
    render_plan_json,
    render_plan_text,
    render_status_table,
    status_rows,
)
from tests.core.factories import live_cluster

AWS = "driver.kubernetes.aws"


def _plan(*changes: Change, unmanaged: tuple[str, ...] = (),
          warnings: tuple[str, ...] = ()) -> Plan:
    return Plan(changes=changes, created_at="2024-05-01T12:00:00Z", git_sha="a" * 40,
                live_fingerprint="f", unmanaged=unmanaged, warnings=warnings)


MIXED = _plan(
    Change("a-new", Action.CREATE, reason="new in git"),
    Change("b-drift", Action.UPDATE, reason="differs from git", field_changes=(
        FieldChange(f"{AWS}.instanceTypes[g4dn.xlarge].overprovisionedOndemandCount", 0, 1),
        FieldChange(f"{AWS}.instanceTypes[p3.2xlarge]", None, {"overprovisionedOndemandCount": 0}),
        FieldChange("performanceProfile", "CLUSTER_PERFORMANCE_PROFILE_DEFAULT",
                    "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"),
        FieldChange(wire.EXTERNAL_ID_PATH, sensitive=True),
    )),
    Change("c-old", Action.DELETE, reason="removed from git"),
    Change("d-same", Action.NOOP),
    Change("e-building", Action.WAIT, reason="being created"),
    Change("f-broken", Action.FAILED, reason="vCPU quota exceeded"),
    Change("g-theirs", Action.BLOCKED, reason="adopt it with `gridops import g-theirs`"),
    unmanaged=("someone-elses",), warnings=("prune is off",),
)


def test_plan_text_reads_like_terraform() -> None:
    assert render_plan_text(MIXED) == "\n".join([
        "+ a-new: create (new in git)",
        "~ b-drift: update (differs from git)",
        f"    {AWS}.instanceTypes[g4dn.xlarge].overprovisionedOndemandCount: 0 -> 1",
        f'    {AWS}.instanceTypes[p3.2xlarge]: (absent) -> {{"overprovisionedOndemandCount": 0}}',
        '    performanceProfile: "CLUSTER_PERFORMANCE_PROFILE_DEFAULT" -> '
        '"CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"',
        f"    {AWS}.externalId: (sensitive value changed)",
        "- c-old: delete (removed from git)",
        "= e-building: wait (being created)",
        "! f-broken: failed (vCPU quota exceeded)",
        "x g-theirs: blocked (adopt it with `gridops import g-theirs`)",
        "",
        "Unmanaged clusters (live in Grid, not owned by gridops, never changed):",
        "  someone-elses",
        "",
        "Warnings:",
        "  prune is off",
        "",
        "Plan: 1 to create, 1 to change, 1 to delete; 1 blocked, 1 failed, 1 waiting.",
    ]) + "\n"


def test_plan_text_says_when_nothing_changes() -> None:
    text = render_plan_text(_plan(Change("d-same", Action.NOOP)))
    assert text == "No changes. Live clusters match git.\n\nPlan: 0 to create, 0 to change, " \
                   "0 to delete.\n"


def test_plan_text_colours_only_when_asked() -> None:
    assert "\x1b[" not in render_plan_text(MIXED)
    assert "\x1b[32m+ a-new" in render_plan_text(MIXED, color=True)


def test_plan_json_is_the_plan_file_format() -> None:
    assert Plan.loads(render_plan_json(MIXED)) == MIXED
    assert json.loads(render_plan_json(MIXED))["formatVersion"] == 1


def test_apply_text_lists_each_change_and_the_totals() -> None:
    result = ApplyResult(results=(
        ChangeResult("a-new", Action.CREATE, Outcome.OK, phase=PHASE_QUEUED),
        ChangeResult("b-drift", Action.UPDATE, Outcome.OK, phase=PHASE_RUNNING),
        ChangeResult("c-old", Action.DELETE, Outcome.OK),
        ChangeResult("d-same", Action.NOOP, Outcome.OK),
        ChangeResult("e-nosecret", Action.CREATE, Outcome.FAILED,
                     error="environment variable X is not set"),
    ))
    assert render_apply_text(result) == "\n".join([
        "+ a-new: created (QUEUED)",
        "~ b-drift: updated (RUNNING)",
        "- c-old: delete requested",
        "! e-nosecret: create failed: environment variable X is not set",
        "",
        "Apply complete: 1 created, 1 changed, 1 deleted, 1 failed.",
    ]) + "\n"


def test_status_table_aligns_columns() -> None:
    rows = [StatusRow("research-use1", TYPE_BYOC, PHASE_RUNNING, True, False),
            StatusRow("grid-cloud-prod", TYPE_GLOBAL, PHASE_RUNNING, False, None),
            StatusRow("x", TYPE_BYOC, "CLUSTER_STATE_FAILED", True, None, "quota")]
    assert render_status_table(rows).splitlines() == [
        "NAME             TYPE    PHASE    MANAGED    DRIFT  AGE  REASON",
        "research-use1    BYOC    RUNNING  managed    no     -",
        "grid-cloud-prod  GLOBAL  RUNNING  unmanaged  -      -",
        "x                BYOC    FAILED   managed    -      -    quota",
    ]


def test_status_rows_take_drift_from_the_plan() -> None:
    plan = _plan(Change("drifted", Action.UPDATE), Change("same", Action.NOOP),
                 unmanaged=("theirs",))
    live = [live_cluster("same"), live_cluster("drifted"), live_cluster("theirs"),
            live_cluster("grid-cloud-prod", cluster_type=TYPE_GLOBAL)]
    rows = status_rows(plan, live, inventory={"drifted", "same"})
    assert [(r.name, r.managed, r.drift) for r in rows] == [
        ("drifted", True, True), ("grid-cloud-prod", False, None), ("same", True, False),
        ("theirs", False, None)]


@pytest.mark.parametrize("plan", [MIXED, _plan()], ids=["mixed", "empty"])
def test_plan_text_ends_with_the_summary_line(plan: Plan) -> None:
    assert render_plan_text(plan).splitlines()[-1].startswith("Plan: ")
