"""The exact enumeration against an independent brute force, and the PyMC model against both."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from forecast.exact import Params, enumerate_states, log_likelihood, state_matrix


def brute_force(p_state, p_base, beta, u, v):
    """P(keep) per base, all, any and the news likelihood by explicit loops (one draw)."""
    k, b = len(p_state), len(p_base)
    total = 0.0
    keep = np.zeros(b)
    p_all = p_any = 0.0
    for s in itertools.product([0, 1], repeat=k):
        prior = math.prod(p if x else 1 - p for p, x in zip(p_state, s, strict=True))
        news_state = math.exp(sum(ui * x for ui, x in zip(u, s, strict=True)))
        for kept in itertools.product([0, 1], repeat=b):
            w = prior * news_state
            for j in range(b):
                eta = math.log(p_base[j] / (1 - p_base[j])) + sum(
                    beta[j][i] * s[i] for i in range(k))
                p = 1 / (1 + math.exp(-eta))
                w *= (p * math.exp(v[j])) if kept[j] else (1 - p)
            total += w
            keep += w * np.array(kept)
            p_all += w * all(kept)
            p_any += w * any(kept)
    return math.log(total), keep / total, p_all / total, p_any / total


def random_params(rng, n, k, b):
    return Params(
        p_state=rng.uniform(0.05, 0.95, size=(n, k)),
        p_base=rng.uniform(0.05, 0.95, size=(n, b)),
        beta=rng.normal(0, 1.5, size=(n, b, k)),
    )


def test_state_matrix_lists_every_state_once():
    s = state_matrix(4)
    assert s.shape == (16, 4)
    assert len({tuple(r) for r in s}) == 16


@pytest.mark.parametrize(("k", "b"), [(1, 1), (3, 2), (5, 2), (4, 3)])
def test_enumeration_matches_brute_force(k, b):
    rng = np.random.default_rng(k * 10 + b)
    params = random_params(rng, 6, k, b)
    u, v = rng.normal(0, 1, size=k), rng.normal(0, 1, size=b)
    got = enumerate_states(params, u, v)
    for i in range(params.n):
        loglik, keep, p_all, p_any = brute_force(
            params.p_state[i], params.p_base[i], params.beta[i], u, v)
        assert got.loglik[i] == pytest.approx(loglik, abs=1e-10)
        np.testing.assert_allclose(got.p_keep[i], keep, atol=1e-12)
        assert got.p_all[i] == pytest.approx(p_all, abs=1e-12)
        assert got.p_any[i] == pytest.approx(p_any, abs=1e-12)


def test_no_news_gives_the_prior_predictive():
    """With no news the state posterior is the prior and the likelihood is 1."""
    rng = np.random.default_rng(0)
    params = random_params(rng, 50, 3, 2)
    got = enumerate_states(params, np.zeros(3), np.zeros(2))
    np.testing.assert_allclose(got.loglik, 0.0, atol=1e-12)
    np.testing.assert_allclose(got.p_state, params.p_state, atol=1e-12)


def test_intervention_fixes_the_state():
    rng = np.random.default_rng(1)
    params = random_params(rng, 20, 3, 2)
    fixed = enumerate_states(params, np.zeros(3), np.zeros(2), fix={0: 1})
    np.testing.assert_allclose(fixed.p_state[:, 0], 1.0)
    # With one state fixed and no news the others keep their priors.
    np.testing.assert_allclose(fixed.p_state[:, 1:], params.p_state[:, 1:], atol=1e-12)


def test_chunking_does_not_change_results(monkeypatch):
    import forecast.exact as exact

    rng = np.random.default_rng(2)
    params = random_params(rng, 300, 4, 2)
    u, v = rng.normal(size=4), rng.normal(size=2)
    whole = enumerate_states(params, u, v)
    monkeypatch.setattr(exact, "_CHUNK_ELEMENTS", 50)
    parts = enumerate_states(params, u, v)
    np.testing.assert_allclose(whole.p_keep, parts.p_keep, atol=1e-14)


@pytest.mark.parametrize("outcome_news", [False, True])
def test_log_likelihood_alone_matches_the_full_enumeration(outcome_news):
    """Without outcome news the closed form sum_k log(1 - pi + pi e^u); with it, enumeration."""
    rng = np.random.default_rng(3)
    params = random_params(rng, 200, 6, 2)
    u = rng.normal(0, 1.5, size=6)
    v = rng.normal(0, 1, size=2) if outcome_news else np.zeros(2)
    full = enumerate_states(params, u, v).loglik
    np.testing.assert_allclose(log_likelihood(params, u, v), full, atol=1e-12)
    if not outcome_news:
        closed = np.log(1 - params.p_state + params.p_state * np.exp(u)).sum(axis=1)
        np.testing.assert_allclose(full, closed, atol=1e-12)


def test_extreme_values_stay_finite():
    """Huge effects and ratios: no overflow, probabilities in [0, 1], weights summing to one."""
    rng = np.random.default_rng(4)
    params = Params(rng.uniform(1e-6, 1 - 1e-6, size=(40, 4)),
                    rng.uniform(1e-6, 1 - 1e-6, size=(40, 2)),
                    rng.normal(0, 400, size=(40, 2, 4)))
    got = enumerate_states(params, rng.normal(0, 30, size=4), np.array([25.0, -25.0]))
    for a in (got.loglik, got.p_keep, got.p_all, got.p_any, got.p_state):
        assert np.isfinite(a).all()
    for a in (got.p_keep, got.p_all, got.p_any, got.p_state):
        assert (a >= -1e-12).all() and (a <= 1 + 1e-12).all()
    assert (got.p_all <= got.p_keep.min(axis=1) + 1e-12).all()
    assert (got.p_any >= got.p_keep.max(axis=1) - 1e-12).all()


def test_pymc_deterministics_equal_numpy_enumeration(fit_news):
    """The PyTensor sums in the model and the NumPy sums agree draw by draw.

    The sampler sees each ratio at its centre (the fit's stored evidence); the draws'
    own uncertain ratios enter afterwards, by weights, so the comparison is at the centre.
    """
    from forecast.store import open_tree

    tree = open_tree(fit_news.fit.file)
    post = tree["posterior"]
    fit = fit_news.fit
    want = enumerate_states(fit.params, fit.state_loglr, fit.outcome_loglr)
    np.testing.assert_allclose(post["p_keep"].values.reshape(-1, 2), want.p_keep, atol=1e-12)
    np.testing.assert_allclose(post["p_all"].values.reshape(-1), want.p_all, atol=1e-12)
    np.testing.assert_allclose(
        post["p_state_post"].values.reshape(-1, 5), want.p_state, atol=1e-12)


# ------------------------------------------------------------------ linked outcomes


def _params(seed=3, n=300, k=3, b=2, coupling=0.0):
    rng = np.random.default_rng(seed)
    return Params(rng.uniform(0.05, 0.95, size=(n, k)), rng.uniform(0.1, 0.9, size=(n, b)),
                  rng.normal(0, 1.2, size=(n, b, k)), coupling)


def _brute_coupled(params, u, v):
    """P(keep_b), P(all), P(any) per draw by summing every state and every joint outcome."""
    n, b, k = params.beta.shape
    lam = params.coupling
    total = np.zeros(n)
    keep, every, anyk = np.zeros((n, b)), np.zeros(n), np.zeros(n)
    for state in itertools.product((0, 1), repeat=k):
        s = np.array(state, float)
        prior = np.prod(np.where(s == 1, params.p_state, 1 - params.p_state), axis=1)
        q = 1 / (1 + np.exp(-(np.log(params.p_base / (1 - params.p_base)) + params.beta @ s)))
        for kept in itertools.product((0, 1), repeat=b):
            kv = np.array(kept, float)
            ind = np.prod(np.where(kv == 1, q, 1 - q), axis=1)
            # comonotone: P(exactly this set kept) = length of U's interval giving it
            lo = np.max(np.where(kv == 1, 0.0, q), axis=1)  # U above every dropped q
            hi = np.min(np.where(kv == 1, q, 1.0), axis=1)  # U below every kept q
            com = np.clip(hi - lo, 0.0, None)
            joint = prior * np.exp(s @ u) * ((1 - lam) * ind + lam * com) * np.exp(kv @ v)
            total += joint
            keep += joint[:, None] * kv
            every += joint * kv.all()
            anyk += joint * kv.any()
    return keep / total[:, None], every / total, anyk / total, np.log(total)


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("v", [(0.0, 0.0), (1.2, -0.7), (0.5, -1.1, 0.8)])
def test_linked_outcomes_equal_brute_force(lam, v):
    """Mixing independence and one-bargain comonotonicity, summed out by brute force
    (two bases by the closed form, three by the general sorted sums)."""
    params = _params(coupling=lam, b=len(v))
    u, v = np.array([0.4, -0.3, 0.9]), np.array(v)
    got = enumerate_states(params, u, v)
    keep, every, anyk, loglik = _brute_coupled(params, u, v)
    np.testing.assert_allclose(got.p_keep, keep, atol=1e-12)
    np.testing.assert_allclose(got.p_all, every, atol=1e-12)
    np.testing.assert_allclose(got.p_any, anyk, atol=1e-12)
    # the likelihood differs from the brute force by a constant only
    np.testing.assert_allclose(got.loglik - loglik, (got.loglik - loglik)[0], atol=1e-10)
    np.testing.assert_allclose(log_likelihood(params, u, v) - loglik,
                               (got.loglik - loglik)[0], atol=1e-10)


def test_outcome_dependence_keeps_each_base_and_moves_only_the_joint():
    """Zero dependence (the rule until 2026-12-01) is today's numbers; full dependence
    makes P(both | states) the smaller of the two; each base's own P(keep) never moves."""
    u, v = np.array([0.4, -0.3, 0.9]), np.zeros(2)
    runs = {lam: enumerate_states(_params(coupling=lam), u, v) for lam in (0.0, 0.5, 1.0)}
    for lam in (0.5, 1.0):
        np.testing.assert_allclose(runs[lam].p_keep, runs[0.0].p_keep, atol=1e-12)
    assert np.all(runs[0.0].p_all <= runs[0.5].p_all + 1e-12)
    assert np.all(runs[0.5].p_all <= runs[1.0].p_all + 1e-12)
    assert np.all(runs[1.0].p_all <= runs[1.0].p_keep.min(axis=1) + 1e-12)
    assert np.all(runs[1.0].p_any >= runs[1.0].p_keep.max(axis=1) - 1e-12)
    # with no evidence variables at all, full dependence gives P(both) = min exactly
    one = Params(np.full((5, 1), 1e-12), np.array([[0.3, 0.8]] * 5),
                 np.zeros((5, 2, 1)), 1.0)
    np.testing.assert_allclose(enumerate_states(one, np.zeros(1), np.zeros(2)).p_all, 0.3,
                               atol=1e-9)


def test_the_pymc_model_couples_the_outcomes_as_numpy_does(tmp_path):
    """The PyTensor statement of the mixture equals the NumPy one at a point of the model."""
    import yaml

    from conftest import make_question
    from forecast.config import load_question
    from forecast.ledger import evidence_from, parse_item
    from forecast.model import build_model

    q = make_question(tmp_path, news=[])
    model_yaml = yaml.safe_load((q / "model.yaml").read_text())
    model_yaml["outcome_dependence"]["value"] = 0.6
    (q / "model.yaml").write_text(yaml.safe_dump(model_yaml, sort_keys=False))
    config = load_question(q)
    items = [parse_item({"id": "a", "date": "2025-06-01", "headline": "h", "source": "s",
                         "reliability": "A1", "bears_on": "khmeimim", "lr": 3.0}),
             parse_item({"id": "b", "date": "2025-06-01", "headline": "h", "source": "s",
                         "reliability": "A1", "bears_on": "escalation", "lr": 2.0})]
    ev = evidence_from(config, items)
    model = build_model(config, ev)
    names = ["p_state", "p_base", "beta", "p_keep", "p_all", "p_any"]
    import pytensor

    outs = model.replace_rvs_by_values([model[n] for n in names])
    fn = pytensor.function(model.value_vars, outs, on_unused_input="ignore")
    point = model.initial_point()
    values = [point[v.name] + 0.3 for v in model.value_vars]  # off the symmetric start
    out = dict(zip(names, fn(*values), strict=True))
    params = Params(out["p_state"][None], out["p_base"][None], out["beta"][None], 0.6)
    got = enumerate_states(params, ev.state_loglr, ev.outcome_loglr)
    np.testing.assert_allclose(got.p_keep[0], out["p_keep"], atol=1e-10)
    np.testing.assert_allclose(got.p_all[0], out["p_all"], atol=1e-10)
    np.testing.assert_allclose(got.p_any[0], out["p_any"], atol=1e-10)
