"""What is worth finding out: MI, Brier reduction, a pending report and the word movers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TODAY, make_item, question_with_threads
from forecast.engine import importance_forecast


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    config = question_with_threads(tmp_path_factory.mktemp("info"))
    items = [make_item(1, lr=3.0, bears_on="escalation"), make_item(2, lr=2.0, bears_on="khmeimim")]
    return config, items, importance_forecast(config, items, as_of=TODAY, seed=3, n=20_000)


def test_information_measures_agree_with_their_definitions(scratch):
    """MI and the Brier reduction from the scenario probabilities, by hand."""
    from forecast.analysis import value_of_information

    _, _, fc = scratch
    table = value_of_information(fc)
    assert (table["mutual_information_bits"] >= 0).all() and (table["brier_reduction"] >= 0).all()
    row = table[(table["variable"] == "basing_agreement")
                & (table["outcome"] == "khmeimim")].iloc[0]
    q, p1, p0 = row["p_state"], row["p_given_true"], row["p_given_false"]
    p = fc.probabilities()["khmeimim"].mean
    assert q * p1 + (1 - q) * p0 == pytest.approx(p, abs=1e-9)  # the law of total probability

    def h(x):
        return -(x * np.log2(x) + (1 - x) * np.log2(1 - x))

    assert row["mutual_information_bits"] == pytest.approx(
        h(p) - q * h(p1) - (1 - q) * h(p0), abs=1e-9)
    # the Brier reduction is the fall in expected Brier score p(1-p) once the state is known
    after = q * p1 * (1 - p1) + (1 - q) * p0 * (1 - p0)
    assert row["brier_reduction"] == pytest.approx(p * (1 - p) - after, abs=1e-9)
    # the agreement's effect interval excludes 1: learning it is worth more than integration's
    integ = table[(table["variable"] == "armed_group_integration")
                  & (table["outcome"] == "khmeimim")].iloc[0]
    assert row["mutual_information_bits"] > integ["mutual_information_bits"]


def test_a_pending_report_and_its_opposite_bracket_the_forecast(scratch):
    from forecast.information import pending_report

    config, items, fc = scratch
    table = pending_report(fc, items, bears_on="basing_agreement", reliability="A1", lr=5.0)
    p = table.pivot(index="scenario", columns="outcome", values="p")
    for base in config.bases:
        assert p.loc["if its opposite arrives", base] < p.loc["now", base] < p.loc[
            "if it arrives", base]
    # the report, recorded for real, gives the same number: nothing here is approximate
    report = make_item(9, lr=5.0, bears_on="basing_agreement")
    arrived = importance_forecast(config, [*items, report], as_of=TODAY, seed=3, n=20_000)
    for base in config.bases:
        assert p.loc["if it arrives", base] == pytest.approx(
            arrived.probabilities()[base].mean, abs=1e-12)
    words = table.set_index(["scenario", "outcome"])
    assert (words["word_changes"] == (words["word"] != words.loc["now"]["word"]
                                      .reindex(words.index.get_level_values(1)).to_numpy())).all()


def test_word_movers_name_the_weakest_report_that_changes_a_word(scratch):
    from forecast.fmt import estimative_word
    from forecast.information import RATIOS, pending_report, word_movers

    _, items, fc = scratch
    movers = word_movers(fc, items, reliability="A1", draws=20_000)
    assert not movers.empty
    for r in movers.head(3).itertuples():
        assert estimative_word(r.p) != r.word_now
        weaker = [x for x in RATIOS if x < max(r.lr, 1 / r.lr)]
        if weaker:  # the next weaker ratio did not change that base's word
            lr = weaker[-1] if r.direction == "for" else 1 / weaker[-1]
            t = pending_report(fc, items, bears_on=r.target, reliability="A1", lr=lr)
            row = t[(t["scenario"] == "if it arrives") & (t["outcome"] == r.outcome)].iloc[0]
            assert not row["word_changes"]


def test_what_if_refuses_an_unknown_target_naming_the_flag(fresh_question, capsys):
    from forecast.cli import main

    assert main(["what-if", str(fresh_question), "--bears-on", "nonsense", "--reliability",
                 "B2", "--lr", "3"]) == 2
    err = capsys.readouterr().err
    assert "--bears-on" in err and "nonsense" in err


def test_information_measures_obey_their_bounds_and_vanish_for_an_irrelevant_state(tmp_path):
    """Independent of the formulas: MI <= H(outcome) and <= H(state); the Brier reduction
    lies in [0, p(1 - p)]; a state whose effect is pinned to an odds ratio of 1 tells
    nothing about the outcome, so both vanish (up to the pooling's tiny spread)."""
    import math

    import yaml

    from forecast.analysis import value_of_information
    from forecast.config import load_question

    config = question_with_threads(tmp_path)
    q = config.directory
    evidence = yaml.safe_load((q / "evidence.yaml").read_text())
    v = next(x for x in evidence["variables"] if x["id"] == "armed_group_integration")
    v["effect"] = {"dist": {"dist": "Normal", "kwargs": {"mu": 0.0, "sigma": 1e-6}},
                   "rationale": "no effect, for the test", "source": "test"}
    (q / "evidence.yaml").write_text(yaml.safe_dump(evidence, sort_keys=False))
    model = yaml.safe_load((q / "model.yaml").read_text())
    model["effect_pooling"]["dist"]["kwargs"]["sigma"] = 1e-6
    (q / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    config = load_question(q)
    fc = importance_forecast(config, [make_item(1, lr=3.0, bears_on="escalation")], as_of=TODAY,
                             seed=3, n=20_000)
    table = value_of_information(fc)

    def h(x):
        return 0.0 if x in (0, 1) else -(x * math.log2(x) + (1 - x) * math.log2(1 - x))

    for r in table.itertuples():
        p = fc.probabilities()[r.outcome].mean
        assert 0 <= r.mutual_information_bits <= min(h(p), h(r.p_state)) + 1e-9
        assert 0 <= r.brier_reduction <= p * (1 - p) + 1e-12
    none = table[table["variable"] == "armed_group_integration"]
    assert none["mutual_information_bits"].max() < 1e-6
    assert none["brier_reduction"].max() < 1e-6
    assert table[table["variable"] == "basing_agreement"]["mutual_information_bits"].min() > 1e-3
