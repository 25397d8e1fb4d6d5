"""How news is weighed: threads of dependent reports, credibility once, uncertain ratios.

Each test states what the rule it replaces gave, so that it would fail under it:
independent multiplication of one process's reports, ``LR ** w`` discounting, and
an interval entering as its expectation ``E[LR]``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pytest

from conftest import TODAY, make_item, make_question, question_with_threads
from forecast.config import load_question
from forecast.engine import importance_forecast
from forecast.ledger import evidence_from, item_credibility, item_loglr

DRAWS = 40_000


def _total(config, items, target="basing_agreement"):
    ev = evidence_from(config, items)
    targets = config.variables + config.bases
    return np.concatenate([ev.state_loglr, ev.outcome_loglr])[targets.index(target)]


# ------------------------------------------------------------------------ threads


def test_dependence_zero_is_the_independent_sum(tmp_path):
    config = question_with_threads(tmp_path, rho=0.0)
    items = [make_item(i, lr=1.5 + i / 10, thread="talks") for i in range(5)]
    assert _total(config, items) == pytest.approx(sum(math.log(1.5 + i / 10) for i in range(5)))


def test_dependence_one_counts_a_thread_as_at_most_one_report(tmp_path):
    """Independent multiplication (the old rule) gave 2**7 = 128 for seven ratio-2 reports."""
    config = question_with_threads(tmp_path, rho=1.0)
    items = [make_item(i, lr=2.0 + i, thread="talks") for i in range(7)]
    total = _total(config, items)
    assert total == pytest.approx(max(math.log(2.0 + i) for i in range(7)))  # the strongest


@pytest.mark.parametrize("direction", [2.5, 0.4])
def test_more_dependence_never_moves_the_forecast_further_from_no_news(tmp_path, direction):
    """Under independence (the old rule) dependence did not exist: every rho gave the same."""
    items = [make_item(i, lr=direction * (1 + i / 20), thread="talks") for i in range(6)]
    moves = []
    for j, rho in enumerate((0.0, 0.2, 0.5, 0.8, 1.0)):
        config = question_with_threads(tmp_path / f"r{j}", rho=rho)
        none = importance_forecast(config, [], as_of=TODAY, seed=3, n=DRAWS)
        news = importance_forecast(config, items, as_of=TODAY, seed=3, n=DRAWS)
        moves.append(abs(news.probabilities()["khmeimim"].mean
                         - none.probabilities()["khmeimim"].mean))
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(moves)), moves
    assert moves[0] > 2 * moves[-1]


def test_the_result_does_not_depend_on_the_order_of_items(tmp_path):
    config = question_with_threads(tmp_path, rho=0.6)
    items = [make_item(i, lr=1.2 + i / 3, thread="talks" if i % 2 else None,
                   bears_on="basing_agreement" if i < 4 else "escalation") for i in range(8)]
    a, b = evidence_from(config, items), evidence_from(config, items[::-1])
    assert a.key() == b.key()
    np.testing.assert_array_equal(a.per_draw(100)[0], b.per_draw(100)[0])


def test_identical_reports_of_a_dependent_thread_have_a_bounded_total(tmp_path):
    """Independently, n ratio-1.5 reports gave n * log 1.5: 100 of them a ratio of 4e17."""
    rho = 0.5
    config = question_with_threads(tmp_path, rho=rho)
    totals = [_total(config, [make_item(i, lr=1.5, thread="talks") for i in range(n)])
              for n in (1, 5, 20, 100, 400)]
    assert all(b >= a for a, b in itertools.pairwise(totals))
    assert totals[-1] < math.log(1.5) / rho  # at most 1 / rho reports' worth
    assert totals[-1] == pytest.approx(400 * math.log(1.5) / (1 + 399 * rho))


def test_a_report_that_agrees_with_its_thread_never_lowers_its_total(tmp_path):
    """Scaling a thread's summed log ratio by n_eff / n (Kish applied to the mean, the
    first rule of 2026-12-01) let a weak supporting report dilute a strong one: one report
    of ratio 3 then a second of 1.1, rho 0.6, fell from log 3 = 1.10 to 0.74 in all (the
    seeded ledger's 2026-01-22 Qamishli report lowered Khmeimim so). Credited strongest
    first, the second report adds its own small share instead."""
    config = question_with_threads(tmp_path, rho=0.6)
    strong = make_item(0, lr=3.0, thread="talks")
    totals = [_total(config, [strong])]
    for k, lr in enumerate((1.1, 1.05, 2.5, 1.01, 3.0), start=1):
        before = totals[-1]
        totals.append(_total(config, [strong, *[make_item(i, lr=x, thread="talks") for i, x in
                                                enumerate((1.1, 1.05, 2.5, 1.01, 3.0)[:k],
                                                          start=1)]]))
        assert totals[-1] >= before - 1e-12, (lr, totals)
    assert totals[1] > math.log(3.0)
    naive = 2 * (math.log(3.0) + math.log(1.1)) / 2 / (1 + 0.6)  # the mean-scaled rule
    assert naive < math.log(3.0)


def test_an_undeclared_thread_gets_the_files_default_dependence(tmp_path):
    config = question_with_threads(tmp_path, rho=0.9, default=0.25)
    items = [make_item(i, lr=3.0, thread="elsewhere") for i in range(4)]
    assert _total(config, items) == pytest.approx(4 * math.log(3.0) / (1 + 3 * 0.25))


def test_a_thread_without_threads_yaml_is_refused_naming_the_file(tmp_path):
    from forecast.ledger import LedgerError, check_item

    q = make_question(tmp_path, news=[])
    (q / "threads.yaml").unlink()
    config = load_question(q)
    with pytest.raises(LedgerError, match=r"threads\.yaml"):
        check_item(config, make_item(1, thread="talks"), [], today=TODAY)


# ------------------------------------------------------------------------ credibility


def test_credibility_zero_changes_nothing_and_one_gives_the_stated_ratio(tmp_path):
    config = question_with_threads(tmp_path, reliability={
        "source": {"A": 1.0, "B": 0.85, "C": 0.7, "D": 0.5, "E": 0.0, "F": 0.0}})
    assert item_credibility(config, "A1") == 1.0
    assert item_loglr(config, make_item(1, lr=7.0, reliability="A1")) == pytest.approx(math.log(7))
    assert item_loglr(config, make_item(1, lr=7.0, reliability="E1")) == 0.0
    assert item_loglr(config, make_item(1, lr=0.2, reliability="E3")) == 0.0


@pytest.mark.parametrize("lr", [1e-4, 0.05, 0.5, 0.9, 1.1, 3.0, 50.0, 1e4])
@pytest.mark.parametrize("code", ["A1", "B2", "C3", "D4", "E5"])
def test_the_credible_ratio_lies_between_one_and_the_stated_ratio(tmp_path_factory, lr, code):
    """Under ``LR ** w`` a B2 report of ratio 1e-4 counted as 0.0028: a tempering without a
    floor. Schum's mixture ``h * LR + 1 - h`` keeps it above ``1 - h`` = 0.28."""
    config = question_with_threads(tmp_path_factory.mktemp("c"))
    h = item_credibility(config, code)
    got = math.exp(item_loglr(config, make_item(1, lr=lr, reliability=code)))
    assert min(1.0, lr) * (1 - 1e-12) <= got <= max(1.0, lr) * (1 + 1e-12)
    assert got == pytest.approx(h * lr + 1 - h)
    if code == "B2" and lr == 1e-4:
        assert got > 0.27 and lr ** 0.64 < 0.003  # the old rule, for the record


# ------------------------------------------------------------------------ uncertain ratios


def test_an_interval_symmetric_about_one_is_not_evidence(tmp_path):
    """``E[LR]`` (the old rule) entered {0.5, 2} as 1.09 and ten such items as 1.44."""
    config = question_with_threads(tmp_path)
    none = importance_forecast(config, [], as_of=TODAY, seed=5, n=DRAWS)
    ten = [make_item(i, lr={"lower": 0.5, "upper": 2.0}, reliability="A1",
                 bears_on="basing_agreement" if i % 2 else "khmeimim") for i in range(10)]
    assert _total(config, ten) == pytest.approx(0.0, abs=1e-12)
    news = importance_forecast(config, ten, as_of=TODAY, seed=5, n=DRAWS)
    for key in ("khmeimim", "tartus"):
        moved = news.probabilities()[key].mean - none.probabilities()[key].mean
        assert abs(moved) < 0.002, (key, moved)


def test_a_wider_interval_with_the_same_midpoint_widens_the_interval_not_the_centre(tmp_path):
    """Under ``E[LR]`` the wider interval {1, 6} entered as 3.2, the narrower {2, 3} as 2.5."""
    config = question_with_threads(tmp_path)
    widths, centres = [], []
    for lo, hi in ((2.0, 3.0), (1.0, 6.0), (0.5, 12.0)):
        assert math.sqrt(lo * hi) == pytest.approx(math.sqrt(6))
        fc = importance_forecast(config, [make_item(1, lr={"lower": lo, "upper": hi},
                                                bears_on="khmeimim")],
                                 as_of=TODAY, seed=5, n=DRAWS)
        e = fc.probabilities()["khmeimim"]
        widths.append(e.upper - e.lower)
        centres.append(e.mean)
    assert widths[0] <= widths[1] <= widths[2]
    assert max(centres) - min(centres) < 0.004


def test_splitting_a_report_into_a_fully_dependent_thread_changes_nothing(tmp_path):
    """Independently (the old rule), three copies of one {1.5, 4} report counted three times."""
    config = question_with_threads(tmp_path, rho=1.0)
    one = [make_item(0, lr={"lower": 1.5, "upper": 4.0}, thread="talks")]
    three = [make_item(i, lr={"lower": 1.5, "upper": 4.0}, thread="talks") for i in range(3)]
    a = importance_forecast(config, one, as_of=TODAY, seed=5, n=DRAWS)
    b = importance_forecast(config, three, as_of=TODAY, seed=5, n=DRAWS)
    for key, est in a.probabilities().items():
        other = b.probabilities()[key]
        assert other.mean == pytest.approx(est.mean, abs=1e-12)
        assert other.lower == pytest.approx(est.lower, abs=1e-12)


# ------------------------------------------------------------------------ the seeded thread


def test_a_dozen_more_talks_continue_reports_move_the_agreement_by_a_bounded_amount(tmp_path):
    """Recorded as independent reports (the old rule), twelve more real "talks continue"
    items took P(basing_agreement) from 0.35 to 0.89 with no agreement signed. In the
    basing-negotiation thread they add at most ``1 / rho`` reports' worth in all."""
    import shutil

    from conftest import DEFAULT_QUESTION
    from forecast.ledger import load_ledger

    q = tmp_path / "copy"
    shutil.copytree(DEFAULT_QUESTION, q)
    config = load_question(q)
    items = load_ledger(config)
    talks = [i for i in items if i.thread == "basing-negotiation"
             and i.bears_on == "basing_agreement"]
    assert len(talks) >= 5
    rho = config.threads.dependence("basing-negotiation")
    # a real "talks continue" report, recorded twelve more times as new rounds
    template = next(i for i in talks if i.id == "2026-02-19-lavrov-talks-ongoing")
    more = [template.model_copy(update={
        "id": f"more-talks-{j}", "date": dt.date(2026, 3, 1) + dt.timedelta(days=7 * j),
        "headline": f"Talks on the bases continue (round {j})", "cluster": None})
        for j in range(12)]
    before = importance_forecast(config, items, as_of=TODAY, seed=7, n=DRAWS)
    after = importance_forecast(config, items + more, as_of=TODAY, seed=7, n=DRAWS)
    p0 = before.state_probabilities()["basing_agreement"].mean
    p1 = after.state_probabilities()["basing_agreement"].mean
    strongest = max(abs(item_loglr(config, i)) for i in talks + more)
    # the thread's total can never exceed 1 / rho of its strongest report, however many arrive
    assert abs(_total(config, talks + more) - _total(config, [])) <= strongest / rho + 1e-9
    assert abs(p1 - p0) < 0.05, (p0, p1)
    independent = sum(item_loglr(config, i) for i in more)
    assert independent > 1.0  # what the twelve would have added as independent reports
