"""The GitHub Action's step outputs, from gridops' exit code and the plan file it saved.

``python -m reconciler.github.action_outputs --exit-code N [--plan FILE]`` prints
``name=value`` lines for ``$GITHUB_OUTPUT``: ``exit-code``; with a plan, ``plan-json`` (its
path), ``has-changes``, ``has-drift``, one count per action (``create``, ``update``,
``delete``, ``wait``, ``failed``, ``blocked``, ``no-op``), ``unmanaged``, and
``monthly-cost-delta`` when the plan's summary knows it. Nothing else: the plan holds secret
references, never values, so nothing here needs masking.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.plan.types import Plan
from reconciler.views.render import plan_summary


def action_outputs(exit_code: int, summary: Mapping[str, Any] | None,
                   plan_path: str = "") -> dict[str, str]:
    """The outputs, all strings; the plan's only when there is one."""
    outputs = {"exit-code": str(exit_code)}
    if summary is None:
        return outputs
    outputs["plan-json"] = plan_path
    for key, value in summary.items():
        name = _KEBAB.get(key, key)
        outputs[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return outputs


_KEBAB = {"hasChanges": "has-changes", "hasDrift": "has-drift",
          "monthlyCostDelta": "monthly-cost-delta"}


def render_outputs(outputs: Mapping[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in outputs.items()
                   if "\n" not in value and "\r" not in value)


def _read_summary(path: Path) -> Mapping[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None  # gridops stopped before planning (a validation error, ...)
    try:
        return plan_summary(Plan.loads(text, source=str(path)))
    except ConfigError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.github.action_outputs")
    parser.add_argument("--exit-code", type=int, required=True)
    parser.add_argument("--plan", default="")
    args = parser.parse_args(argv)
    summary = _read_summary(Path(args.plan)) if args.plan else None
    sys.stdout.write(render_outputs(action_outputs(args.exit_code, summary, args.plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
