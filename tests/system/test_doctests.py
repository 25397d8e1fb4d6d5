"""The examples in the package's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

from conftest import ROOT

MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "forecast").rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8") and "templates" not in path.parts
)


def test_some_modules_have_examples():
    assert "forecast.prior" in MODULES and len(MODULES) >= 5


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
