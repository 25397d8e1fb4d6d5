"""forecast.prior: the one statement of the question's prior, checked against PyMC and SciPy.

The old code carried priors as nested dicts (``pr["p_state"]["kwargs"]["alpha"]``) and wrote
their densities, draws and quantiles in five places; here every number comes from one
object, so each is checked against an independent implementation: PyMC's ``logp`` of the
variable the pymc-extras ``Prior`` creates, SciPy's distributions summed by hand, and the
moments of the draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from forecast.elicit import constrain
from forecast.prior import Dist, LinearPool, Priors, slot_from_dict

BETA = Dist("Beta", {"alpha": [6.0, 2.5, 1.2], "beta": [3.0, 4.0, 1.2]}, dims=("base",))
NORMAL = Dist("Normal", {"mu": [-1.0, 0.3], "sigma": [0.5, 0.8]}, dims=("evidence",))
HALF = Dist("HalfNormal", {"sigma": 0.4})


@pytest.mark.parametrize("dist", [BETA, NORMAL, HALF], ids=lambda d: d.distribution)
def test_a_dist_is_a_pymc_extras_prior_and_back(dist):
    prior = dist.to_prior()
    assert prior.distribution == dist.distribution
    assert tuple(prior.dims or ()) == dist.dims
    assert prior.to_dict() == dist.to_dict()  # the same dict pymc-extras writes
    assert Dist.from_prior(prior) == dist
    assert Dist.from_dict(prior.to_dict()) == dist


@pytest.mark.parametrize(("dist", "x"), [
    (BETA, np.array([0.2, 0.55, 0.97])),
    (NORMAL, np.array([-2.0, 1.1])),
    (HALF, np.array(0.33)),
], ids=["Beta", "Normal", "HalfNormal"])
def test_densities_are_pymcs_logp_of_the_variable_the_prior_creates(dist, x):
    import pymc as pm

    coords = {"base": range(3), "evidence": range(2)}
    with pm.Model(coords=coords) as model:
        dist.create_variable("v")
    assert pm.logp(model["v"], x).eval() == pytest.approx(dist.logpdf(x), rel=1e-9)


def test_a_linear_pools_density_is_pymcs_mixture():
    import pymc as pm

    pool = LinearPool(BETA, BETA.with_entry(0, alpha=1.5, beta=6.0), [0.3, 0.5, 0.9])
    with pm.Model(coords={"base": range(3)}) as model:
        pool.create_variable("v")
    x = np.array([0.2, 0.6, 0.4])
    assert pm.logp(model["v"], x).eval() == pytest.approx(pool.logpdf(x), rel=1e-9)
    # and against SciPy summed by hand
    e, r = BETA.parameters, pool.reference.parameters
    w = pool.weight
    hand = np.log((1 - w) * stats.beta.pdf(x, e["alpha"], e["beta"])
                  + w * stats.beta.pdf(x, r["alpha"], r["beta"]))
    assert pool.logpdf(x) == pytest.approx(hand, rel=1e-12)


def test_a_pools_quantiles_invert_its_cdf_and_its_mean_is_the_weighted_mean():
    pool = LinearPool(NORMAL, NORMAL.with_entry(1, mu=2.5), [0.5, 0.5])
    lo, med, hi = pool.quantiles(1, [0.05, 0.5, 0.95])
    cdf = [0.5 * stats.norm.cdf(t, 0.3, 0.8) + 0.5 * stats.norm.cdf(t, 2.5, 0.8)
           for t in (lo, med, hi)]
    assert cdf == pytest.approx([0.05, 0.5, 0.95], abs=1e-9)
    assert pool.mean(1) == pytest.approx(0.5 * 0.3 + 0.5 * 2.5)
    # entry 0's components agree: the pool is its component exactly
    assert pool.quantiles(0, [0.1, 0.9]) == pytest.approx(NORMAL.quantiles(0, [0.1, 0.9]))
    assert not pool.mixed()[0] and pool.mixed()[1]


def test_draws_have_the_priors_moments():
    """Each slot's draws: means and sds within 4.5 standard errors of the distribution's."""
    pool = LinearPool(BETA, BETA.with_entry(2, alpha=9.0, beta=1.0), [0.4, 0.4, 0.4])
    priors = Priors(p_state=NORMAL_AS_BETA, p_base=pool, effect_mu=NORMAL, effect_sd=HALF)
    n = 60_000
    draws = priors.draw(n, seed=4)
    assert draws["p_state"].shape == (n, 2) and draws["beta"].shape == (n, 3, 2)
    x = draws["p_base"][:, 2]
    want = 0.6 * stats.beta(1.2, 1.2).mean() + 0.4 * stats.beta(9.0, 1.0).mean()
    assert abs(x.mean() - want) < 4.5 * x.std() / np.sqrt(n)
    # beta = mu + sd z: its mean is mu's and its variance sigma^2 + E[sd^2] = sigma^2 + 0.4^2
    b = draws["beta"][:, 0, 1]
    assert abs(b.mean() - 0.3) < 4.5 * b.std() / np.sqrt(n)
    assert b.var() == pytest.approx(0.8**2 + 0.4**2, rel=0.03)
    # the seed decides the draws (their reproducibility across processes is checked by
    # tests/system/test_faults.py)
    assert not np.array_equal(draws["p_base"], priors.draw(n, seed=5)["p_base"])


NORMAL_AS_BETA = Dist("Beta", {"alpha": [2.0, 5.0], "beta": [2.0, 1.0]}, dims=("evidence",))


def test_priors_round_trip_through_their_dict():
    pool = LinearPool(BETA, BETA.with_entry(1, alpha=3.0), [0.5, 0.5, 0.5])
    priors = Priors(NORMAL_AS_BETA, pool, NORMAL, HALF)
    again = Priors.from_dict(priors.to_dict())
    assert again == priors
    assert isinstance(slot_from_dict(pool.to_dict()), LinearPool)
    assert again != priors.replace(effect_sd=Dist("HalfNormal", {"sigma": 0.5}))


def test_constrain_puts_the_mass_in_the_interval(tmp_path, monkeypatch):
    """The maxent fit (pymc-extras' Prior.constrain) and its disk cache agree."""
    import forecast.elicit as prior

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    prior._constrained.cache_clear()
    fitted = constrain("Beta", 0.3, 0.75, 0.9)
    a, b = fitted.parameters["alpha"], fitted.parameters["beta"]
    assert stats.beta.cdf(0.75, a, b) - stats.beta.cdf(0.3, a, b) == pytest.approx(0.9, abs=0.005)
    assert prior._cache_file().exists()
    prior._constrained.cache_clear()  # now from the file
    monkeypatch.setattr(prior, "_fit", lambda *a: pytest.fail("refitted despite the cache"))
    assert constrain("Beta", 0.3, 0.75, 0.9) == fitted
    prior._constrained.cache_clear()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: Dist("Gamma", {"alpha": 1.0, "beta": 1.0}), "unknown distribution 'Gamma'"),
    (lambda: Dist("Beta", {"alpha": 1.0}), "Beta takes"),
    (lambda: Dist("Normal", {"mu": [0.0, 1.0], "sigma": [1.0]}), "differ in shape"),
    (lambda: LinearPool(BETA, NORMAL, 0.5), "share a family"),
    (lambda: LinearPool(BETA, BETA, 1.5), r"in \[0, 1\]"),
])
def test_malformed_priors_are_refused_with_a_reason(call, message):
    with pytest.raises(ValueError, match=message):
        call()
