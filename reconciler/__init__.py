"""gridops: a GitOps reconciler for Grid BYOC clusters."""

from __future__ import annotations

__version__ = "0.1.0"
