"""A second question proves nothing is hard-wired: the template, and Port Sudan."""

from __future__ import annotations

import datetime as dt
import re
from importlib.resources import files

import numpy as np
import pytest
import yaml

from conftest import ROOT
from forecast.cli import main
from forecast.config import LEDGER_FILE, QUESTION_FILES, ConfigError, load_question
from forecast.scaffold import PLACEHOLDERS, new_question

SUDAN = ROOT / "priors" / "russia_sudan_port"


def test_the_template_is_package_data():
    folder = files("forecast.templates") / "question"
    names = {p.name for p in folder.iterdir()}
    assert names >= {*QUESTION_FILES, LEDGER_FILE}
    for name in (*QUESTION_FILES, LEDGER_FILE):
        assert (folder / name).read_text().startswith("#"), f"{name} lacks its header comment"


def test_a_new_question_validates_and_is_marked_for_the_analyst(tmp_path, capsys):
    path = new_question("port_access", root=tmp_path / "priors",
                        created=dt.date(2026, 1, 5), horizon=dt.date(2027, 6, 30))
    assert path == tmp_path / "priors" / "port_access"
    assert sorted(p.name for p in path.iterdir()) == sorted([*QUESTION_FILES, LEDGER_FILE])
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "port_access" in captured.out
    # valid, but the placeholders are listed by file and field, and --strict refuses them
    assert "still marked TODO" in captured.err
    assert f"{path / 'question.yaml'}: title" in captured.err
    assert f"{path / 'evidence.yaml'}: variables[0].prior.rationale" in captured.err
    assert main(["validate", str(path), "--strict"]) == 2
    config = load_question(path)
    assert config.id == "port_access"
    assert (config.question.created, config.question.horizon) == (
        dt.date(2026, 1, 5), dt.date(2027, 6, 30))
    for name in ("question.yaml", "evidence.yaml"):
        text = (path / name).read_text()
        assert "TODO" in text
        assert not any(p in text for p in PLACEHOLDERS)
    ledger = yaml.safe_load((path / LEDGER_FILE).read_text())
    assert ledger == {"schema_version": 1, "question": "port_access", "items": None}
    # Nothing but the question is left in the root (the temporary build folder is gone).
    assert [p.name for p in (tmp_path / "priors").iterdir()] == ["port_access"]


def test_the_default_dates_are_in_order(tmp_path):
    config = load_question(new_question("dated", root=tmp_path))
    assert config.question.created == dt.date.today()
    assert config.question.horizon > config.question.created


def test_an_existing_directory_is_refused_and_untouched(tmp_path, capsys):
    path = new_question("taken", root=tmp_path)
    (path / "question.yaml").write_text("# the analyst's work\n")
    with pytest.raises(ConfigError, match="already exists"):
        new_question("taken", root=tmp_path)
    assert (path / "question.yaml").read_text() == "# the analyst's work\n"
    assert main(["new", "taken", "--root", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="already exists"):
        new_question("empty", root=tmp_path)
    assert list((tmp_path / "empty").iterdir()) == []


@pytest.mark.parametrize("name", ["Russia", "1st", "port-sudan", "", "a" * 49, "../evil",
                                  "port sudan", "port_sudan/x"])
def test_a_name_that_is_not_snake_case_is_refused(name, tmp_path, capsys):
    with pytest.raises(ConfigError, match="snake_case"):
        new_question(name, root=tmp_path / "priors")
    assert not (tmp_path / "priors").exists()
    assert main(["new", name, "--root", str(tmp_path / "priors")]) == 2
    assert "snake_case" in capsys.readouterr().err
    assert not (tmp_path / "evil").exists()


def test_a_failed_build_leaves_nothing(tmp_path, monkeypatch):
    def broken(directory):
        raise ConfigError([f"{directory}: simulated failure"])

    monkeypatch.setattr("forecast.scaffold.load_question", broken)
    with pytest.raises(ConfigError, match="simulated failure"):
        new_question("half_built", root=tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- Port Sudan
def test_the_sudan_question_validates(capsys):
    assert main(["validate", str(SUDAN), "--strict"]) == 0
    assert "1 outcomes, 4 evidence variables" in capsys.readouterr().out
    config = load_question(SUDAN)
    assert config.bases == ["port_sudan"]
    assert set(config.variables) == {"sudan_ratifies_agreement", "war_ends_or_ceasefire",
                                     "us_gulf_pressure", "russian_arms_deliveries"}
    assert config.question.horizon == dt.date(2027, 12, 31)


def test_every_sudan_number_has_a_rationale_and_a_source():
    config = load_question(SUDAN)
    priors = [o.baseline for o in config.question.outcomes]
    for v in config.evidence.variables:
        priors += [v.prior, v.effect]
    for prior in priors:
        assert "TODO" not in prior.rationale and len(prior.rationale) > 40
        assert "TODO" not in prior.source
    # Most numbers rest on a dated document, not on judgement alone.
    assert sum(bool(re.search(r"20\d\d", p.source)) for p in priors) >= len(priors) // 2
    assert len(config.question.sources) >= 3


def test_the_sudan_forecast_from_prior_draws():
    from forecast.engine import prior_forecast

    config = load_question(SUDAN)
    fc = prior_forecast(config)
    probs = fc.probabilities()
    assert set(probs) == {"port_sudan", "all", "any"}
    p = probs["port_sudan"]
    # A facility unbuilt after five years: the prior forecast is well below even odds.
    assert 0.05 < p.lower < p.mean < p.upper < 0.75
    assert p.mean < 0.5
    # With one outcome, "all" and "any" are the outcome itself.
    assert probs["all"].mean == pytest.approx(p.mean)
    assert probs["any"].mean == pytest.approx(p.mean)
    assert fc.to_dict()["question"] == "russia_sudan_port"


def test_sudan_news_moves_the_sudan_forecast():
    """The ledger and the exact enumeration work for a question with one outcome."""
    from forecast.engine import prior_forecast
    from forecast.exact import enumerate_states
    from forecast.ledger import check_item, evidence_from, parse_item

    config = load_question(SUDAN)
    item = parse_item({"id": "s1", "date": "2026-11-01", "headline": "Sudan ratifies",
                       "source": "SUNA", "reliability": "A1",
                       "bears_on": "sudan_ratifies_agreement", "lr": 20.0})
    check_item(config, item, [], today=dt.date(2026, 11, 25))
    evidence = evidence_from(config, [item])
    assert evidence.state_loglr.shape == (4,) and evidence.outcome_loglr.shape == (1,)
    fc = prior_forecast(config)
    after = enumerate_states(fc.fit.params, evidence.state_loglr, evidence.outcome_loglr)
    w = np.exp(after.loglik - after.loglik.max())
    p_after = float(np.sum(w * after.p_keep[:, 0]) / w.sum())
    assert p_after > fc.probabilities()["port_sudan"].mean + 0.05
    with pytest.raises(Exception, match="unknown variable"):
        check_item(config, parse_item({**item.model_dump(), "bears_on": "khmeimim"}), [])
