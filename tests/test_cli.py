"""The command line: JSON shapes, exit codes, nothing written on bad input."""

from __future__ import annotations

import hashlib
import json
import shutil

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


def test_run_json_has_the_documented_shape(question, fits_out, fit_news, capsys):
    assert main(["run", str(question), "--out", str(fits_out), "--json"]) == 0
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
    assert out["bases"]["khmeimim"]["p_keep"] == pytest.approx(
        fit_news.probabilities()["khmeimim"].mean)
    target = fits_out / "russia_syria_bases"
    for name in ("posterior.nc", "forecast.json", "headline.png", "headline.csv"):
        assert (target / name).stat().st_size > 0


def test_update_json_and_refusals(tmp_path, fresh_question, fit_no_news, capsys):
    out = tmp_path / "out"
    (out / "russia_syria_bases" / "fits").mkdir(parents=True)
    shutil.copy(fit_no_news.fit.path, out / "russia_syria_bases" / "fits")
    args = ["update", str(fresh_question), "--out", str(out), "--date", "2025-05-20",
            "--headline", "Perimeter attack", "--source", "wire", "--reliability", "B2",
            "--bears-on", "escalation", "--lr", "2:6"]
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["item"]["bears_on"] == "escalation"
    assert payload["before"]["bases"]["khmeimim"]["p_keep"] > payload["bases"]["khmeimim"]["p_keep"]
    assert payload["diagnostics"]["path"] == "reweighted"

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


def test_update_from_item_file(tmp_path, fresh_question, fit_no_news, capsys):
    out = tmp_path / "out"
    (out / "russia_syria_bases" / "fits").mkdir(parents=True)
    shutil.copy(fit_no_news.fit.path, out / "russia_syria_bases" / "fits")
    item = tmp_path / "item.yaml"
    item.write_text(json.dumps(NEWS[0]))  # JSON is YAML
    assert main(["update", str(fresh_question), "--item", str(item), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "recorded n1" in text and "pp" in text


def test_history_is_deterministic(question, fits_out, fit_news, capsys):
    assert main(["history", str(question), "--out", str(fits_out), "--csv"]) == 0
    first = capsys.readouterr().out
    assert main(["history", str(question), "--out", str(fits_out), "--csv"]) == 0
    assert capsys.readouterr().out == first
    lines = first.strip().splitlines()
    assert lines[0].startswith("date,outcome,p,lower,upper")
    # prior + 4 distinct dates, 4 outcomes each
    assert len(lines) == 1 + 5 * 4


def test_bad_question_directory_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert "not a question directory" in capsys.readouterr().err
