"""Statistical checks of the sampled forecast.

Tolerances: differences are compared with 4 combined Monte Carlo standard
errors (a false alarm about 1 in 16,000 per comparison when the errors are
normal), and in absolute terms with the issue's targets.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.engine import params_prior, reweight
from forecast.exact import enumerate_states
from forecast.model import prior_draws

N_PRIOR = 200_000


@pytest.fixture(scope="module")
def prior_mc(config):
    return params_prior(prior_draws(config, N_PRIOR, seed=7))


def _mc_reference(prior_mc, evidence):
    """Posterior means by plain Monte Carlo from the prior, weighted by the news likelihood."""
    e = enumerate_states(prior_mc, evidence.state_loglr, evidence.outcome_loglr)
    w = np.exp(e.loglik - e.loglik.max())
    w /= w.sum()
    means, ses = [], []
    for x in [*e.p_keep.T, e.p_all, e.p_any]:
        m = float(np.dot(w, x))
        means.append(m)
        ses.append(float(np.sqrt(np.sum(w**2 * (x - m) ** 2))))  # delta-method SE
    return np.array(means), np.array(ses)


def _sampled(forecast):
    probs = forecast.probabilities()
    keys = [*forecast.config.bases, "all", "any"]
    return (np.array([probs[k].mean for k in keys]), np.array([probs[k].mcse for k in keys]))


@pytest.mark.parametrize("which", ["fit_no_news", "fit_news"])
def test_sampled_forecast_agrees_with_exact_monte_carlo(which, prior_mc, request):
    forecast = request.getfixturevalue(which)
    assert forecast.path == "fit" or forecast.path == "cached"
    exact, se_exact = _mc_reference(prior_mc, forecast.evidence)
    sampled, mcse = _sampled(forecast)
    tol = 4 * np.sqrt(se_exact**2 + mcse**2)
    assert np.all(np.abs(sampled - exact) < tol), (sampled, exact, tol)


def test_news_moves_the_forecast(fit_no_news, fit_news):
    """The NEWS ledger is not neutral: a test that cannot fail would hide a broken likelihood."""
    a, _ = _sampled(fit_no_news)
    b, _ = _sampled(fit_news)
    assert np.max(np.abs(a - b)) > 0.01


def test_fast_path_agrees_with_full_refit(config, fit_no_news, fit_news):
    """Reweighting the no-news fit to the news equals refitting with the news."""
    fast = reweight(config, fit_no_news.fit, fit_news.evidence, fit_news.as_of)
    assert fast.khat <= config.model.fast_path.khat_max
    a, mcse_a = _sampled(fast)
    b, mcse_b = _sampled(fit_news)
    assert np.all(np.abs(a - b) < 4 * np.sqrt(mcse_a**2 + mcse_b**2))
    assert np.all(np.abs(a - b) < 0.01)


def test_fit_passes_the_convergence_gate(fit_news):
    d = fit_news.fit.diagnostics
    assert d["passed"], d["failures"]
    assert d["r_hat_max"] <= 1.01
    assert d["divergences"] == 0
