"""forecast.analysis: scenarios, value of information, sensitivity, contributions, psense.

Fast and seeded: every forecast here comes from independent prior draws
(:func:`forecast.engine.prior_forecast`), reweighted exactly to the news where
needed, or from parameters built directly with NumPy; no MCMC.
"""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import NAMED, SEED, TODAY, store_fit_from_prior


@pytest.fixture(scope="module")
def prior_fc(config):
    from forecast.engine import prior_forecast

    return prior_forecast(config, seed=SEED)


@pytest.fixture(scope="module")
def news_fc(config, items, prior_fc):
    """The prior draws reweighted exactly to the news: a forecast with PSIS weights."""
    from forecast.engine import reweight
    from forecast.ledger import evidence_from

    fc = reweight(config, prior_fc.fit, evidence_from(config, items), TODAY)
    assert fc.weights is not None and fc.khat <= config.model.fast_path.khat_max
    return fc


def _brute_force_keep(fc, fixed: dict[int, int]) -> np.ndarray:
    """P(keep_b | fixed states, news) per draw, by an explicit loop over the free states."""
    par = fc.fit.params
    u, v = fc.evidence.per_draw(par.n)  # each draw's own ratios, (n, K) and (n, B)
    k = par.p_state.shape[1]
    log_total = []
    keep_terms = []
    for state in itertools.product((0, 1), repeat=k):
        if any(state[i] != x for i, x in fixed.items()):
            continue
        s = np.array(state, dtype=float)
        log_ps = (np.log(par.p_state) * s + np.log1p(-par.p_state) * (1 - s)).sum(axis=1)
        eta = np.log(par.p_base / (1 - par.p_base)) + par.beta @ s  # (n, B)
        p = 1 / (1 + np.exp(-eta))
        lam = par.coupling  # the bases: independent (1 - lam) or one decision (lam)
        ind = np.prod(p * np.exp(v) + (1 - p), axis=1)  # (n,) P_ind(outcome news | S)
        ind_keep = p * np.exp(v) * (ind[:, None] / (p * np.exp(v) + (1 - p)))
        lo, hi = p.min(axis=1), p.max(axis=1)
        e_hi = np.exp(np.where(p[:, 0] <= p[:, 1], v[:, 1], v[:, 0]))
        both = lo * np.exp(v.sum(axis=1))
        com = both + (hi - lo) * e_hi + (1 - hi)
        com_keep = np.stack([np.where(p[:, 0] <= p[:, 1], both, both + (hi - lo) * e_hi),
                             np.where(p[:, 0] <= p[:, 1], both + (hi - lo) * e_hi, both)], 1)
        news_given_s = (1 - lam) * ind + lam * com
        log_joint = log_ps + u @ s + np.log(news_given_s)
        log_total.append(log_joint)
        keep_terms.append(((1 - lam) * ind_keep + lam * com_keep) / news_given_s[:, None])
    log_total = np.array(log_total)  # (M, n)
    w = np.exp(log_total - log_total.max(axis=0))
    w /= w.sum(axis=0)
    return np.einsum("mn,mnb->nb", w, np.array(keep_terms))


def test_scenario_equals_brute_force_conditional(news_fc):
    from forecast.analysis import scenarios

    table = scenarios(news_fc, NAMED)
    per_draw = _brute_force_keep(news_fc, {0: 1})  # assad_extradition is variable 0
    w = news_fc.weights / news_fc.weights.sum()
    rows = table[table["scenario"] == "Russia extradites Assad"].set_index("outcome")
    for i, base in enumerate(news_fc.config.bases):
        assert rows.loc[base, "p"] == pytest.approx(float(w @ per_draw[:, i]), abs=1e-10)
    # the named combination and the one-at-a-time row are the same intervention
    same = table[table["scenario"] == "Russia extradites Assad: yes"].set_index("outcome")
    assert np.allclose(same["p"], rows["p"])
    # the baseline is the forecast itself, and carries the interval and word
    base = table[table["kind"] == "baseline"].set_index("outcome")
    for key, est in news_fc.probabilities().items():
        assert base.loc[key, "p"] == pytest.approx(est.mean, abs=1e-12)
        assert base.loc[key, "lower"] <= base.loc[key, "p"] <= base.loc[key, "upper"]
    n_var = len(news_fc.config.variables)
    assert table["scenario"].nunique() == 1 + len(NAMED) + 2 * n_var
    assert set(table["word"]) <= {"almost no chance", "very unlikely", "unlikely",
                                  "roughly even chance", "likely", "very likely",
                                  "almost certain"}


def test_scenario_refuses_unknown_variable(news_fc):
    from forecast.analysis import scenarios

    with pytest.raises(ValueError, match="unknown evidence variable"):
        scenarios(news_fc, {"bad": {"no_such_variable": 1}})
    with pytest.raises(ValueError, match="0 or 1"):
        scenarios(news_fc, {"bad": {"escalation": 2}})


def test_voi_is_zero_for_a_variable_without_effect(prior_fc):
    from forecast.analysis import value_of_information
    from forecast.exact import Params, enumerate_states

    rng = np.random.default_rng(SEED)
    n, k, b = prior_fc.fit.params.n, len(prior_fc.config.variables), len(prior_fc.config.bases)
    beta = rng.normal(0.0, 1.5, size=(n, b, k))
    beta[:, :, 2] = 0.0
    params = Params(rng.beta(2, 3, size=(n, k)), rng.beta(3, 3, size=(n, b)), beta)
    fit = dataclasses.replace(prior_fc.fit, params=params)
    ev = prior_fc.evidence
    values = enumerate_states(params, ev.state_loglr, ev.outcome_loglr)
    fc = dataclasses.replace(prior_fc, fit=fit, values=values)
    table = value_of_information(fc)
    null = table[table["variable"] == prior_fc.config.variables[2]]
    assert np.all(np.abs(null["voi_pp"]) < 1e-9)
    others = table[table["variable"] != prior_fc.config.variables[2]]
    assert np.all(others["voi_pp"] > 0.1)
    # the identity behind it, per draw: P(keep) = q P(keep | yes) + (1 - q) P(keep | no)
    yes = enumerate_states(params, ev.state_loglr, ev.outcome_loglr, fix={0: 1}).p_keep
    no = enumerate_states(params, ev.state_loglr, ev.outcome_loglr, fix={0: 0}).p_keep
    q = values.p_state[:, [0]]
    assert np.allclose(q * yes + (1 - q) * no, values.p_keep, atol=1e-12)


def _question_with_prior(src: Path, tmp: Path, parameter: str, prior: dict) -> Path:
    """A copy of the question whose ``parameter`` prior is replaced by ``prior`` (a dist)."""
    target = tmp / "changed"
    shutil.copytree(src, target, ignore=shutil.ignore_patterns("news.yaml*"))
    kind, var = parameter.rstrip("]").split("[")
    name, entries, key = {"p_state": ("evidence.yaml", "variables", "prior"),
                          "effect": ("evidence.yaml", "variables", "effect"),
                          "p_base": ("question.yaml", "outcomes", "baseline")}[kind]
    data = yaml.safe_load((target / name).read_text())
    spec = next(v for v in data[entries] if v["id"] == var)
    spec[key] = {"dist": prior, "rationale": "sensitivity test", "source": "test"}
    (target / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@pytest.mark.parametrize(("parameter", "end"), [("p_state[basing_agreement]", "high"),
                                                 ("effect[basing_agreement]", "low")])
def test_sensitivity_reweighting_matches_direct_prior_draws(question, config, prior_fc, tmp_path,
                                                             parameter, end):
    """Reweighted prior draws agree with fresh draws from the changed prior.

    Tolerance: 4 standard errors of the difference, sqrt(MCSE_rw^2 + MCSE_direct^2)
    (the two estimates use independent draws); the move itself must exceed that
    tolerance, so the check has power.
    """
    from forecast.analysis import sensitivity, shifted_priors
    from forecast.config import load_question
    from forecast.engine import prior_forecast

    table = sensitivity(config, [], forecast=prior_fc)
    case = next(c for c in shifted_priors(config)
                if c["parameter"] == parameter and c["end"] == end)
    prior = case["prior"].to_dict()
    changed = load_question(_question_with_prior(question, tmp_path, parameter, prior))
    direct = prior_forecast(changed, seed=SEED + 1).probabilities()
    rows = table[(table["parameter"] == parameter) & (table["end"] == end)].set_index("outcome")
    for outcome, est in direct.items():
        r = rows.loc[outcome]
        assert r["trusted"], r
        tolerance = 4 * np.hypot(r["mcse"], est.mcse)
        assert abs(r["p"] - est.mean) <= tolerance, (outcome, r["p"], est.mean, tolerance)
    assert abs(rows.loc["all", "change_pp"]) / 100 > 4 * np.hypot(rows.loc["all", "mcse"],
                                                                  direct["all"].mcse)


def test_sensitivity_falls_back_to_fresh_prior_draws_where_reweighting_fails(
        question, config, items, news_fc, tmp_path):
    """A tight prior pushed to its interval's end leaves the fit with too few draws there.

    Such a row is redone from fresh draws of the changed prior, weighted by the news
    (``method == "importance"``), and agrees with the same computation on a question
    whose file states that prior, with other draws: 4 standard errors of the difference.
    """
    from forecast.analysis import sensitivity, shifted_priors
    from forecast.config import load_question
    from forecast.engine import importance_forecast

    # below model.yaml's 0.7, so that the pushed priors whose k-hat lies between give rows
    # the fit's draws cannot carry (the fit is small: 2 x 1000 draws)
    khat_max = 0.45
    table = sensitivity(config, items, forecast=news_fc, include_items=False,
                        khat_max=khat_max)
    fell_back = table[table["method"] == "importance"]
    assert not fell_back.empty, table[["parameter", "end", "khat"]].drop_duplicates()
    assert (fell_back["khat_reweighted"] > khat_max).all()
    assert (fell_back["khat"] <= khat_max).all() and fell_back["trusted"].all()
    reweighted = table[table["method"] == "reweighted"]
    assert (reweighted["khat"] == reweighted["khat_reweighted"]).all()
    # without the fallback, the same rows are refused, not guessed
    bare = sensitivity(config, items, forecast=news_fc, include_items=False, fallback_draws=0,
                       khat_max=khat_max)
    refused = bare.set_index(["parameter", "end", "outcome"]).loc[
        fell_back.set_index(["parameter", "end", "outcome"]).index]
    assert not refused["trusted"].any() and refused["p"].isna().all()

    parameter, end = fell_back.iloc[0][["parameter", "end"]]
    case = next(c for c in shifted_priors(config)
                if c["parameter"] == parameter and c["end"] == end)
    prior = case["prior"].to_dict()
    changed = load_question(_question_with_prior(question, tmp_path, parameter, prior))
    direct = importance_forecast(changed, items, as_of=TODAY, seed=SEED + 1).probabilities()
    rows = fell_back[(fell_back["parameter"] == parameter)
                     & (fell_back["end"] == end)].set_index("outcome")
    for outcome, est in direct.items():
        r = rows.loc[outcome]
        tolerance = 4 * np.hypot(r["mcse"], est.mcse)
        assert abs(r["p"] - est.mean) <= tolerance, (outcome, r["p"], est.mean, tolerance)


def test_sensitivity_flags_untrusted_rows_and_covers_every_input(config, items, news_fc):
    from forecast.analysis import sensitivity, tornado_table

    table = sensitivity(config, items, forecast=news_fc)
    k, b = len(config.variables), len(config.bases)
    # every prior, the pooling scale, each item, and the bases' outcome dependence
    assert table["parameter"].nunique() == 2 * k + b + 1 + len(items) + 1
    assert set(table["end"]) == {"low", "high"}
    ok = table["khat"] <= config.model.fast_path.khat_max
    assert (table["trusted"] == ok).all()
    assert table.loc[~ok, "p"].isna().all() and table.loc[~ok, "p_untrusted"].notna().all()
    assert table.loc[ok, "p"].between(0, 1).all()
    strict = sensitivity(config, items, forecast=news_fc, khat_max=-1.0, include_items=False)
    assert not strict["trusted"].any() and strict["p"].isna().all()
    wide = tornado_table(table, "all")
    assert wide["swing_pp"].dropna().is_monotonic_decreasing
    # n4 (B3, 2.5: 1.83 once its credibility 0.55 mixes in) is the weaker repeat in its
    # cluster beside n3 (C3, 3.0: 1.91): weakened further it still counts for nothing,
    # doubled it becomes the cluster's strongest item and moves the forecast
    repeat = table[table["parameter"] == "news[n4]"].set_index("end")
    assert np.allclose(repeat.loc["low", "change_pp"], 0.0, atol=1e-9)
    assert np.all(np.abs(repeat.loc["high", "change_pp"]) > 0.1)


def test_contributions_add_up_to_the_forecast(news_fc, items, prior_fc):
    """Checked against forecasts made without the waterfall: step 0 is the no-news forecast
    and the items' credits sum to the move from it to the forecast with all the news (both
    computed here by the engine, not read off the table); and, the property a date- or
    recording-ordered waterfall fails, every item's credit is the same when the ledger is
    given in reverse order."""
    from forecast.analysis import contributions
    from forecast.engine import reweight
    from forecast.ledger import evidence_from

    table = contributions(news_fc, items)
    assert table["step"].max() == len(items)
    steps = list(table.drop_duplicates("step")["item"])
    assert steps[0] == "prior" and sorted(steps[1:]) == ["n1", "n2", "n3", "n4", "n5"]
    no_news = reweight(news_fc.config, prior_fc.fit, evidence_from(news_fc.config, []), TODAY)
    for outcome, est in news_fc.probabilities().items():
        rows = table[table["outcome"] == outcome]
        start = no_news.probabilities()[outcome].mean
        assert rows.loc[rows["step"] == 0, "after"].item() == pytest.approx(start, abs=1e-12)
        credits = rows.loc[rows["step"] > 0, "change_pp"]
        assert credits.sum() == pytest.approx(100 * (est.mean - start), abs=1e-9)
    reversed_fc = reweight(news_fc.config, prior_fc.fit,
                           evidence_from(news_fc.config, items[::-1]), TODAY)
    again = contributions(reversed_fc, items[::-1])
    key = ["item", "outcome"]
    np.testing.assert_allclose(
        again.set_index(key).sort_index()["change_pp"].to_numpy(),
        table.set_index(key).sort_index()["change_pp"].to_numpy(), atol=1e-9)


def test_power_scaling_on_a_stored_fit(config, tmp_path):
    from forecast.analysis import power_scaling
    from forecast.engine import compute

    store_fit_from_prior(config, [], tmp_path, pool=6000)
    fc = compute(config, [], out=tmp_path, as_of=TODAY, allow_fit=False, allow_reweight=False,
                 engine="nuts")
    table = power_scaling(fc)
    components = set(table["component"])
    assert {"all priors", "likelihood", "effect_sd"} <= components
    assert {f"p_state[{v}]" for v in config.variables} <= components
    assert table["sensitivity"].notna().all() and (table["sensitivity"] >= 0).all()
    # no news: the likelihood is flat, so it cannot move anything and is never flagged; the
    # priors are everything, so together they are flagged at the paper's threshold
    like = table[table["component"] == "likelihood"]
    assert np.all(like["sensitivity"] < 1e-6) and not like["flagged"].any()
    assert table[table["component"] == "all priors"]["flagged"].all()


def test_power_scaling_needs_a_stored_fit(prior_fc):
    from forecast.analysis import power_scaling

    with pytest.raises(ValueError, match="stored fit"):
        power_scaling(prior_fc)


def test_prior_densities_integrate_to_one(config):
    from forecast.analysis import prior_densities

    table = prior_densities(config)
    for parameter, rows in table.groupby("parameter"):
        x = np.log(rows["x"]) if parameter.startswith("effect") else rows["x"]
        assert np.trapezoid(rows["density"], x) == pytest.approx(1.0, abs=0.01), parameter
