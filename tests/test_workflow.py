"""The library behind the command line, called as a notebook calls it (no CLI).

Each function returns what it computed and prints nothing; what it returns is the
forecast the command prints, checked against the command's own output.
"""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

from forecast.cli import main


@pytest.fixture
def copied(tmp_path, question):
    q = tmp_path / "q"
    shutil.copytree(question, q)
    return q


def _printed_rows(text: str) -> dict[str, tuple[float, float, float]]:
    """The forecast table's rows as ``forecast run`` prints them: label -> (p, lo, hi) in %."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^(.+?)\s+([\d.]+)%\s+\[\s*([\d.]+)%,\s*([\d.]+)%\]\s+0\.\d{4}\s", line)
        if m:
            rows[m.group(1).strip()] = tuple(float(m.group(i)) for i in (2, 3, 4))
    return rows


def test_run_question_returns_what_forecast_run_prints(copied, tmp_path, capsys):
    from forecast.workflow import RUN_FILES, run_question

    r = run_question(copied, tmp_path / "lib", engine="exact")
    said = capsys.readouterr()
    assert said.out == "" and said.err == ""  # the library prints nothing
    assert r.passed and r.issued is None
    assert sorted(p.name for p in r.directory.iterdir() if p.name in RUN_FILES) == sorted(
        RUN_FILES)
    assert json.loads((r.directory / "forecast.json").read_text()) == r.summary

    # The command, in another results folder: a fit of its own, printed as a table.
    assert main(["run", str(copied), "--out", str(tmp_path / "cli"), "--engine", "exact"]) == 0
    printed = _printed_rows(capsys.readouterr().out)
    names = {o.id: o.name for o in r.forecast.config.question.outcomes}
    names |= {"all": r.forecast.config.wording.all, "any": r.forecast.config.wording.any}
    estimates = r.forecast.probabilities()
    assert set(printed) == {names[k] for k in r.forecast.config.headline_outcomes}
    for key in r.forecast.config.headline_outcomes:
        est = estimates[key]
        assert printed[names[key]] == pytest.approx(
            (100 * est.mean, 100 * est.lower, 100 * est.upper), abs=0.051), key
        assert 0 < est.lower < est.mean < est.upper < 1


def test_run_question_issues_only_when_asked(copied, tmp_path):
    from forecast.record import read_record
    from forecast.workflow import run_question

    run_question(copied, tmp_path / "out", engine="exact")
    assert read_record(copied) == []
    r = run_question(copied, tmp_path / "out", engine="exact", issue=True)
    [entry] = read_record(copied)
    assert r.issued == entry
    assert entry["as_of"] == r.forecast.as_of.isoformat()


def test_question_history_is_what_forecast_history_prints(copied, tmp_path, capsys):
    from forecast.review import question_history

    h = question_history(copied, tmp_path / "out")
    said = capsys.readouterr()
    assert said.out == "" and said.err == ""
    assert h.record.empty and h.forecast.fit.diagnostics["passed"]
    assert main(["history", str(copied), "--out", str(tmp_path / "out"), "--csv"]) == 0
    import io

    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(printed) == len(h.reconstruction)
    assert printed["p"].to_numpy() == pytest.approx(h.reconstruction["p"].to_numpy())
    # The last date counts every item of the ledger: its forecast is the full one's.
    last = h.reconstruction[h.reconstruction["n_items"] == h.reconstruction["n_items"].max()]
    full = h.forecast.probabilities()
    for row in last.itertuples():
        assert row.p == pytest.approx(full[row.outcome].mean, abs=1e-9)


def test_validate_question_counts_what_is_there(fresh_question):
    from forecast.workflow import validate_question

    v = validate_question(fresh_question)
    assert v.n_items == 0 and v.n_issued is None
    assert v.config.directory == fresh_question.resolve()


def test_read_item_names_the_file(tmp_path):
    from forecast.errors import LedgerError
    from forecast.workflow import read_item

    path = tmp_path / "item.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(LedgerError, match=re.escape(f"{path}: (top level)")):
        read_item(path)
