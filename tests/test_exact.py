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

    tree = open_tree(fit_news.fit.path)
    post = tree["posterior"]
    fit = fit_news.fit
    want = enumerate_states(fit.params, fit.state_loglr, fit.outcome_loglr)
    np.testing.assert_allclose(post["p_keep"].values.reshape(-1, 2), want.p_keep, atol=1e-12)
    np.testing.assert_allclose(post["p_all"].values.reshape(-1), want.p_all, atol=1e-12)
    np.testing.assert_allclose(
        post["p_state_post"].values.reshape(-1, 5), want.p_state, atol=1e-12)
