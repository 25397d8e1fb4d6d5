"""The package's exceptions: in one module, importable where they were, and picklable.

A worker of ``forecast run DIR1 DIR2`` hands its error to the parent by pickling it;
``ConfigError(problems)`` used to come back split into one problem per character.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pickle
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, make_question
from forecast import errors

#: Each type with arguments as the package raises it, and the fields it must keep.
SAMPLES = {
    "ConfigError": (["model.yaml: sampler.draws: must be > 0", "news.yaml: items[2]: bad"],
                    {"problems": ["model.yaml: sampler.draws: must be > 0",
                                  "news.yaml: items[2]: bad"]}),
    "ResolutionError": (["resolution.yaml: date: not an ISO date"],
                        {"problems": ["resolution.yaml: date: not an ISO date"]}),
    "CrowdError": (["crowd.csv: no such file"], {"problems": ["crowd.csv: no such file"]}),
    "LedgerError": ("news.yaml: items[0].lr: must be > 0", {}),
    "RecordError": ("record.jsonl: line 3: not JSON", {}),
    "LockedError": ((Path("/q/news.yaml"), 0.5), {"path": Path("/q/news.yaml"),
                                                  "timeout": 0.5}),
    "StaleFitError": ("fit.nc: made from other inputs", {}),
    "NeedsRefitError": ("no stored fit to reuse", {}),
    "ConvergenceWarning": ("the reference fit FAILED the convergence gate", {}),
    "EngineFallbackWarning": ("the exact engine's weights FAILED the gate", {}),
    "DegenerateIntervalWarning": ("question.yaml: [0.5, 0.5001] is so narrow", {}),
}
#: Where each type was defined before forecast/errors.py; it must still import from there.
OLD_HOMES = {
    "ConfigError": "config", "ResolutionError": "scoring", "CrowdError": "scoring",
    "LedgerError": "ledger", "RecordError": "record", "StaleFitError": "store",
    "NeedsRefitError": "engine", "ConvergenceWarning": "reference_gate",
    "EngineFallbackWarning": "engine", "DegenerateIntervalWarning": "elicit",
}


def _types():
    return {name: obj for name, obj in vars(errors).items()
            if inspect.isclass(obj) and issubclass(obj, Exception)
            and obj.__module__ == errors.__name__}


def test_every_type_has_a_sample():
    assert set(_types()) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_pickled_error_comes_back_as_it_was_raised(name):
    cls = _types()[name]
    args, fields = SAMPLES[name]
    exc = cls(*args) if isinstance(args, tuple) else cls(args)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls
    assert str(back) == str(exc) and back.args == exc.args
    for field, value in fields.items():
        assert getattr(back, field) == value, field
    assert vars(back) == vars(exc)


def test_a_config_error_keeps_its_problems_whole():
    problems = ["a.yaml: x: bad", "b.yaml: y: worse"]
    back = pickle.loads(pickle.dumps(errors.ConfigError(problems)))
    assert back.problems == problems  # not ['a', '.', 'y', 'a', 'm', 'l', ...]
    assert str(back) == "a.yaml: x: bad\nb.yaml: y: worse"
    assert errors.ConfigError("one problem").problems == ["one problem"]


def test_a_locked_error_names_the_file_and_what_to_do():
    text = str(errors.LockedError(Path("/q/news.yaml"), 2))
    assert text.startswith("/q/news.yaml is locked by another writer (waited 2 s)")
    assert "nothing was written" in text and "FORECAST_LOCK_TIMEOUT" in text


@pytest.mark.parametrize("name", sorted(OLD_HOMES))
def test_each_type_still_imports_from_its_old_module(name):
    module = importlib.import_module(f"forecast.{OLD_HOMES[name]}")
    assert getattr(module, name) is getattr(errors, name)


def test_no_exception_type_is_defined_outside_errors_py():
    found = []
    for path in sorted((ROOT / "forecast").rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    ast.unparse(b).split(".")[-1].endswith(("Error", "Warning", "Exception"))
                    for b in node.bases):
                found.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert found == []


def test_a_failing_question_in_a_parallel_run_is_named_and_the_other_finishes(tmp_path,
                                                                              capsys):
    """Two questions, each in its own worker process; the second's results folder belongs to
    another directory, which only the worker finds out (at ``results_dir(claim=True)``)."""
    from forecast.cli import main
    from forecast.store import OWNER_FILE

    good = make_question(tmp_path / "a", news=[])
    bad = tmp_path / "b" / "bad_question"
    shutil.copytree(good, bad)
    out = tmp_path / "out"
    (out / bad.name).mkdir(parents=True)
    (out / bad.name / OWNER_FILE).write_text("/somewhere/else/bad_question\n")
    code = main(["run", str(good), str(bad), "--out", str(out), "--engine", "exact",
                 "--json"])
    captured = capsys.readouterr()
    assert code == 2
    # the bad one by name, with its whole message (not one character per line)
    assert (f"error: {bad}: {out / bad.name}: holds the results of the question in "
            "/somewhere/else/bad_question") in captured.err
    assert "\n.\n" not in captured.err
    # the good one finished: its result printed and its files written
    (result,) = json.loads(captured.out)
    assert result["question"] == "russia_syria_bases"
    assert (out / good.name / "forecast.json").exists()
    assert not (out / bad.name / "forecast.json").exists()
