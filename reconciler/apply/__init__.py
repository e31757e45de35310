"""Apply: carrying out a plan against Grid and recording the inventory as it goes."""

from __future__ import annotations
