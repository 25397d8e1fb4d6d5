"""Statistical checks of the sampled forecast.

Tolerances: differences are compared with 4 combined Monte Carlo standard
errors (a false alarm about 1 in 16,000 per comparison when the errors are
normal), and in absolute terms with the issue's targets.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.elicit import prior_draws
from forecast.engine import params_prior, reweight
from forecast.exact import enumerate_states

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


def test_untrusted_reweighting_falls_back_to_a_refit(config, items, fit_no_news, fit_news,
                                                     tmp_path, monkeypatch):
    """The engine's decision: reweight while Pareto k-hat allows, else refit, and say so.

    The threshold is set below any k-hat so that the no-news fit cannot stand for the news; the
    refit itself is the session's real fit with the news (no new MCMC here)."""
    import forecast.engine as engine
    from forecast.config import FastPath
    from forecast.engine import NeedsRefitError, compute

    # k-hat can be negative for benign weights: below any k-hat, unvalidated on purpose
    strict = config.model_copy(update={"model": config.model.model_copy(
        update={"fast_path": FastPath.model_construct(khat_max=-10.0)})})
    out = tmp_path / "out"
    base = [fit_no_news.fit]
    trusted = compute(config, items, out=out, as_of=fit_news.as_of, reweight_from=base,
                      allow_fit=False, engine="nuts")
    assert trusted.path == "reweighted" and trusted.khat <= config.model.fast_path.khat_max
    with pytest.raises(NeedsRefitError, match=r"not trusted \(Pareto k-hat"):
        compute(strict, items, out=out, as_of=fit_news.as_of, reweight_from=base,
                allow_fit=False, engine="nuts")
    calls = []

    def fake_run_fit(cfg, evidence, **kwargs):
        calls.append(evidence.item_ids)
        return fit_news.fit

    monkeypatch.setattr(engine, "run_fit", fake_run_fit)
    refit = compute(strict, items, out=out, as_of=fit_news.as_of, reweight_from=base, engine="nuts")
    assert refit.path == "fit" and calls == [fit_news.evidence.item_ids]
    assert any("not trusted" in note and "refitting" in note for note in refit.notes)
    # the refit's own draws, weighted only for the news items' uncertain ratios (exactly,
    # on top of the centres the sampler saw), which the fit's draws carry easily
    assert refit.khat <= 0.3
