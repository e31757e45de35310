"""One error hierarchy for gridops.

Every failure a user can meet is a ``GridopsError``: it carries the exit code the CLI returns
and a short machine-readable ``reason``. Adapters (Grid client, GitHub client, git source,
state backends, AWS checks) turn library exceptions into these with ``raise ... from e``;
the one top-level handler in the CLI prints ``message`` (and ``hint``) and exits with
``exit_code``. Nothing below the CLI prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: The exit codes of every gridops command, in one place: the CLI's handler, each command's
#: ``--help`` and the README use this table. 2 means only "live differs from git".
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success; for plan --detailed-exitcode and drift: live matches git"),
    (EXIT_ERROR, "an error, a failed change, or a usage error (an unknown option, a bad "
                 "argument)"),
    (EXIT_CHANGES, "plan --detailed-exitcode: changes to make; drift: live differs from git"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)
#: Usage errors share the error code: 2 is kept for "live differs from git" alone.
EXIT_USAGE = EXIT_ERROR


def describe_exit_codes() -> str:
    """The table as lines of text, ``  0  meaning``."""
    return "\n".join(f"  {code:<3} {meaning}" for code, meaning in EXIT_CODES)


class GridopsError(Exception):
    """Base class. ``message`` says what went wrong, ``hint`` what to do about it."""

    exit_code: int = EXIT_ERROR
    reason: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


@dataclass(frozen=True)
class Finding:
    """One validation finding, reported with every other finding at once.

    ``file`` is relative to the repository root; ``line`` and ``col`` are 1-based (0 when
    unknown); ``path`` is the JSON path inside the document (``spec.instanceTypes[1].name``),
    empty for file-level findings. ``rule`` names the kind of finding (``schema-type``,
    ``region``, ``yaml``; see ``reconciler.views.findings.RULES``), empty when unclassified.
    """

    file: str
    line: int
    col: int
    message: str
    path: str = ""
    severity: str = "error"  # "error" or "warning"
    rule: str = ""

    def tagged(self, rule: str) -> Finding:
        """This finding with ``rule``, unless it already has one."""
        return self if self.rule else replace(self, rule=rule)

    def format(self) -> str:
        """``FILE:LINE:COL: message`` on one line: a value quoted from a document cannot start
        a line of its own (a forged ``::error::`` workflow command, say)."""
        from reconciler.printable import printable

        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return printable(f"{where}: {self.message}")


class ValidationError(GridopsError):
    """The desired state could not be loaded: carries every finding, not just the first."""

    reason = "validation"

    def __init__(self, findings: list[Finding]) -> None:
        errors = [f for f in findings if f.severity == "error"]
        super().__init__(
            f"{len(errors)} problem(s) found",
            hint="fix the findings above (`gridops validate` checks them all at once)",
        )
        self.findings = findings


class ConfigError(GridopsError):
    """Bad settings, bad options, bad plan file: the user must change something."""

    reason = "config"


class SecretError(GridopsError):
    """A secret reference could not be resolved. Never includes the secret value."""

    reason = "secret"


class GridAPIError(GridopsError):
    """The Grid API refused a call or answered something unusable."""

    reason = "grid-api"

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class GridAnswerLost(GridAPIError):
    """A change was sent but its answer was lost (a timeout, a reset, a 5xx, an unreadable
    body): Grid may or may not have made it; only reading it back tells."""

    reason = "grid-answer-lost"


class GridAuthError(GridAPIError):
    reason = "grid-auth"


class GridNotFound(GridAPIError):
    reason = "grid-not-found"


class GridConflict(GridAPIError):
    reason = "grid-conflict"


class GitError(GridopsError):
    reason = "git"


class StateError(GridopsError):
    """The state backend could not be read or written."""

    reason = "state"


class StateConflict(StateError):
    """Someone else wrote the state since it was read; nothing was overwritten."""

    reason = "state-conflict"


class LockError(StateError):
    """The state lock is held by someone else (``holder`` says who)."""

    reason = "locked"

    def __init__(self, message: str, *, holder: dict[str, str] | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder or {}


class PlanRefused(GridopsError):
    """A safety guard stopped the plan (too many deletes, empty desired set, ...)."""

    reason = "plan-guard"


class StalePlan(GridopsError):
    """A saved plan no longer matches git or the live state."""

    reason = "stale-plan"


class GitHubError(GridopsError):
    reason = "github"


class AWSError(GridopsError):
    reason = "aws"


class Aborted(GridopsError):
    """The user declined, or no terminal was there to ask."""

    reason = "aborted"
