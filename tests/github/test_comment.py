from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.errors import Finding
from reconciler.github.budget import COMMENT_LIMIT, measure
from reconciler.github.comment import render_plan_comment
from reconciler.github.sections import MAX_LINE
from reconciler.model import SecretRef
from reconciler.plan.types import Action, Change, FieldChange, Plan
from reconciler.sources.secrets import Masker
from tests.github.plans import change, create, delete, plan_of, update

MARKER = "<!-- gridops:plan:gridops.yaml -->"


def _render(plan: Plan | None, **kwargs: object) -> str:
    return render_plan_comment(plan, settings_file="gridops.yaml", **kwargs)  # type: ignore[arg-type]


def test_comment_opens_with_the_marker_then_the_summary_line() -> None:
    text = _render(plan_of(create("a"), update("b"), delete("c")),
                   run_url="https://github.com/acme/x/actions/runs/7", planned_sha="ab" * 20)

    assert text.splitlines()[0] == MARKER
    assert "**Plan: 1 to create, 1 to change, 1 to delete.**" in text
    assert "Planned commit `abababababab`" in text
    assert "[workflow run](https://github.com/acme/x/actions/runs/7)" in text


@pytest.mark.parametrize(("changes", "banner"), [
    ((delete("old"),), True), ((create("new"), update("b")), False)],
    ids=["with-delete", "without-delete"])
def test_delete_banner_shows_only_when_something_is_deleted(changes: tuple[Change, ...],
                                                             banner: bool) -> None:
    text = _render(plan_of(*changes))
    assert ("> [!CAUTION]" in text) is banner
    assert ("**This plan deletes 1 cluster in Grid:** `old`" in text) is banner


def test_blocked_and_failed_are_called_out_with_their_reasons() -> None:
    text = _render(plan_of(change("p", Action.BLOCKED, "removed from git while protected"),
                           change("f", Action.FAILED, "quota exceeded in us-east-1")))

    assert "**2 clusters need a person**: 1 blocked, 1 failed" in text
    assert "- `x` **blocked** `p`: removed from git while protected" in text
    assert "- `!` **failed** `f`: quota exceeded in us-east-1" in text


def test_field_diff_uses_plus_minus_tilde_and_hides_sensitive_values() -> None:
    fields = (FieldChange("driver.kubernetes.aws.region", "eu-west-1", "eu-west-2"),
              FieldChange("driver.kubernetes.aws.externalId", sensitive=True),
              FieldChange("driver.kubernetes.aws.instanceTypes[g4dn.xlarge]", None, {"x": 1}),
              FieldChange("driver.kubernetes.aws.instanceTypes[t3.large]", {}, None))
    text = _render(plan_of(Change(name="b", action=Action.UPDATE, field_changes=fields)))

    assert '~ driver.kubernetes.aws.region: "eu-west-1" -> "eu-west-2"' in text
    assert "~ driver.kubernetes.aws.externalId: (sensitive value changed)" in text
    assert '+ driver.kubernetes.aws.instanceTypes[g4dn.xlarge]: {"x": 1}' in text
    assert "- driver.kubernetes.aws.instanceTypes[t3.large]: {}" in text
    assert "<details><summary><code>~</code> <b>update</b> <code>b</code>" in text


def test_create_lists_its_spec_and_marks_the_secret_without_a_value() -> None:
    ref = SecretRef("fromEnv", (("name", "GRID_EXTERNAL_ID_A"),))
    text = _render(plan_of(replace(create("a"), secrets={
        "driver.kubernetes.aws.externalId": ref})))
    assert '+ driver.kubernetes.aws.region: "us-east-1"' in text
    assert "+ driver.kubernetes.aws.instanceTypes[t3.large]\n" in text
    assert "+ driver.kubernetes.aws.externalId: (sensitive value)" in text


def test_pr_view_shows_the_pull_requests_changes_apart_from_drift() -> None:
    text = _render(plan_of(create("mine"), update("drifted", drift=True)), pr_view=True)

    own, drift = text.split("#### Drift: clusters this pull request does not touch (1)")
    assert "#### Changes this pull request makes (1)" in own and "<code>mine</code>" in own
    assert "<code>drifted</code>" in drift and "drifted" not in own


def test_without_pr_view_everything_is_one_list() -> None:
    text = _render(plan_of(create("mine"), update("drifted", drift=True)))
    assert "#### Changes (2)" in text and "Drift:" not in text


def test_findings_and_unmanaged_clusters_are_listed() -> None:
    findings = [Finding("clusters/a.yaml", 3, 5, "unknown field 'regoin'")]
    text = _render(plan_of(create("a"), unmanaged=("stray-1", "stray-2")), findings=findings)

    assert "- `clusters/a.yaml:3:5` error: unknown field 'regoin'" in text
    assert "Live in Grid, not owned by gridops, never changed: `stray-1`, `stray-2`" in text


def test_no_plan_shows_the_findings_and_says_why() -> None:
    text = _render(None, findings=[Finding("clusters/a.yaml", 1, 1, "bad")] * 2)
    assert "**No plan was made**" in text and text.count("`clusters/a.yaml:1:1`") == 2


def test_no_changes_says_so() -> None:
    text = _render(plan_of(change("a", Action.NOOP)))
    assert "No changes: the live clusters match git." in text


def test_values_with_backticks_cannot_close_the_diff_fence() -> None:
    fields = (FieldChange("tags.note", "```", "````\n# heading"),)
    text = _render(plan_of(Change(name="b", action=Action.UPDATE, field_changes=fields)))
    assert "`````diff" in text


def test_html_in_a_reason_is_escaped() -> None:
    text = _render(plan_of(change("f", Action.FAILED, "<img src=x onerror=alert(1)>")))
    assert "<img" not in text and "&lt;img" in text


def test_secret_is_masked_even_where_a_long_line_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "ext-id-5f2b9c1d8e7a"
    monkeypatch.setenv("GRIDOPS_MASK_EXTERNAL_ID", secret)
    masker = Masker()
    padded = "x" * (MAX_LINE - 30) + secret
    fields = (FieldChange("tags.note", "old", padded), FieldChange("tags.other", secret, "n"))
    plan = plan_of(Change(name="b", action=Action.UPDATE, field_changes=fields,
                          reason=f"because {secret}"), warnings=(f"saw {secret}",))

    text = _render(plan, mask=masker.mask)

    assert secret[:8] not in text
    assert "***" in text


# --- the size budget --------------------------------------------------------------------------

def _big_plan(clusters: int, fields: int) -> Plan:
    changes: list[Change] = []
    for i in range(clusters):
        name = f"cluster-{i:05d}"
        kind = i % 3
        changes.append(create(name) if kind == 0 else
                       update(name, fields, width=40) if kind == 1 else delete(name))
    return plan_of(*changes)


def _assert_within_limit(text: str) -> None:
    assert len(text) <= COMMENT_LIMIT
    assert measure(text) <= COMMENT_LIMIT
    assert len(text.encode("utf-16-le")) // 2 <= COMMENT_LIMIT
    assert "cut here to fit GitHub's size limit" not in text  # the budget did it, not the guard


def test_hundreds_of_long_diffs_fit_with_every_cluster_line_and_the_summary_whole() -> None:
    plan = _big_plan(300, fields=200)
    text = _render(plan, run_url="https://github.com/acme/x/actions/runs/7")

    _assert_within_limit(text)
    assert "**Plan: 100 to create, 100 to change, 100 to delete.**" in text
    assert all(f"<code>cluster-{i:05d}</code>" in text or f"`cluster-{i:05d}`" in text
               for i in range(300))
    assert "> [!NOTE]\n> Shortened to fit GitHub's limit of 65,536 characters" in text
    assert "The whole plan is in the job summary of the [workflow run]" in text
    assert "`gridops-plan` artifact" in text


def test_the_longest_diffs_are_cut_and_the_short_ones_kept() -> None:
    plan = plan_of(update("small", 3), *[update(f"huge-{i}", 3000) for i in range(3)])
    text = _render(plan)

    _assert_within_limit(text)
    small = text.split("<code>small</code>")[1].split("</details>")[0]
    assert "more lines cut here" not in small and small.count("\n~ ") == 3
    assert text.count("more lines cut here: the whole plan is in the job summary") == 3


def test_thousands_of_clusters_fold_to_lines_and_only_then_are_counted_not_listed() -> None:
    plan = _big_plan(6000, fields=50)
    text = _render(plan)

    _assert_within_limit(text)
    assert "**Plan: 2000 to create, 2000 to change, 2000 to delete.**" in text
    listed = sum(1 for i in range(6000) if f"cluster-{i:05d}" in text)
    hidden = int(text.split("**... and ")[1].split(" more cluster")[0])
    assert listed + hidden == 6000 and hidden > 0
    assert "clusters not listed" in text


@pytest.mark.parametrize("clusters", [1, 40, 400, 4000], ids=["one", "tens", "hundreds",
                                                               "thousands"])
def test_comment_is_always_within_the_limit_even_with_wide_characters(clusters: int) -> None:
    changes = [Change(name=f"c-{i}", action=Action.UPDATE, field_changes=tuple(
        FieldChange(f"tags.t{j}", "é" * 30, "🚀" * 30) for j in range(60)))
        for i in range(clusters)]
    text = _render(plan_of(*changes), findings=[Finding("clusters/x.yaml", 1, 1, "ü" * 200)] * 500)
    _assert_within_limit(text)
    assert "**Plan: 0 to create" in text


def test_a_create_shows_its_secret_as_set_not_changed() -> None:
    from reconciler.github.sections import diff_lines
    from reconciler.plan.types import Action, Change, FieldChange

    change = Change(name="c", action=Action.CREATE, field_changes=(
        FieldChange(path="driver.kubernetes.aws.externalId", sensitive=True),
        FieldChange(path="driver.kubernetes.aws.region", new="us-east-1")))
    assert diff_lines(change) == ["+ driver.kubernetes.aws.externalId: (sensitive value)",
                                  '+ driver.kubernetes.aws.region: "us-east-1"']
