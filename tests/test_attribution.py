"""News credit by Shapley values: exact, order-free, and what the briefing says in words."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from conftest import TODAY, make_item, question_with_threads
from forecast.engine import importance_forecast


@pytest.fixture
def scratch(tmp_path):
    config = question_with_threads(tmp_path, rho=0.6)
    items = [
        make_item(1, lr=3.0, bears_on="basing_agreement", thread="talks", date="2025-02-01"),
        make_item(2, lr=2.0, bears_on="basing_agreement", thread="talks", date="2025-03-01"),
        make_item(3, lr=0.3, bears_on="escalation", date="2025-04-01"),
        make_item(4, lr=2.5, bears_on="khmeimim", date="2025-05-01"),
        make_item(5, lr=0.5, bears_on="tartus", reliability="B2", date="2025-06-01"),
    ]
    return config, items


def test_credits_sum_exactly_to_the_move_from_no_news(scratch):
    from forecast.analysis import contributions
    from forecast.attribution import shapley

    config, items = scratch
    fc = importance_forecast(config, items, as_of=TODAY, seed=2, n=20_000)
    none = importance_forecast(config, [], as_of=TODAY, seed=2, n=20_000)
    table = shapley(fc, items)
    for outcome, est in fc.probabilities().items():
        rows = table[table["outcome"] == outcome]
        assert rows["item_pp"].sum() == pytest.approx(100 * (est.mean - rows["no_news"].iloc[0]),
                                                      abs=1e-9)
        # the no-news value is the same draws without news: the priors
        assert rows["no_news"].iloc[0] == pytest.approx(none.probabilities()[outcome].mean,
                                                        abs=1e-12)
    wf = contributions(fc, items)
    last = wf[wf["step"] == wf["step"].max()].set_index("outcome")["after"]
    for outcome, est in fc.probabilities().items():
        assert last[outcome] == pytest.approx(est.mean, abs=1e-12)


def test_credit_does_not_depend_on_the_dates_of_the_news(scratch):
    """The date-ordered waterfall (the old rule) gave item 4 a different move when it came
    first than when it came last, because each step was credited given the earlier ones."""
    from forecast.attribution import shapley

    config, items = scratch
    moved = [i.model_copy(update={"date": dt.date(2025, 1, 1) + dt.timedelta(days=10 * (5 - n))})
             for n, i in enumerate(items)]  # reversed order of dates
    a = importance_forecast(config, items, as_of=TODAY, seed=2, n=20_000)
    b = importance_forecast(config, moved, as_of=TODAY, seed=2, n=20_000)
    ta = shapley(a, items).set_index(["item", "outcome"])["item_pp"]
    tb = shapley(b, moved).set_index(["item", "outcome"])["item_pp"]
    np.testing.assert_allclose(ta.sort_index().to_numpy(), tb.sort_index().to_numpy(), atol=1e-9)


def test_two_symmetric_groups_get_equal_credit(tmp_path):
    """Shapley's symmetry: two identical reports on one variable, in two groups."""
    from forecast.attribution import shapley

    config = question_with_threads(tmp_path)
    items = [make_item(1, lr=3.0, bears_on="armed_group_integration"),
             make_item(2, lr=3.0, bears_on="armed_group_integration", thread="other")]
    fc = importance_forecast(config, items, as_of=TODAY, seed=2, n=20_000)
    t = shapley(fc, items)
    k = t[t["outcome"] == "khmeimim"].set_index("item")["item_pp"]
    assert k["i1"] == pytest.approx(k["i2"], abs=1e-9)
    assert abs(k["i1"]) > 0.05


def test_key_judgements_say_the_numbers_in_words(scratch):
    from forecast.findings import key_judgements
    from forecast.fmt import estimative_word, pct

    config, items = scratch
    fc = importance_forecast(config, items, as_of=TODAY, seed=2, n=20_000)
    text = str(key_judgements(fc, items))
    for base, est in fc.probabilities().items():
        if base in config.bases:
            assert f"{pct(est.mean)}" in text and estimative_word(est.mean) in text
    assert "Shapley" in text and "What would change it most" in text
    assert "**" not in text  # plain text prints without Markdown
    assert "<b>" in key_judgements(fc, items).html()
    assert "No news dated on or before" in str(key_judgements(fc, []))
