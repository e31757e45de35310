"""The plan: its types, the pure planner that makes it from (desired, live, inventory), the field
diff and the safety guards."""

from __future__ import annotations
