"""Sources -> desired state: the git edge, YAML with positions, the schemas and semantic checks,
secret references and settings. Everything here turns files into values (or findings)."""

from __future__ import annotations
