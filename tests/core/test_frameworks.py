"""One place per framework: the list of names, the table of modules, and every part each
module must provide (a missing part fails here, not at the first run of that framework)."""

from __future__ import annotations

from types import ModuleType

import pytest

from core import frameworks
from core.frameworks import generic
from core.frameworks.parts import PARTS, NativeForm
from core.frameworks.registry import ALIASES, FRAMEWORKS, lookup
from core.resume.options import FORMATS

# Parts that may be None, saying explicitly that the framework has none.
OPTIONAL = {"failure_rule", "native_form"}


def test_names_are_the_table_keys_in_order() -> None:
    assert tuple(FRAMEWORKS) == frameworks.NAMES


@pytest.mark.parametrize("module", [*FRAMEWORKS.values(), generic], ids=lambda m: m.NAME)
def test_each_framework_module_provides_every_part(module: ModuleType) -> None:
    missing = [part for part in PARTS if not hasattr(module, part)]
    assert not missing, f"{module.__name__} lacks {', '.join(missing)}"
    for part in PARTS:
        value = getattr(module, part)
        if part == "NAME":
            assert isinstance(value, str) and value
        elif part == "native_form":
            assert value is None or isinstance(value, NativeForm), part
        elif not (part in OPTIONAL and value is None):
            assert callable(value), f"{module.__name__}.{part} is neither callable nor None"


def test_the_table_is_keyed_by_each_module_name() -> None:
    for name, module in FRAMEWORKS.items():
        assert name == module.NAME
        assert lookup(name) is module


def test_an_unknown_framework_gets_the_generic_parts() -> None:
    assert "generic" not in FRAMEWORKS
    assert lookup("no-such-framework") is generic


def test_aliases_name_known_frameworks() -> None:
    assert set(ALIASES.values()) <= set(FRAMEWORKS)


def test_export_formats_are_acf_native_and_each_native_form() -> None:
    natives = [m.native_form.format for m in FRAMEWORKS.values() if m.native_form is not None]
    assert sorted(FORMATS) == sorted(["acf", "native", "prompt", *natives])  # prompt: every framework
