"""The command line: JSON shapes, exit codes, nothing written on bad input."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from conftest import NEWS
from forecast.cli import main


def _tree_hash(path):
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(path)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_validate_ok(question, capsys):
    assert main(["validate", str(question)]) == 0
    assert "5 evidence variables, 5 news items" in capsys.readouterr().out


def test_a_reader_that_closes_the_pipe_gets_no_traceback(question):
    """``forecast ... | head`` closing early: exit 141 (as a shell reports SIGPIPE), quietly."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        proc = subprocess.run([sys.executable, "-m", "forecast", "validate", str(question)],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr


def test_run_json_has_the_documented_shape(question, fits_out, fit_news, capsys):
    assert main(["run", str(question), "--out", str(fits_out), "--json", "--engine", "nuts"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"question", "as_of", "horizon", "bases", "joint", "diagnostics"}
    assert set(out["bases"]) == {"khmeimim", "tartus"}
    for base in out["bases"].values():
        lo, hi = base["ci90"]
        assert 0 < lo < base["p_keep"] < hi < 1
        assert base["mcse"] < 0.01
    assert 0 < out["joint"]["both"] < min(b["p_keep"] for b in out["bases"].values())
    assert out["joint"]["either"] > max(b["p_keep"] for b in out["bases"].values())
    d = out["diagnostics"]
    assert d["r_hat_max"] <= 1.01 and d["divergences"] == 0 and d["path"] == "cached"
    assert d["engine"] == "nuts"
    # the gate's number: the smallest bulk ESS of the headline probabilities' draws, scaled
    # by the efficiency of the weights that carry the news items' uncertain ratios
    headline = fit_news.fit.diagnostics["per_variable"]
    sampled = min(headline[v]["ess_bulk_min"] for v in ("p_keep", "p_all", "p_any"))
    assert sampled == fit_news.fit.diagnostics["ess_bulk_min"]
    w = fit_news.weights
    assert d["ess_bulk_min"] == pytest.approx(sampled / (w.size * np.sum(w**2)))
    assert 0.5 * sampled < d["ess_bulk_min"] < sampled
    assert d["ess_mean_min"] == pytest.approx(min(
        e.ess for e in fit_news.probabilities().values()))
    assert out["bases"]["khmeimim"]["p_keep"] == pytest.approx(
        fit_news.probabilities()["khmeimim"].mean)
    target = fits_out / "question"
    for name in ("posterior.nc", "forecast.json", "headline.png", "headline.csv"):
        assert (target / name).stat().st_size > 0


def test_update_json_and_refusals(tmp_path, fresh_question, fit_no_news, capsys):
    out = tmp_path / "out"
    (out / "question" / "fits").mkdir(parents=True)
    shutil.copy(fit_no_news.fit.file, out / "question" / "fits")
    args = ["update", str(fresh_question), "--out", str(out), "--date", "2025-05-20",
            "--headline", "Perimeter attack", "--source", "wire", "--reliability", "B2",
            "--bears-on", "escalation", "--lr", "2:6", "--engine", "nuts"]
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["item"]["bears_on"] == "escalation"
    assert payload["before"]["bases"]["khmeimim"]["p_keep"] > payload["bases"]["khmeimim"]["p_keep"]
    assert payload["diagnostics"]["path"] == "reweighted"
    # under weights, the bulk ESS counts only what the weighted draws are worth
    assert 0 < payload["diagnostics"]["ess_bulk_min"] < fit_no_news.fit.diagnostics[
        "ess_bulk_min"]

    before = _tree_hash(fresh_question), _tree_hash(out)
    bad = [
        [*args],  # same headline and date: duplicate id
        [a if a != "escalation" else "weather" for a in args],
        [a if a != "B2" else "B9" for a in args],
        [a if a != "2025-05-20" else "2099-01-01" for a in args],
        [a if a != "2:6" else "-1" for a in args],
    ]
    for argv in bad:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err
    assert (_tree_hash(fresh_question), _tree_hash(out)) == before


@pytest.mark.parametrize(("headline", "expected"), [
    ("Reuters: Russian cargo flights to Khmeimim continue", "reuters-russian-cargo-flights-to"),
    ("Militants breach the Khmeimim perimeter; two killed",
     "militants-breach-the-khmeimim-perimeter"),
    ("abcdefghij abcdefghij abcdefghij abcdefg more",  # a word ends exactly at the limit
     "abcdefghij-abcdefghij-abcdefghij-abcdefg"),
    ("Short headline", "short-headline"),
    ("x" * 60, "x" * 40),  # no boundary: cut at the limit
    ("!!!", "item"),
])
def test_items_recorded_without_an_id_get_a_readable_one(headline, expected):
    import datetime as dt

    from forecast.cli import item_id_for
    from forecast.ledger import parse_item

    item_id = item_id_for(dt.date(2026, 11, 28), headline)
    assert item_id == f"2026-11-28-{expected}"
    parse_item({"id": item_id, "date": "2026-11-28", "headline": headline, "source": "s",
                "reliability": "B2", "bears_on": "escalation", "lr": 2})  # a valid id


def test_update_from_item_file(tmp_path, fresh_question, fit_no_news, capsys):
    out = tmp_path / "out"
    (out / "question" / "fits").mkdir(parents=True)
    shutil.copy(fit_no_news.fit.file, out / "question" / "fits")
    item = tmp_path / "item.yaml"
    item.write_text(json.dumps(NEWS[0]))  # JSON is YAML
    assert main(["update", str(fresh_question), "--item", str(item), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "recorded n1" in text and "pp" in text
    # refusals from the question or the ledger name the item's file and the field
    ledger = (fresh_question / "news.yaml").read_bytes()
    for field, change in (("bears_on", {"id": "n9", "bears_on": "weather"}),
                          ("id", {}),  # n1 is recorded now
                          ("date", {"id": "n9", "date": "2099-01-01"})):
        item.write_text(json.dumps(NEWS[0] | change))
        assert main(["update", str(fresh_question), "--item", str(item), "--out",
                     str(out)]) == 2
        assert f"{item}: {field}:" in capsys.readouterr().err
        assert (fresh_question / "news.yaml").read_bytes() == ledger


@pytest.mark.slow
def test_update_that_refits_into_a_failed_gate_exits_3(tmp_path, capsys):
    """A real NUTS refit (no stub): two chains of 100 draws cannot reach a bulk ESS of a
    million, so the gate fails whatever the draws are; the update exits 3 and says why, in
    text and in ``--json``, and the item is still recorded."""
    import yaml

    from conftest import SEED, make_question

    q = make_question(tmp_path, news=[], sampler={"chains": 2, "draws": 100, "tune": 100,
                                                  "target_accept": 0.9, "seed": SEED})
    model = yaml.safe_load((q / "model.yaml").read_text())
    model["gate"]["ess_bulk_min"] = 1_000_000
    (q / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    out = tmp_path / "out"
    args = ["update", str(q), "--out", str(out), "--engine", "nuts", "--date", "2025-05-20",
            "--headline", "h", "--source", "s", "--reliability", "B2",
            "--bears-on", "escalation", "--lr", "2"]
    assert main([*args, "--id", "x1"]) == 3
    err = capsys.readouterr().err
    assert "refitted posterior FAILED its convergence gate (" in err, err
    assert "bulk ESS" in err and "< 1000000" in err, err
    assert main([*args, "--id", "x2", "--json"]) == 3
    captured = capsys.readouterr()
    assert "FAILED its convergence gate (" in captured.err and "< 1000000" in captured.err
    assert json.loads(captured.out)["diagnostics"]["converged"] is False
    ledger = yaml.safe_load((q / "news.yaml").read_text())
    assert [i["id"] for i in ledger["items"]] == ["x1", "x2"]


@pytest.mark.parametrize("argv", [["run", "--seed", "-1"], ["history", "--seed", "x"],
                                  ["update", "--seed", str(2**32)],
                                  ["charts", "--out", "o", "--dpi", "0"]])
def test_bad_seed_or_dpi_is_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "allowed" in capsys.readouterr().err


def test_history_is_deterministic(question, fits_out, fit_news, capsys):
    assert main(["history", str(question), "--out", str(fits_out), "--csv"]) == 0
    first = capsys.readouterr().out
    assert main(["history", str(question), "--out", str(fits_out), "--csv"]) == 0
    assert capsys.readouterr().out == first
    lines = first.strip().splitlines()
    assert lines[0].startswith("date,outcome,p,lower,upper")
    # prior + 4 distinct dates, 4 outcomes each
    assert len(lines) == 1 + 5 * 4
    # the table: one line per step, each outcome's mean with its interval
    assert main(["history", str(question), "--out", str(fits_out)]) == 0
    text = capsys.readouterr().out.strip().splitlines()
    steps = text[2:]
    assert [s.split()[0] for s in steps] == ["prior", "2025-01-29", "2025-05-20", "2025-05-21",
                                             "2025-06-10"]
    assert "90% interval" in text[0]
    assert all(s.count("[") == 4 and "nan" not in s for s in steps)
    assert steps[-1].endswith("n5") and "n3, n4" in steps[3]


def test_bad_question_directory_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert "not a question directory" in capsys.readouterr().err


def _stored_question(root, source, news=None):
    """A question copied from ``source`` with a stored fit of prior draws (no MCMC)."""
    from conftest import store_fit_from_prior
    from forecast.config import load_question
    from forecast.ledger import load_ledger

    target = root / source.name
    shutil.copytree(source, target)
    config = load_question(target)
    fit = store_fit_from_prior(config, load_ledger(config), root / "out", pool=6000)
    return target, fit


def test_run_over_several_questions_in_parallel(tmp_path, capsys):
    """One process per question; each result is what a run of that question alone gives."""
    from conftest import DEFAULT_QUESTION, ROOT

    a, _ = _stored_question(tmp_path, DEFAULT_QUESTION)
    b, _ = _stored_question(tmp_path, ROOT / "priors" / "russia_sudan_port")
    out = str(tmp_path / "out")
    code = main(["run", str(a), str(b), "--out", out, "--json"])
    results = json.loads(capsys.readouterr().out)
    assert [r["question"] for r in results] == ["russia_syria_bases", "russia_sudan_port"]
    assert all(r["diagnostics"]["path"] == "exact" for r in results)  # the default engine
    for question, together in zip((a, b), results, strict=True):
        assert main(["run", str(question), "--out", out, "--json"]) == code
        alone = json.loads(capsys.readouterr().out)
        assert alone["bases"] == together["bases"]
        assert (tmp_path / "out" / together["question"] / "forecast.json").exists()


def test_a_run_whose_fit_failed_the_gate_says_so_and_exits_3(tmp_path, capsys, monkeypatch):
    import h5py

    from conftest import DEFAULT_QUESTION

    q, fit = _stored_question(tmp_path, DEFAULT_QUESTION)
    with h5py.File(fit, "r+") as fh:  # as if the sampler had not converged
        d = json.loads(fh.attrs["forecast_diagnostics"])
        d.update(passed=False, failures=["R-hat 1.0712 > 1.01"])
        fh.attrs["forecast_diagnostics"] = json.dumps(d)
    assert main(["run", str(q), "--out", str(tmp_path / "out"), "--engine", "nuts"]) == 3
    text = capsys.readouterr().out
    assert "gate FAILED: R-hat 1.0712 > 1.01" in text
    assert main(["run", str(q), "--out", str(tmp_path / "out"), "--json",
                 "--engine", "nuts"]) == 3
    assert json.loads(capsys.readouterr().out)["diagnostics"]["converged"] is False


def test_progress_bar_only_in_a_terminal_and_never_under_json(monkeypatch):
    import sys

    import forecast.cli.questions as cli

    seen = []

    def fake_run_one(question, out, seed, as_json, progressbar, prior_source=None,
                     engine=None, issue=False):
        seen.append((as_json, progressbar))
        return {}, 0, ""

    monkeypatch.setattr(cli, "_run_one", fake_run_one)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    main(["run"])
    main(["run", "--json"])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    main(["run"])
    assert seen == [(False, True), (True, False), (False, False)]


def test_resolve_then_score_through_the_command_line(tmp_path, question, fits_out, fit_news,
                                                     capsys):
    q = tmp_path / "q"
    shutil.copytree(question, q)
    out = tmp_path / "out"
    shutil.copytree(fits_out, out)  # the session's fits apply: same inputs
    assert main(["score", str(q), "--out", str(out)]) == 2  # nothing resolved yet
    assert "resolution" in capsys.readouterr().err.lower()
    args = ["resolve", str(q), "--outcome", "khmeimim=1,tartus=0", "--date", "2026-11-20"]
    assert main(args) == 0
    assert "recorded the resolution" in capsys.readouterr().out
    assert main(args) == 2  # a question resolves once
    capsys.readouterr()
    # nothing issued: the record has no rows; the reconstruction only with --hindsight
    assert main(["score", str(q), "--out", str(out), "--json", "--hindsight"]) == 0
    table = json.loads(capsys.readouterr().out)
    rows = {(r["outcome"], r["forecaster"]): r for r in table}
    assert {("khmeimim", "hindsight"), ("tartus", "reference"), ("all", "fifty")} <= set(rows)
    assert not {r["forecaster"] for r in table} & {"record", "crowd"}
    assert rows[("khmeimim", "fifty")]["brier"] == pytest.approx(0.25)
    k = rows[("khmeimim", "hindsight")]
    assert k["resolved"] == 1 and 0 < k["brier"] < 1 and k["log_score"] < 0


def test_run_uses_the_exact_engine_by_default_and_reports_its_gate(fresh_question, tmp_path,
                                                                   capsys):
    """No MCMC on the default path: prior draws weighted by the exact news likelihood."""
    out = tmp_path / "out"
    assert main(["run", str(fresh_question), "--out", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["diagnostics"]
    assert d["engine"] == "exact" and d["path"] == "exact" and d["converged"]
    assert d["pareto_khat"] <= 0.7 and d["ess_bulk_min"] >= 1000
    assert not (out / "question" / "fits").exists()  # nothing was sampled
    assert (out / "question" / "posterior.nc").stat().st_size > 0
    from forecast.store import open_tree

    tree = open_tree(out / "question" / "posterior.nc")
    from forecast.config import load_question

    draws = load_question(fresh_question).model.engine.draws
    assert tree["posterior"]["p_keep"].sizes["draw"] == draws
    assert "forecast_file_hashes" in tree.attrs
