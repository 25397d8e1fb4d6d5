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
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(
        _name_and_bound(s)
        for s in project["dependencies"] + project["optional-dependencies"]["dev"]
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
    assert deps["arviz"].startswith(">=1")
    assert (ROOT / ".python-version").read_text().strip() == "3.12"
