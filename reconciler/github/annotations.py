"""Validation findings as GitHub workflow commands, so each shows on its file and line in the
pull request's "Files changed" view. Pure: returns the lines; the CLI prints them on stdout.

GitHub shows at most 10 error and 10 warning annotations per step (50 per job); the rest are
still in the log, and every finding is in the plan comment and the job summary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from reconciler.errors import Finding
from reconciler.github.text import Mask, no_mask

TITLE = "gridops"


def in_github_actions(env: Mapping[str, str] | None = None) -> bool:
    """True inside a GitHub Actions job (where annotations are worth printing)."""
    return (os.environ if env is None else env).get("GITHUB_ACTIONS") == "true"


def annotation_lines(findings: Sequence[Finding], *, mask: Mask = no_mask) -> list[str]:
    """One ``::error file=F,line=L,col=C,title=T::message`` line per finding."""
    return [annotation_line(f, mask=mask) for f in findings]


def annotation_line(finding: Finding, *, mask: Mask = no_mask) -> str:
    command = "warning" if finding.severity == "warning" else "error"
    props = [("file", finding.file)]
    if finding.line:
        props.append(("line", str(finding.line)))
        if finding.col:
            props.append(("col", str(finding.col)))
    props.append(("title", TITLE))
    rendered = ",".join(f"{k}={escape_property(mask(v))}" for k, v in props)
    message = finding.message + (f" ({finding.path})" if finding.path else "")
    return f"::{command} {rendered}::{escape_data(mask(message))}"


def escape_data(text: str) -> str:
    """As the Actions toolkit escapes a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """As the Actions toolkit escapes a property value (``:`` and ``,`` too)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
