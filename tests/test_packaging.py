"""The installed package must carry every subpackage and the schemas."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {"reconciler"} | {
        "reconciler." + p.parent.name for p in (ROOT / "reconciler").glob("*/__init__.py")}
    assert on_disk | {"reconciler.schemas"} == set(config["packages"])
    assert config["package-dir"] == {"": "."}  # a plain editable install (no import hook)
    assert config["package-data"]["reconciler.schemas"] == ["*.json"]


def test_the_license_file_is_the_apache_2_0_text_pyproject_names() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert config["license"] == "Apache-2.0"
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX" in text
    assert len(text.splitlines()) > 190  # the whole text, not a notice
