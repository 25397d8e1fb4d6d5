"""The news ledger: weighing items, invariants of the update, safe appends."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import NEWS, TODAY
from forecast.config import load_question
from forecast.engine import compute, reweight
from forecast.ledger import (
    LedgerError,
    append_item,
    evidence_from,
    item_loglr,
    load_ledger,
    parse_item,
)
from forecast.news import update


def _item(**kw):
    base = {"id": "x1", "date": "2025-06-01", "headline": "h", "source": "s",
            "reliability": "A1", "bears_on": "escalation", "lr": 2.0}
    return parse_item(base | kw)


@given(st.permutations(range(len(NEWS))))
@settings(max_examples=30, deadline=None, derandomize=True)
def test_order_of_items_does_not_matter(config, order):
    items = [parse_item(NEWS[i]) for i in range(len(NEWS))]
    shuffled = [items[i] for i in order]
    a, b = evidence_from(config, items), evidence_from(config, shuffled)
    np.testing.assert_array_equal(a.state_loglr, b.state_loglr)
    np.testing.assert_array_equal(a.outcome_loglr, b.outcome_loglr)
    assert a.key() == b.key()


def test_forecast_is_the_same_for_any_order(config, items, fit_no_news):
    a = reweight(config, fit_no_news.fit, evidence_from(config, items), TODAY)
    b = reweight(config, fit_no_news.fit, evidence_from(config, items[::-1]), TODAY)
    np.testing.assert_array_equal(a.values.p_keep, b.values.p_keep)
    np.testing.assert_array_equal(a.log_weights, b.log_weights)


@pytest.mark.parametrize("neutral", [{"lr": 1.0}, {"reliability": "F1"}, {"reliability": "A6"},
                                     {"reliability": "F3", "lr": {"lower": 2, "upper": 9}}])
def test_neutral_item_changes_nothing(config, items, fit_news, neutral):
    extra = _item(id="neutral", **neutral)
    assert item_loglr(config, extra) == 0.0
    ev = evidence_from(config, [*items, extra])
    np.testing.assert_array_equal(ev.state_loglr, fit_news.evidence.state_loglr)
    fc = reweight(config, fit_news.fit, ev, TODAY)
    np.testing.assert_allclose(fc.values.p_keep, fit_news.values.p_keep, atol=0)
    np.testing.assert_array_equal(fc.log_weights, fit_news.log_weights)


@pytest.mark.parametrize("variable", ["assad_extradition", "escalation", "basing_agreement"])
def test_larger_ratio_never_moves_the_forecast_the_other_way(config, fit_no_news, variable):
    """Effects whose elicited interval excludes 1 have a known direction."""
    spec = next(v for v in config.evidence.variables if v.id == variable)
    direction = np.sign(np.log(spec.effect.elicited.lower))
    previous = None
    for lr in [0.1, 0.5, 1.0, 2.0, 8.0]:
        ev = evidence_from(config, [_item(bears_on=variable, lr=lr)])
        fc = reweight(config, fit_no_news.fit, ev, TODAY)
        p = np.array([e.mean for e in fc.probabilities().values()])
        state = fc.state_probabilities()[variable].mean
        if previous is not None:
            assert state > previous[1]
            assert np.all(direction * (p - previous[0]) > 0)
        previous = (p, state)


def test_an_interval_enters_at_its_geometric_midpoint_mixed_by_credibility():
    """The analyst's uncertainty split evenly between P(report | true) and P(report | false),
    each log-normal, integrates to ``h * sqrt(lower * upper) + 1 - h`` (checked here by
    Monte Carlo, 3 SE). The old rule, ``E[LR ** w]``, gave 2.10 for this C2 item; the
    midpoint rule gives 2.93 (h = 0.595), and for {0.5, 2} the old rule gave 1.09, not 1."""
    from statistics import NormalDist

    question = load_question(__import__("conftest").DEFAULT_QUESTION)
    item = _item(lr={"lower": 1.5, "upper": 12.0}, reliability="C2")
    h = question.reliability.source["C"] * question.reliability.information[2]
    z = NormalDist().inv_cdf(0.95)
    mu, sigma = (np.log(1.5) + np.log(12.0)) / 2, (np.log(12.0) - np.log(1.5)) / (2 * z)
    rng = np.random.default_rng(3)
    # P(report | true) = a, P(report | false) = b, each with half the variance of log(a / b)
    a = np.exp(mu / 2 + rng.normal(0, sigma / np.sqrt(2), size=2_000_000))
    b = np.exp(-mu / 2 + rng.normal(0, sigma / np.sqrt(2), size=2_000_000))
    num, den = h * a + (1 - h) * b, b
    ratio = num.mean() / den.mean()
    se = ratio * np.sqrt(num.var() / num.mean() ** 2 + den.var() / den.mean() ** 2
                         - 2 * np.cov(num, den)[0, 1] / (num.mean() * den.mean())) / np.sqrt(a.size)
    got = np.exp(item_loglr(question, item))
    assert got == pytest.approx(h * np.sqrt(1.5 * 12.0) + 1 - h)
    assert abs(got - ratio) < 3 * se
    # per draw the ratio varies, and its draws integrate to the same centre
    ev = evidence_from(question, [item])
    u, _ = ev.per_draw(400_000)
    k = question.variables.index("escalation")
    draws = np.exp(u[:, k])
    assert draws.std() > 0.5
    assert abs(draws.mean() - got) < 3 * draws.std() / np.sqrt(draws.size)
    assert np.exp(item_loglr(question, _item(lr={"lower": 0.5, "upper": 2.0}))) == \
        pytest.approx(1.0)


def test_cluster_counts_once_by_its_strongest_item(config):
    a = _item(id="a", lr=3.0, cluster="wire")
    b = _item(id="b", lr=5.0, cluster="wire")
    c = _item(id="c", lr=1.2, cluster="wire")
    ev = evidence_from(config, [a, b, c])
    k = config.variables.index("escalation")
    assert ev.state_loglr[k] == pytest.approx(item_loglr(config, b))
    assert ev.counted == ("b",)
    # Another outlet repeating the story adds nothing.
    more = evidence_from(config, [a, b, c, _item(id="d", lr=2.0, cluster="wire")])
    np.testing.assert_array_equal(more.state_loglr, ev.state_loglr)


def test_one_origin_reporting_two_facts_counts_once_per_fact(config):
    """A cluster is one piece of evidence per variable it bears on: two different claims
    from one meeting both count; repeating either adds nothing."""
    talks = _item(id="talks", bears_on="assad_extradition", lr=0.4, cluster="meeting")
    deal = _item(id="no-deal", bears_on="basing_agreement", lr=0.5, cluster="meeting")
    again = _item(id="again", bears_on="basing_agreement", lr=0.45, cluster="meeting")
    ev = evidence_from(config, [talks, deal, again])
    i, j = config.variables.index("assad_extradition"), config.variables.index(
        "basing_agreement")
    assert ev.state_loglr[i] == pytest.approx(item_loglr(config, talks))
    assert ev.state_loglr[j] == pytest.approx(item_loglr(config, again))  # the stronger
    assert set(ev.counted) == {"talks", "again"}


@pytest.mark.parametrize(
    ("change", "field"),
    [({"bears_on": "nonsense"}, "bears_on"),
     ({"id": "n1"}, "id"),
     ({"date": "2030-01-01"}, "date"),
     ({"lr": 0}, "lr"),
     ({"lr": -2}, "lr"),
     ({"reliability": "G9"}, "reliability"),
     ({"lr": {"lower": 5, "upper": 2}}, "lr"),
     ({"headline": ""}, "headline")],
)
def test_refused_item_leaves_the_ledger_byte_for_byte(tmp_path, question, change, field):
    q = tmp_path / "q"
    shutil.copytree(question, q)
    before = (q / "news.yaml").read_bytes()
    config = load_question(q)
    with pytest.raises(LedgerError, match=field):
        append_item(config, parse_item(NEWS[0] | {"id": "new"} | change), today=TODAY)
    assert (q / "news.yaml").read_bytes() == before
    assert not list(q.glob(".news.yaml.*.tmp"))


def test_append_keeps_old_bytes_and_reads_back(tmp_path, question):
    q = tmp_path / "q"
    shutil.copytree(question, q)
    before = (q / "news.yaml").read_bytes()
    config = load_question(q)
    after = append_item(config, _item(id="added"), today=TODAY)
    raw = (q / "news.yaml").read_bytes()
    assert raw.startswith(before)
    assert [i.id for i in load_ledger(config, today=TODAY)] == [i.id for i in after]
    assert after[-1].recorded is not None


_ENTRY = ("{dash}id: {id}\n{pad}date: 2025-06-01\n{pad}headline: h\n{pad}source: s\n"
          "{pad}reliability: A1\n{pad}bears_on: escalation\n{pad}lr: 2.0\n")


def _entry(item_id: str, indent: str = "  ") -> str:
    return _ENTRY.format(dash=indent + "- ", pad=indent + "  ", id=item_id)


HEAD = "schema_version: 1\nquestion: russia_syria_bases\n"
LAYOUTS = {
    "indented list": HEAD + "items:\n" + _entry("a1") + _entry("a2"),
    "flush list": HEAD + "items:\n" + _entry("a1", "") + _entry("a2", ""),
    "trailing comment": HEAD + "items:\n" + _entry("a1") + "# last line is a comment\n",
    "literal block notes last": HEAD + "items:\n" + _entry("a1")
    + "    notes: |\n      first line\n\n      second line\n",
    "no final newline": HEAD + "items:\n" + _entry("a1").rstrip("\n"),
}
REFUSED_LAYOUTS = {
    "items not the last key": "schema_version: 1\nitems:\n" + _entry("a1")
    + "question: russia_syria_bases\n",
    "flow list": HEAD + "items: [{id: a1, date: 2025-06-01, headline: h, source: s, "
    "reliability: A1, bears_on: escalation, lr: 2.0}]\n",
    "document end marker": HEAD + "items:\n" + _entry("a1") + "...\n",
}


def _question_with_ledger(tmp_path, question, text: str):
    """A copy of the question whose ledger is ``text``: its directory and config."""
    q = tmp_path / "q"
    shutil.copytree(question, q)
    (q / "news.yaml").write_text(text)
    return q, load_question(q)


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
def test_append_to_any_block_layout_reads_back_exactly(tmp_path, question, layout):
    """The new item follows the old bytes in the file's own list style; old items unchanged."""
    q, config = _question_with_ledger(tmp_path, question, LAYOUTS[layout])
    old = load_ledger(config, today=TODAY)
    append_item(config, _item(id="added", notes="a: colon, and\na second line"), today=TODAY)
    new = load_ledger(config, today=TODAY)
    assert (q / "news.yaml").read_text().startswith(LAYOUTS[layout].rstrip("\n"))
    assert new[:-1] == old  # every old item, notes included, reads back unchanged
    assert new[-1].id == "added" and new[-1].notes == "a: colon, and\na second line"


@pytest.mark.parametrize("layout", REFUSED_LAYOUTS, ids=str)
def test_append_refuses_a_layout_it_cannot_extend_safely(tmp_path, question, layout):
    q, config = _question_with_ledger(tmp_path, question, REFUSED_LAYOUTS[layout])
    assert [i.id for i in load_ledger(config, today=TODAY)] == ["a1"]
    before = (q / "news.yaml").read_bytes()
    with pytest.raises(LedgerError, match="does not allow a safe append"):
        append_item(config, _item(id="added"), today=TODAY)
    assert (q / "news.yaml").read_bytes() == before


def test_append_reuses_an_unchanged_read_and_rereads_a_changed_file(tmp_path, question):
    """``known`` skips the second parse only while the file holds the bytes it came from."""
    from forecast.ledger import read_ledger

    q = tmp_path / "q"
    shutil.copytree(question, q)
    config = load_question(q)
    items, raw = read_ledger(config, today=TODAY)
    append_item(config, _item(id="first"), today=TODAY, known=(items, raw))
    # the file changed since that read (another update landed): it is read again
    after = append_item(config, _item(id="second"), today=TODAY, known=(items, raw))
    assert [i.id for i in after][-2:] == ["first", "second"]
    assert [i.id for i in load_ledger(config, today=TODAY)] == [i.id for i in after]
    with pytest.raises(LedgerError, match="duplicate id"):
        append_item(config, _item(id="first"), today=TODAY, known=(items, raw))


def test_sequential_updates_equal_one_batch(tmp_path, fresh_question, fit_no_news):
    """Item by item through ``update`` ends where all items at once end."""
    out = tmp_path / "out"
    fits = out / "question" / "fits"
    fits.mkdir(parents=True)
    shutil.copy(fit_no_news.fit.file, fits)  # the only fit to reuse: no sampling here
    config = load_question(fresh_question)
    result = None
    for raw in NEWS:
        result = update(config, raw, out=out, today=TODAY, engine="nuts")
        assert result.after.path == "reweighted"
    batch = compute(config, load_ledger(config, today=TODAY), out=out, as_of=TODAY,
                    allow_fit=False, engine="nuts")
    for key, est in batch.probabilities().items():
        assert result.after.probabilities()[key].mean == pytest.approx(est.mean, abs=1e-12)


def test_update_reports_before_after_and_contribution(tmp_path, fresh_question, fit_no_news):
    out = tmp_path / "out"
    (out / "question" / "fits").mkdir(parents=True)
    shutil.copy(fit_no_news.fit.file, out / "question" / "fits")
    result = update(fresh_question, NEWS[1], out=out, today=TODAY, engine="nuts")
    table = result.contributions()
    assert list(table["outcome"]) == ["khmeimim", "tartus", "all", "any"]
    assert (table["change_pp"] < 0).all()  # escalation lowers P(keep) (effect interval < 1)
    payload = result.to_dict()
    assert {"question", "as_of", "horizon", "bases", "joint", "diagnostics", "before",
            "item"} <= set(payload)
    assert payload["item"]["contribution"]["khmeimim"]["pp"] == pytest.approx(table["change_pp"][0])


def test_future_dated_item_in_ledger_file_is_refused(tmp_path, question):
    q = tmp_path / "q"
    shutil.copytree(question, q)
    config = load_question(q)
    with pytest.raises(LedgerError, match="date"):
        load_ledger(config, today=dt.date(2025, 5, 1))


def test_an_exact_update_weights_the_draws_it_already_has(tmp_path, fresh_question, monkeypatch):
    """A news update draws the priors once: the forecast after the item reuses the draws
    of the forecast before it (same priors, seed and number), and equals a fresh one."""
    from forecast.engine import exact_forecast
    from forecast.prior import Priors

    calls = []
    real = Priors.draw
    monkeypatch.setattr(Priors, "draw", lambda *a, **k: calls.append(1) or real(*a, **k))
    result = update(fresh_question, NEWS[1], out=tmp_path / "out", today=TODAY)
    assert result.before.engine == result.after.engine == "exact"
    assert len(calls) == 1
    config = load_question(fresh_question)
    fresh = exact_forecast(config, load_ledger(config, today=TODAY), as_of=TODAY)
    for key, est in fresh.probabilities().items():
        assert result.after.probabilities()[key].mean == est.mean


def test_a_misspelt_option_is_refused_before_anything_is_written(fresh_question, tmp_path):
    """``update(..., sed=1)`` is a TypeError naming the word and the options: neither a
    silently ignored seed nor an item entered."""
    ledger = fresh_question / "news.yaml"
    before = ledger.read_bytes()
    with pytest.raises(TypeError, match=r"sed; the options are out, today, seed"):
        update(fresh_question, NEWS[1], out=tmp_path / "out", today=TODAY, sed=1)
    assert ledger.read_bytes() == before


def test_a_scratch_copy_holds_the_same_inputs_and_refuses_an_existing_folder(config, tmp_path):
    from forecast.news import scratch_copy

    copy = scratch_copy(config, tmp_path)
    assert copy.directory == tmp_path / config.id
    assert copy.input_hash() == config.input_hash()
    assert load_ledger(copy) == load_ledger(config)
    with pytest.raises(FileExistsError):
        scratch_copy(config, tmp_path)
