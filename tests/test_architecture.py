"""ARCHITECTURE.md maps every module, and imports flow in one direction."""

from __future__ import annotations

import ast

from conftest import ROOT

PACKAGE = ROOT / "forecast"
#: Lower layers first; a module may import only modules of its own or lower layers.
LAYERS = [
    {"errors"},
    {"config", "fmt", "files"},
    {"elicit", "ledger", "exact", "psis", "scaffold"},
    {"model", "store", "reference", "reference_cases", "reference_data", "skill"},
    {"sampling", "reference_priors", "reference_store", "hazard", "hazard_backtest",
     "reference_predict", "history_view"},
    {"engine"},
    {"news", "record", "tables", "analysis", "attribution", "scoring", "crowd", "display",
     "findings", "information", "whatif"},
    {"charts"},
    {"export", "report"},
    {"cli", "__main__"},
]
#: The submodules of ``forecast/analysis/`` (a package, in LAYERS by its top name), lower
#: first: each may import only those before it, never the package itself (``__init__``).
ANALYSIS = ["_common", "prior_spec", "prior_shifts", "interventions", "prior_sources", "voi",
            "waterfall", "tornado", "psense", "densities", "__init__"]


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


def test_the_analysis_package_is_mapped_and_flows_one_way():
    folder = PACKAGE / "analysis"
    assert sorted(p.stem for p in folder.glob("*.py")) == sorted(ANALYSIS)
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for rank, name in enumerate(ANALYSIS):
        if name != "__init__":
            assert f"forecast/analysis/{name}.py" in text, f"{name} is missing from ARCHITECTURE.md"
        for target in _imported(folder / f"{name}.py"):
            if target.split(".")[0] != "analysis":
                continue
            sub = target.removeprefix("analysis.")
            assert sub != "analysis", f"forecast/analysis/{name} imports the package itself"
            assert ANALYSIS.index(sub) < rank, f"forecast/analysis/{name} imports {target}"


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
