"""Views: every text and JSON rendering of plans, results and status (the PR comment lives in
``reconciler.github``)."""

from __future__ import annotations
