"""environment.yml must list what pyproject.toml lists (conda cannot be installed here)."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import ROOT


def _name_and_bound(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    assert m, spec
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_matches_pyproject():
    """Every dependency and every extra's entry, with its bound, and nothing else."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(extras) == {"dev", "notebooks"}
    wanted = dict(
        _name_and_bound(s)
        for s in project["dependencies"] + extras["dev"] + extras["notebooks"]
    )
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    listed: dict[str, str] = {}
    for dep in env["dependencies"]:
        specs = dep["pip"] if isinstance(dep, dict) else [dep]
        for spec in specs:
            name, bound = _name_and_bound(spec)
            listed[name] = bound
    assert listed.pop("python") == "=3.12"
    listed.pop("pip", None)
    assert listed == wanted


def test_python_floor_excludes_old_stack():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.12"
    deps = dict(_name_and_bound(s) for s in project["dependencies"])
    assert deps["pymc"].startswith(">=6")
    assert deps["arviz-stats"].startswith(">=1")
    assert deps["arviz-base"].startswith(">=1")
    assert (ROOT / ".python-version").read_text().strip() == "3.12"


JUPYTER = {"jupyter", "ipykernel", "jupytext", "nbformat", "nbconvert", "nbclient", "papermill"}


def test_jupyter_stack_is_the_notebooks_extra():
    """The package runs without Jupyter; the test install (`make test`) brings it in."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name_and_bound(s)[0] for s in project["dependencies"]}
    notebooks = {_name_and_bound(s)[0] for s in project["optional-dependencies"]["notebooks"]}
    assert not core & JUPYTER
    assert {"jupyter", "ipykernel", "jupytext", "papermill"} <= notebooks
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\t.*pip install .*-e '\.\[dev,notebooks\]'", makefile, re.M)
    imports = re.compile(r"^\s*(?:import|from)\s+(\w+)", re.M)
    for path in (ROOT / "forecast").rglob("*.py"):
        used = set(imports.findall(path.read_text()))
        assert not used & (JUPYTER | {"IPython", "jupyter_client"}), path
