"""What ``apply --wait`` says while it waits: a line when a cluster's phase changes, a line
every ``every`` seconds for each cluster still waiting (``research-use1: still PENDING after
12m30s``), and a closing summary with each cluster's time. Pure: fed each poll's phases, it
returns the lines to write."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model import PHASE_DELETED, PHASE_FAILED


def format_duration(seconds: float) -> str:
    """``45s``, ``12m30s``, ``1h02m``."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass
class WaitProgress:
    """The progress of the clusters being followed, poll by poll.

    ``deleting``: the clusters followed to DELETED (their phase stays RUNNING until the
    teardown ends, so they show as ``terminating``); ``every``: seconds between two "still
    waiting" lines of one cluster; ``failed_grace``: polls a FAILED cluster is watched for.
    """

    deleting: frozenset[str]
    every: float = 30.0
    failed_grace: int = 0
    _shown: dict[str, str] = field(default_factory=dict)
    _said_at: dict[str, float] = field(default_factory=dict)
    #: when each cluster was first seen settled (seconds since the wait began)
    settled_at: dict[str, float] = field(default_factory=dict)

    def shown(self, name: str, phase: str) -> str:
        if name in self.deleting and phase != PHASE_DELETED:
            return "terminating"
        return phase.removeprefix("CLUSTER_STATE_") or "not listed"

    def poll(self, name: str, phase: str, elapsed: float, *, settled: bool) -> list[str]:
        """The lines one poll of ``name`` calls for (often none)."""
        shown = self.shown(name, phase)
        if settled:
            self.settled_at.setdefault(name, elapsed)
        if self._shown.get(name) != shown:
            self._shown[name], self._said_at[name] = shown, elapsed
            watching = f"; watching {self.failed_grace} more poll(s) in case Grid retries it" \
                if phase == PHASE_FAILED and self.failed_grace else ""
            return [f"  {name}: {shown} ({format_duration(elapsed)}){watching}"]
        if not settled and elapsed - self._said_at.get(name, 0.0) >= self.every:
            self._said_at[name] = elapsed
            return [f"  {name}: still {shown} after {format_duration(elapsed)}"]
        return []

    def summary(self, final: dict[str, str], settled: dict[str, bool],
                timeout: float) -> list[str]:
        """One line per cluster: its last phase and how long it took, or that it did not
        settle within ``timeout``."""
        lines = []
        for name in sorted(final):
            phase = self.shown(name, final[name]) if not settled[name] else \
                final[name].removeprefix("CLUSTER_STATE_") or "not listed"
            took = self.settled_at.get(name)
            if settled[name] and took is not None:
                lines.append(f"{name}: {phase} after {format_duration(took)}")
            else:
                lines.append(f"{name}: {phase} (still not settled after "
                             f"{format_duration(timeout)})")
        return lines
