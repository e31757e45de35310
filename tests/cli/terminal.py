"""Reading what a pseudo-terminal shows a child process, for the tests that run gridops at a
terminal."""

from __future__ import annotations

import os
import select
import subprocess
import time


def screen_of(master: int, proc: subprocess.Popen[bytes], *, seconds: float,
              prompt: bytes = b"", answer: str | None = None) -> bytes:
    """Everything the pseudo-terminal ``master`` shows until ``proc`` closes it, or for at
    most ``seconds``; ``answer`` is typed once, when ``prompt`` shows."""
    seen, answered = b"", False
    poller = select.poll()  # not select(): it fails on descriptors past 1023
    poller.register(master, select.POLLIN)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = poller.poll(100)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if answer is not None and not answered and prompt in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    return seen
