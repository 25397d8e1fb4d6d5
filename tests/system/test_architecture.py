"""ARCHITECTURE.md maps every module, and imports flow in one direction."""

from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT

PACKAGE = ROOT / "forecast"
#: Lower layers first; a module may import only modules of its own or lower layers.
#: The layers and the packages' submodule orders, read from ARCHITECTURE.md's "Layers"
#: section: the document is the specification the imports are checked against.
ARCHITECTURE = ROOT / "ARCHITECTURE.md"


def _tables() -> tuple[list[set[str]], dict[str, list[str]]]:
    text = ARCHITECTURE.read_text()
    section = text[text.index("## Layers"):]
    layers: list[set[str]] = []
    packages: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in {"layer", "package", "---"}:
            continue
        names = re.findall(r"`([^`]+)`", cells[1])
        if cells[0].isdigit():
            assert int(cells[0]) == len(layers), f"ARCHITECTURE.md: layer {cells[0]} out of order"
            layers.append(set(names))
        elif cells[0].startswith("`"):
            packages[cells[0].strip("`")] = names
    return layers, packages


LAYERS, PACKAGES = _tables()


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.name == "__init__" and rel.parent == rel.parent.__class__("."):
            continue
        yield path, rel


def _layer(name: str) -> int:
    top = name.split(".")[0]
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"forecast.{name} is in no layer of tests/test_architecture.py")


def test_every_module_is_in_architecture_md():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for _, rel in _modules():
        top = rel.parts[0]
        if top in {"__main__", "templates"}:
            continue
        shown = f"forecast/{top}/" if len(rel.parts) > 1 else f"forecast/{top}.py"
        assert shown in text, f"{shown} is missing from ARCHITECTURE.md"


def test_imports_flow_one_way():
    for path, rel in _modules():
        if rel.parts[0] == "templates":
            continue
        own = _layer(rel.parts[0])
        for target in _imported(path):
            assert _layer(target) <= own, f"forecast/{rel} imports forecast.{target}"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_each_package_is_mapped_and_flows_one_way(package):
    order, folder = PACKAGES[package], PACKAGE / package
    assert sorted(p.stem for p in folder.glob("*.py")) == sorted(order)
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for rank, name in enumerate(order):
        if name != "__init__":
            shown = f"forecast/{package}/{name}.py"
            assert shown in text, f"{shown} is missing from ARCHITECTURE.md"
        for target in _imported(folder / f"{name}.py"):
            if target.split(".")[0] != package:
                continue
            sub = target.removeprefix(f"{package}.")
            assert sub != package, f"forecast/{package}/{name} imports the package itself"
            assert order.index(sub) < rank, f"forecast/{package}/{name} imports {target}"


def _imported(path) -> list[str]:
    """Every forecast module a file imports, in any of the three spellings."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("forecast."):  # from forecast.x import y
                found.append(node.module.removeprefix("forecast."))
            elif node.module == "forecast":  # from forecast import x
                found += [a.name for a in node.names]
        elif isinstance(node, ast.Import):  # import forecast.x
            found += [a.name.removeprefix("forecast.") for a in node.names
                      if a.name.startswith("forecast.")]
    return found


def test_the_import_check_sees_every_spelling(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from forecast.engine import compute\nfrom forecast import charts, news"
                      "\nimport forecast.cli\nimport forecast.reference_store as rs\n")
    assert _imported(source) == ["engine", "charts", "news", "cli", "reference_store"]


def test_every_layer_name_is_a_module():
    """No stale row: each name in the layers table is a module or package of forecast/."""
    for layer in LAYERS:
        for name in layer:
            assert (PACKAGE / f"{name}.py").exists() or (PACKAGE / name).is_dir(), (
                f"ARCHITECTURE.md names forecast.{name}, which does not exist")


def test_the_tests_mirror_the_package():
    """Each test module is named for what it tests: ``tests/test_<module>.py`` for a module
    of ``forecast/``, ``tests/<package>/test_<submodule or package>.py`` inside a package,
    or ``tests/system/`` for the checks of the whole (faults, hostile input, notebooks,
    layers, agreement of the engines)."""
    tests = ROOT / "tests"
    for path in sorted(tests.rglob("test_*.py")):
        rel = path.relative_to(tests)
        if rel.parts[0] in {"system", "fixtures"}:
            continue
        name = path.stem.removeprefix("test_")
        if len(rel.parts) == 1:
            assert (PACKAGE / f"{name}.py").exists(), f"tests/{rel}: no forecast/{name}.py"
        else:
            package = PACKAGE / rel.parts[0]
            assert package.is_dir(), f"tests/{rel}: no package forecast/{rel.parts[0]}/"
            assert name == rel.parts[0] or (package / f"{name}.py").exists(), (
                f"tests/{rel}: no forecast/{rel.parts[0]}/{name}.py")
