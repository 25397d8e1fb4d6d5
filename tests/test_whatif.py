"""The what-if panel's update function: each control equals the change made in the files."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import DEFAULT_QUESTION
from forecast.config import load_question
from forecast.engine import exact_forecast
from forecast.ledger import load_ledger
from forecast.whatif import what_if

DRAWS = 10_000


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    q = tmp_path_factory.mktemp("whatif") / "russia_syria_bases"
    shutil.copytree(DEFAULT_QUESTION, q)
    config = load_question(q)
    return q, config, load_ledger(config)


def _means(fc):
    return {k: e.mean for k, e in fc.probabilities().items()}


def _edited(q, tmp, edit):
    target = tmp / "edited"
    shutil.copytree(q, target)
    edit(target)
    config = load_question(target)
    return config, load_ledger(config)


def test_no_change_is_the_exact_forecast(seeded):
    _, config, items = seeded
    got = what_if(config, items, draws=DRAWS, seed=3)
    assert _means(got.forecast) == _means(exact_forecast(config, items, seed=3, n=DRAWS))
    assert set(got.table["label"]) >= {o.name for o in config.question.outcomes}


def test_each_control_equals_the_same_change_in_the_files(seeded, tmp_path):
    q, config, items = seeded

    def thread(t):
        data = yaml.safe_load((t / "threads.yaml").read_text())
        next(x for x in data["threads"] if x["id"] == "basing-negotiation")[
            "dependence"]["value"] = 0.2
        (t / "threads.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    def interval(t):
        data = yaml.safe_load((t / "evidence.yaml").read_text())
        v = next(x for x in data["variables"] if x["id"] == "basing_agreement")
        v["effect"]["elicited"].update(lower=2.0, upper=20.0)
        (t / "evidence.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    def coupling(t):
        data = yaml.safe_load((t / "model.yaml").read_text())
        data["outcome_dependence"]["value"] = 1.0
        (t / "model.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    for kwargs, edit in (({"dependence": {"basing-negotiation": 0.2}}, thread),
                         ({"intervals": {"effect[basing_agreement]": (2.0, 20.0)}}, interval),
                         ({"outcome_dependence": 1.0}, coupling)):
        panel = what_if(config, items, draws=DRAWS, seed=3, **kwargs)
        config2, items2 = _edited(q, tmp_path / next(iter(kwargs)), edit)
        files = exact_forecast(config2, items2, seed=3, n=DRAWS)
        for key, p in _means(files).items():
            assert _means(panel.forecast)[key] == pytest.approx(p, abs=1e-12), kwargs
        assert _means(panel.forecast) != _means(what_if(config, items, draws=DRAWS, seed=3)
                                                .forecast)


def test_leaving_an_item_out_and_setting_a_scenario(seeded):
    from forecast.analysis import scenarios

    _, config, items = seeded
    drop = items[0].id
    panel = what_if(config, items, leave_out={drop}, draws=DRAWS, seed=3)
    assert _means(panel.forecast) == _means(exact_forecast(
        config, [i for i in items if i.id != drop], seed=3, n=DRAWS))
    fc = exact_forecast(config, items, seed=3, n=DRAWS)
    want = scenarios(fc, {"x": {"assad_extradition": 1}}, include_one_at_a_time=False)
    want = want[want["scenario"] == "x"].set_index("outcome")["p"]
    got = what_if(config, items, scenario={"assad_extradition": 1}, draws=DRAWS, seed=3)
    for key, p in _means(got.forecast).items():
        assert p == pytest.approx(want[key], abs=1e-12)


def test_bad_controls_are_refused_by_name(seeded):
    _, config, items = seeded
    with pytest.raises(ValueError, match="no such news items: nope"):
        what_if(config, items, leave_out={"nope"}, draws=1000)
    with pytest.raises(ValueError, match=r"p_state\[nope\]"):
        what_if(config, items, intervals={"p_state[nope]": (0.1, 0.2)}, draws=1000)
    with pytest.raises(ValueError, match="low end must be below"):
        what_if(config, items, intervals={"effect[escalation]": (2.0, 1.0)}, draws=1000)
