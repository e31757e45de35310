from __future__ import annotations

import pytest

from reconciler.github.apply_comment import render_apply_comment
from reconciler.github.budget import COMMENT_LIMIT
from reconciler.plan.types import Action, ApplyResult, ChangeResult, Outcome

OK = ChangeResult("a", Action.CREATE, Outcome.OK, phase="CLUSTER_STATE_RUNNING")
FAILED = ChangeResult("b", Action.UPDATE, Outcome.FAILED, error="Grid said 400: bad spec")


def _render(result: ApplyResult, *, run_url: str = "", self_heal: bool = True) -> str:
    return render_apply_comment(result, None, settings_file="gridops.yaml", run_url=run_url,
                                self_heal=self_heal)


def test_apply_comment_has_its_own_marker_and_lists_each_outcome() -> None:
    text = _render(ApplyResult((OK,), git_sha="d" * 40), run_url="https://g/r/actions/runs/1")

    assert text.splitlines()[0] == "<!-- gridops:apply:gridops.yaml -->"
    assert "· applied" in text and "- `+` **created** `a` (RUNNING)" in text
    assert "Applied commit `dddddddddddd`" in text and "(https://g/r/actions/runs/1)" in text


@pytest.mark.parametrize(("self_heal", "advice"), [
    (True, "The next scheduled reconcile run will try again"),
    (False, "nothing retries by itself"),
], ids=["self-heal", "report-only"])
def test_failure_says_what_failed_and_what_happens_next(self_heal: bool, advice: str) -> None:
    text = _render(ApplyResult((OK, FAILED)), self_heal=self_heal)

    assert "· failed" in text and "**1 cluster failed**" in text
    assert "- `~` **update failed** `b`: Grid said 400: bad spec" in text
    assert advice in text
    assert text.index("#### Failed (1)") < text.index("#### Done (1)")


def test_nothing_to_apply_says_so() -> None:
    text = _render(ApplyResult((ChangeResult("a", Action.NOOP, Outcome.OK),)))
    assert "Nothing to apply" in text


def test_thousands_of_outcomes_stay_within_the_limit_failures_first() -> None:
    results = tuple(ChangeResult(f"c-{i:05d}", Action.UPDATE, Outcome.FAILED, error="e" * 400)
                    for i in range(300)) + tuple(
        ChangeResult(f"ok-{i:05d}", Action.CREATE, Outcome.OK) for i in range(3000))
    text = _render(ApplyResult(results))

    assert len(text) <= COMMENT_LIMIT and "cut here to fit" not in text
    assert "`c-00000`" in text and "more not shown" in text
    assert "Apply complete: 3000 created, 0 changed, 0 deleted, 300 failed." in text
