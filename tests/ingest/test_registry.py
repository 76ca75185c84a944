"""The registry is the one list of formats: each one has real sample files, detects them, and
is documented in the README. No sample file outside sample_runs/broken fails.

Every framework of ``core.frameworks.NAMES`` has its parser package with its formats, a sample
folder with a README, and a row of the README's "Supported formats" table naming each format.
The lists come from the code (``core.frameworks.NAMES``, ``ingest.parsers.BY_FRAMEWORK``), never
typed again here."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from core.frameworks import NAMES
from ingest.discover import walk
from ingest.loader import read_file
from ingest.parsers import BY_FRAMEWORK, REGISTERED
from ingest.registry import all_formats
from tests.conftest import REPO, SAMPLE_RUNS

FORMATS = all_formats()


@pytest.fixture(scope="module")
def outcomes() -> dict[Path, object]:
    """Every sample file read once per module (not at collection time)."""
    return {path: read_file(path, None) for path in walk([SAMPLE_RUNS])}


@pytest.mark.parametrize("spec", FORMATS, ids=[spec.name for spec in FORMATS])
def test_every_format_has_a_sample_that_loads_as_it(spec, outcomes: dict) -> None:
    loaded = [p for p, o in outcomes.items() if o.outcome == "loaded" and o.format == spec.name]
    assert loaded, f"no file in sample_runs/ loads as {spec.name}"
    # A broken file that loads its good lines around a bad one counts as no sample.
    assert all(
        p.is_relative_to(SAMPLE_RUNS / spec.framework) or outcomes[p].bad_line_count for p in loaded
    ), loaded


@pytest.mark.parametrize("spec", FORMATS, ids=[spec.name for spec in FORMATS])
def test_every_format_is_documented(spec) -> None:
    readme = (REPO / "README.md").read_text()
    assert f"`{spec.name}`" in readme, f"README.md does not name the format {spec.name}"
    assert (SAMPLE_RUNS / spec.framework / "README.md").is_file()


def test_format_names_are_unique_and_frameworks_known() -> None:
    names = [spec.name for spec in FORMATS]
    assert len(names) == len(set(names))
    assert {spec.framework for spec in FORMATS} <= set(NAMES)


def test_no_sample_outside_broken_fails(outcomes: dict) -> None:
    failed = {str(p): o.error for p, o in outcomes.items() if o.outcome == "failed"}
    assert failed and all("/broken/" in path for path in failed), failed


def test_the_parser_list_follows_the_framework_list() -> None:
    assert list(BY_FRAMEWORK) == list(NAMES)
    assert [spec for name in NAMES for spec in BY_FRAMEWORK[name]] == REGISTERED
    assert all_formats() == REGISTERED


@pytest.mark.parametrize("name", NAMES)
def test_every_framework_has_a_parser_package_with_its_formats(name: str) -> None:
    package = importlib.import_module(f"ingest.parsers.{name}")
    assert package.__file__ and Path(package.__file__).name == "__init__.py", f"ingest/parsers/{name}/"
    assert package.FORMATS, f"ingest/parsers/{name}/__init__.py lists no FORMATS"
    assert BY_FRAMEWORK[name] is package.FORMATS
    for spec in package.FORMATS:
        assert spec.framework == name, f"{spec.name} sits in ingest/parsers/{name}/ but says {spec.framework}"
        for function in (spec.detect, spec.parse):
            assert function.__module__.startswith(f"ingest.parsers.{name}."), (spec.name, function)
    # A parser module of the package that is missing from its FORMATS would never be tried.
    for module in pkgutil.iter_modules(package.__path__):
        spec = getattr(importlib.import_module(f"ingest.parsers.{name}.{module.name}"), "FORMAT", None)
        assert spec is None or spec in package.FORMATS, f"ingest/parsers/{name}/{module.name}.py"


@pytest.mark.parametrize("name", NAMES)
def test_every_framework_has_a_sample_folder_with_a_readme(name: str) -> None:
    assert (SAMPLE_RUNS / name / "README.md").is_file(), f"sample_runs/{name}/README.md"


def _supported_formats_rows() -> dict[str, str]:
    """The README's "Supported formats" table: framework -> the rest of its row."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Supported formats\n", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `([^`]+)` \|(.*)$", section, re.MULTILINE))


@pytest.mark.parametrize("name", NAMES)
def test_every_format_is_in_the_readme_table_row_of_its_framework(name: str) -> None:
    rows = _supported_formats_rows()
    assert name in rows, f"README.md's Supported formats table has no row for {name}"
    missing = [spec.name for spec in BY_FRAMEWORK[name] if f"`{spec.name}`" not in rows[name]]
    assert not missing, f"README.md's Supported formats row of {name} does not name {missing}"
