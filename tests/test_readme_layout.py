"""The README's "How the code is laid out" names every module, so a newcomer finds each one."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("baton", "core", "ingest", "dashboard")


def _layout_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## How the code is laid out\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, "the README has no 'How the code is laid out' section"
    return match.group(1)


def _named(path: Path, section: str) -> bool:
    if path.name in section:
        return True
    # A folder given as a pattern covers its modules: parsers/<framework>/, views/<page>.py.
    folders = path.relative_to(REPO).parent.parts
    if any(f"{folder}/<" in section for folder in folders):
        return True
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in re.findall(r"[\w]+\*\.py", section))


def test_the_layout_names_every_module() -> None:
    section = _layout_section()
    missing = [
        str(path.relative_to(REPO))
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py") and not _named(path, section)
    ]
    assert not missing, "modules the README's layout does not name:\n" + "\n".join(missing)


def test_the_layout_states_the_layer_rule() -> None:
    section = _layout_section()
    assert "tests/test_layers.py" in section
    assert "never import streamlit" in section
