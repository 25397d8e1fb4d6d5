"""Notebooks: paired with jupytext, committed clean, and executed top to bottom by papermill.

They run against the session's small question and its stored fits, so no notebook
samples on its own; each still runs every cell through the library.
"""

from __future__ import annotations

import jupytext
import nbformat
import papermill
import pytest

from conftest import ROOT, SEED

NOTEBOOK_DIR = ROOT / "notebooks"
SCRIPTS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def test_the_five_notebooks_exist_with_their_parameters():
    assert [p.stem[:2] for p in SCRIPTS] == ["01", "02", "03", "04", "05"]
    for script in SCRIPTS:
        declared = papermill.inspect_notebook(str(script.with_suffix(".ipynb")))
        assert {"question_dir", "seed", "draws"} <= set(declared), script.name


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_is_paired_and_committed_without_outputs(script):
    ipynb = script.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run jupytext --sync {script.name}"
    nb = nbformat.read(ipynb, as_version=4)
    paired = jupytext.read(script)
    assert [c.source for c in nb.cells] == [c.source for c in paired.cells], (
        f"{ipynb.name} and {script.name} differ: run jupytext --sync")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "seed" in code[1].source.lower()
    assert "version" in code[-1].source


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(script, question, fits_out, fit_news, tmp_path):
    ipynb = script.with_suffix(".ipynb")
    declared = papermill.inspect_notebook(str(ipynb))
    offered = {"question_dir": str(question), "out_dir": str(fits_out), "seed": SEED,
               "draws": 1000}
    params = {k: v for k, v in offered.items() if k in declared}
    papermill.execute_notebook(
        str(ipynb), str(tmp_path / ipynb.name), parameters=params, cwd=str(NOTEBOOK_DIR),
        kernel_name="python3", progress_bar=False,
    )
