"""The README's field reference is generated from the schemas and must not fall behind."""

from __future__ import annotations

from pathlib import Path

from reconciler.sources.schema import CLUSTER_SCHEMA, SETTINGS_SCHEMA, load_schema
from reconciler.sources.schema_doc import render_reference, replace_reference

ROOT = Path(__file__).resolve().parent.parent


def test_readme_field_reference_matches_the_schemas() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = "\n\n".join(render_reference(load_schema(n))
                            for n in (CLUSTER_SCHEMA, SETTINGS_SCHEMA))
    assert replace_reference(readme, reference) == readme, "run `make docs`"


def test_readme_shows_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
