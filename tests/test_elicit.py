"""Pooling that shows disagreement (issue 14, part 6): the linear pool beside the log-linear.

Under ``prior_source: both`` with ``prior_pool.method: linear`` the base rates and the
linked effects are the mixtures ``(1-w) f_elicited + w f_reference`` (Stone 1961;
Genest & Zidek 1986); with ``log_linear`` they are ``f_e^(1-w) f_r^w``, renormalised.
The reference-class priors here are synthetic (a stand-in for ``reference_priors.yaml``,
set on the loaded config), so these tests do not depend on a reference-class fit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import BaseModel
from scipy import stats

from conftest import make_question
from forecast.config import LinkedEffect, LinkedPrior, PriorPool, load_question
from forecast.elicit import resolved_priors
from forecast.prior import Dist, LinearPool

#: The synthetic reference class: a base rate of about 0.8, and escalation (elicited as
#: an odds ratio in [0.15, 0.80], i.e. bad for the bases) RAISING them 3.5-fold.
REF_BASE = {"alpha": 16.0, "beta": 4.0}
REF_ESCALATION = {"mu": math.log(3.5), "sigma": 0.35}


class _Link(BaseModel):
    """The part of ``reference_priors.yaml`` the priors read (baseline, effects)."""

    baseline: LinkedPrior
    effects: dict[str, LinkedEffect]


def _link() -> _Link:
    base = LinkedPrior(dist={"dist": "Beta", "kwargs": REF_BASE}, mean=0.8, lower=0.64,
                       upper=0.93, rationale="synthetic")
    esc = LinkedEffect(dist={"dist": "Normal", "kwargs": REF_ESCALATION}, mean=REF_ESCALATION["mu"],
                       lower=0.52, upper=1.67, rationale="synthetic", feature="violence",
                       negate=False)
    return _Link(baseline=base, effects={"escalation": esc})


def with_link(config, source: str, method: str = "linear", weight: float = 0.5):
    """``config`` with the synthetic reference priors, ``prior_source`` and ``prior_pool``."""
    pool = PriorPool(method=method, weight=weight, rationale="test")
    model = config.model.model_copy(update={"prior_source": source, "prior_pool": pool})
    hashes = dict(config.file_hashes, prior_source=source, pool=f"{method}-{weight}")
    return config.model_copy(update={"linked": _link(), "model": model, "file_hashes": hashes,
                                     "link_problems": ()})


@pytest.fixture(scope="module")
def base_config(tmp_path_factory):
    return load_question(make_question(tmp_path_factory.mktemp("pool"), news=[]))


def test_the_pool_rule_is_schema_validated(base_config):
    with pytest.raises(ValueError, match="log_linear"):
        PriorPool.model_validate({"method": "arithmetic", "weight": 0.5, "rationale": "x"})
    with pytest.raises(ValueError, match="less than 1"):
        PriorPool.model_validate({"method": "linear", "weight": 1.0, "rationale": "x"})
    with pytest.raises(ValueError, match="Extra inputs"):
        PriorPool.model_validate({"method": "linear", "weight": 0.5, "rationale": "x",
                                  "colour": "blue"})
    assert base_config.model.prior_pool.method == "log_linear"  # the shipped choice
    assert base_config.model.reference_weight == base_config.model.prior_pool.weight


def test_linear_pool_keeps_both_modes_where_the_log_linear_pool_covers_neither(base_config):
    """The property the log-linear rule fails: an elicited odds ratio below 1 pooled with
    a reference one above 1.

    Elicited: escalation's odds ratio in [0.15, 0.80] (90%), median about 0.35.
    Reference: median 3.5, 90% in about [2.0, 6.2]. The old rule (log-linear, w = 0.5)
    gives a Normal on the log odds ratio with median about exp(0.51) = 1.7 and 90% interval
    about [0.85, 3.3]: narrower than the analysts' own, a confident "no effect to speak of"
    that neither source holds, covering neither median. The linear pool's 90% interval
    covers both medians, and its density has two modes, one at each.
    """
    k = base_config.variables.index("escalation")
    elicited = resolved_priors(base_config).effect_mu
    e_median = float(elicited.parameters["mu"][k])
    r_median = REF_ESCALATION["mu"]
    assert math.exp(e_median) < 1 < math.exp(r_median)

    old = resolved_priors(with_link(base_config, "both", "log_linear")).effect_mu
    assert isinstance(old, Dist)
    lo, hi = stats.norm(old.parameters["mu"][k], old.parameters["sigma"][k]).ppf([0.05, 0.95])
    assert not lo <= e_median <= hi and not lo <= r_median <= hi  # covers neither
    assert hi - lo < 2 * 1.645 * elicited.parameters["sigma"][k]  # surer than the analysts
    assert 0.8 < math.exp(lo) < 0.9 and 3.0 < math.exp(hi) < 3.5  # about [0.85, 3.3]

    new = resolved_priors(with_link(base_config, "both", "linear")).effect_mu
    assert isinstance(new, LinearPool)
    entry = new.entry(k)
    lo, hi = entry.quantiles(0, [0.05, 0.95])
    assert lo < e_median and r_median < hi  # covers both
    # the quantiles against the mixture's CDF, summed here from scipy's two Normals
    w = 0.5
    mix_cdf = [(1 - w) * stats.norm.cdf(x, e_median, elicited.parameters["sigma"][k])
               + w * stats.norm.cdf(x, r_median, REF_ESCALATION["sigma"]) for x in (lo, hi)]
    assert mix_cdf == pytest.approx([0.05, 0.95], abs=1e-9)
    t = np.linspace(-4, 4, 4001)
    dens = np.exp(entry.logpdf(t))
    peaks = np.flatnonzero((dens[1:-1] > dens[:-2]) & (dens[1:-1] > dens[2:])) + 1
    assert len(peaks) == 2  # bimodal
    assert t[peaks] == pytest.approx([e_median, r_median], abs=0.1)
    # variables the reference class does not inform keep their elicited prior exactly
    j = base_config.variables.index("assad_extradition")
    assert new.elicited.parameters["mu"][j] == new.reference.parameters["mu"][j]
    assert new.elicited.parameters["mu"][j] == elicited.parameters["mu"][j]


def test_exact_draws_are_the_mixture(base_config):
    """The draws pick the source with probability w per draw and entry, then draw it."""
    cfg = with_link(base_config, "both", "linear", weight=0.3)
    pri = resolved_priors(cfg)
    draws = pri.draw(40_000, seed=3)
    x = draws["p_base"]
    for j in range(x.shape[1]):  # the base rates' quantiles are the mixture's (MC error 0.003)
        grid = np.quantile(x[:, j], [0.1, 0.3, 0.5, 0.7, 0.9])
        e = pri.p_base.elicited.entry(j).parameters
        cdf = (0.7 * stats.beta.cdf(grid, e["alpha"], e["beta"])
               + 0.3 * stats.beta.cdf(grid, REF_BASE["alpha"], REF_BASE["beta"]))
        assert cdf == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9], abs=0.01)
    # the effect (beta = effect_mu + sd z): the mean of beta has the mixture's mean
    k = cfg.variables.index("escalation")
    mean = (0.7 * pri.effect_mu.elicited.parameters["mu"][k]
            + 0.3 * pri.effect_mu.reference.parameters["mu"][k])
    assert draws["beta"][:, :, k].mean() == pytest.approx(mean, abs=0.02)


def test_exact_and_nuts_paths_agree_on_a_mixture_prior(base_config):
    """The PyMC model's prior (pm.Mixture) and the NumPy draws: the same moments within MC
    error."""
    import pymc as pm

    from forecast.ledger import evidence_from
    from forecast.model import build_model

    cfg = with_link(base_config, "both", "linear", weight=0.4)
    n = 6000
    ours = resolved_priors(cfg).draw(n, seed=11)
    with build_model(cfg, evidence_from(cfg, [])):
        idata = pm.sample_prior_predictive(draws=n, random_seed=12,
                                           var_names=["p_base", "beta"])
    prior = idata.prior
    theirs = {name: np.asarray(prior[name].values).reshape(n, *prior[name].shape[2:])
              for name in ("p_base", "beta")}
    for name in ("p_base", "beta"):
        a, b = ours[name], theirs[name]
        se_mean = np.sqrt((a.var(axis=0) + b.var(axis=0)) / n)
        assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 4.5 * se_mean), name
        se_sd = np.sqrt((a.var(axis=0) + b.var(axis=0)) / (2 * n)) * 2  # generous for tails
        assert np.all(np.abs(a.std(axis=0) - b.std(axis=0)) < 4.5 * se_sd), name
    # and the mixture is really there: escalation's effect is bimodal in both
    k = cfg.variables.index("escalation")
    for draws in (ours["beta"][:, 0, k], theirs["beta"][:, 0, k]):
        assert np.mean(draws < -0.2) == pytest.approx(0.6 * stats.norm.cdf(
            -0.2, resolved_priors(cfg).effect_mu.elicited.parameters["mu"][k], 0.6),
            abs=0.1)


def test_the_nuts_model_logp_is_the_mixture_density(base_config):
    """pm.Mixture's log density at a point equals log((1-w) f_e + w f_r), entry by entry."""
    from pymc import logp as pm_logp

    from forecast.ledger import evidence_from
    from forecast.model import build_model

    cfg = with_link(base_config, "both", "linear", weight=0.4)
    pri = resolved_priors(cfg)
    model = build_model(cfg, evidence_from(cfg, []))
    x = np.linspace(-1.5, 1.5, len(cfg.variables))
    p = np.linspace(0.3, 0.8, len(cfg.bases))
    got_mu = pm_logp(model["effect_mu"], x).eval()
    got_base = pm_logp(model["p_base"], p).eval()
    assert got_mu == pytest.approx(pri.effect_mu.logpdf(x), rel=1e-9)
    assert got_base == pytest.approx(pri.p_base.logpdf(p), rel=1e-9)


# --------------------------------------------------------------------------- the prior in force


@pytest.mark.parametrize("source", ["reference_class", "both"])
def test_prior_table_and_chart_show_the_prior_in_force(base_config, source):
    """Under reference_class the table's and the chart's interval of the base rate and of
    a linked effect are the reference prior's central 90%, not the analysts' interval
    (before, both showed the analysts' interval for Tartus under every source)."""
    from forecast.analysis import prior_densities
    from forecast.tables import prior_table

    cfg = with_link(base_config, source, "linear")
    mass = cfg.model.credible_mass
    tail = [(1 - mass) / 2, (1 + mass) / 2]
    table = prior_table(cfg).set_index("parameter")
    dens = prior_densities(cfg).groupby("parameter").first()
    base, esc = "p_base[tartus]", "effect[escalation]"
    if source == "reference_class":
        want_base = stats.beta(REF_BASE["alpha"], REF_BASE["beta"]).ppf(tail)
        want_esc = np.exp(stats.norm(REF_ESCALATION["mu"], REF_ESCALATION["sigma"]).ppf(tail))
        assert table.loc[base, "origin"] == "reference class"
        assert table.loc[base, "kwargs"] == "alpha=16, beta=4"
        assert table.loc[base, "prior_mean"] == pytest.approx(0.8)
        assert table.loc[esc, "prior_mean"] == pytest.approx(3.5)
    else:
        pri = resolved_priors(cfg)
        want_base = pri.p_base.quantiles(cfg.bases.index("tartus"), tail)
        want_esc = np.exp(pri.effect_mu.quantiles(cfg.variables.index("escalation"), tail))
        assert table.loc[base, "dist"] == "Mixture of 2 Beta"
        assert table.loc[base, "origin"] == "pooled (linear pool (mixture))"
    for frame in (table, dens):
        assert [frame.loc[base, "lower"], frame.loc[base, "upper"]] == pytest.approx(want_base)
        assert [frame.loc[esc, "lower"], frame.loc[esc, "upper"]] == pytest.approx(want_esc)
        assert frame.loc[base, "mass"] == mass
        # never the analysts' interval
        elicited = base_config.question.outcomes[cfg.bases.index("tartus")].baseline.elicited
        assert frame.loc[base, "lower"] != pytest.approx(elicited.lower, abs=1e-3)
    # a prior the reference class does not inform stays the analysts' interval
    e = base_config.evidence.variables[0].effect.elicited
    assert [table.loc["effect[assad_extradition]", c] for c in ("lower", "upper", "mass")] == [
        e.lower, e.upper, e.mass]
    # the chart's density is the prior in force: it integrates to one, and for the linear
    # pool its dashed and dotted components add up to it
    rows = prior_densities(cfg)
    rows = rows[rows["parameter"] == esc]
    assert np.trapezoid(rows["density"], np.log(rows["x"])) == pytest.approx(1.0, abs=0.01)
    if source == "both":
        assert (rows["density_elicited"] + rows["density_reference"]).to_numpy() == (
            pytest.approx(rows["density"].to_numpy()))
    else:
        assert rows["density_elicited"].isna().all()


def test_prior_table_under_elicited_is_the_analysts(base_config):
    from forecast.tables import prior_table

    table = prior_table(base_config).set_index("parameter")
    e = base_config.question.outcomes[base_config.bases.index("tartus")].baseline.elicited
    assert [table.loc["p_base[tartus]", c] for c in ("lower", "upper", "mass")] == [
        e.lower, e.upper, e.mass]
    assert (table["origin"] == "elicited").all()


def test_sensitivity_pushes_the_prior_in_force(base_config):
    """Under reference_class the base rate is pushed to the ends of the reference prior's
    interval; under the linear pool each component to its own ends, the weight kept, and
    the pool weight gets a row of its own (0: the analysts alone, 1: history alone)."""
    from forecast.analysis import shifted_priors

    mass = base_config.model.credible_mass
    ref = with_link(base_config, "reference_class")
    ends = stats.beta(REF_BASE["alpha"], REF_BASE["beta"]).ppf([(1 - mass) / 2, (1 + mass) / 2])
    for end, at in zip(("low", "high"), ends, strict=True):
        case = next(c for c in shifted_priors(ref) if c["parameter"] == "p_base[tartus]"
                    and c["end"] == end)
        assert case["setting"] == f"centred at {at:.3g}"  # not the analysts' 0.25 / 0.70
        new = stats.beta(case["prior"].parameters["alpha"], case["prior"].parameters["beta"])
        assert float(new.median()) == pytest.approx(at, abs=0.03)  # centred at the end
    assert not any(c["parameter"] == "pool_weight" for c in shifted_priors(ref))

    mix = with_link(base_config, "both", "linear", weight=0.5)
    cases = shifted_priors(mix)
    old = resolved_priors(mix).effect_mu
    k = mix.variables.index("escalation")
    low = next(c for c in cases if c["parameter"] == "effect[escalation]" and c["end"] == "low")
    z = stats.norm.ppf(0.5 + mass / 2)
    e_mass = base_config.evidence.variables[k].effect.elicited.mass
    pushed = low["priors"].effect_mu
    assert pushed.elicited.parameters["mu"][k] == pytest.approx(
        old.elicited.parameters["mu"][k]
        - stats.norm.ppf(0.5 + e_mass / 2) * old.elicited.parameters["sigma"][k])
    assert pushed.reference.parameters["mu"][k] == pytest.approx(REF_ESCALATION["mu"]
                                                                 - z * REF_ESCALATION["sigma"])
    assert pushed.weight[k] == 0.5
    assert isinstance(low["prior"], LinearPool)
    weights = {c["end"]: c for c in cases if c["parameter"] == "pool_weight"}
    assert set(weights) == {"low", "high"}
    assert weights["low"]["priors"] == resolved_priors(mix.with_prior_source("elicited"))
    history = weights["high"]["priors"].effect_mu
    assert isinstance(history, Dist)
    assert history.parameters["mu"][k] == pytest.approx(REF_ESCALATION["mu"])


def test_mixture_prior_ratio_and_density(base_config):
    """The importance ratio of the sensitivity analysis uses the mixture's own density.

    Checked against densities summed here from scipy: the base rates' Beta mixture, and the
    effects' marginal density by Monte Carlo over the pooling scale (an independent route
    to the quadrature of ``effect_log_density``).
    """
    from forecast.analysis import effect_log_density, log_prior_ratio
    from forecast.engine import params_prior

    mix = with_link(base_config, "both", "linear", weight=0.5)
    old = resolved_priors(mix)
    plain = resolved_priors(base_config)
    params = params_prior(old.draw(400, seed=5))
    # the mixture ratio against the elicited prior: log of the Beta over the Beta mixture
    ratio = log_prior_ratio(params, old, old.replace(p_base=plain.p_base,
                                                     effect_mu=plain.effect_mu))
    x = params.p_base
    e = plain.p_base.parameters
    mixture = (0.5 * stats.beta.pdf(x, e["alpha"], e["beta"])
               + 0.5 * stats.beta.pdf(x, REF_BASE["alpha"], REF_BASE["beta"]))
    expected = (stats.beta.logpdf(x, e["alpha"], e["beta"]) - np.log(mixture)).sum(axis=1)
    expected += (effect_log_density(plain, params.beta) - effect_log_density(old, params.beta))
    assert ratio == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # the marginal effect density by Monte Carlo over sd ~ HalfNormal: p(beta) = E_sd[...]
    sd = np.abs(np.random.default_rng(1).normal(0, 0.4, 200_000))
    b = params.beta[:3]
    m, s = plain.effect_mu.parameters["mu"], plain.effect_mu.parameters["sigma"]
    nb = b.shape[1]
    mc = []
    for draw in b:  # columns: multivariate normal with covariance s^2 11' + sd^2 I
        logs = []
        for kk in range(draw.shape[1]):
            xk = draw[:, kk] - m[kk]
            sx2, perp = xk.sum() ** 2 / nb, (xk**2).sum() - xk.sum() ** 2 / nb
            var = sd**2 + nb * s[kk] ** 2
            logs.append(-0.5 * (nb * np.log(2 * np.pi) + (nb - 1) * np.log(sd**2)
                                + np.log(var) + perp / sd**2 + sx2 / var))
        mc.append(np.log(np.mean(np.exp(np.sum(logs, axis=0)))))
    assert effect_log_density(plain, b) == pytest.approx(mc, abs=0.02)
    # a pool whose components are equal is its component, exactly
    same = old.replace(effect_mu=LinearPool(plain.effect_mu, plain.effect_mu, 0.5))
    assert effect_log_density(same, params.beta) == pytest.approx(
        effect_log_density(plain, params.beta))


def test_sensitivity_under_the_linear_pool_reweights_to_either_source(base_config):
    """The tornado's pool-weight row, reweighted from the mixture's draws, agrees with a
    forecast drawn afresh from the elicited prior (w = 0) and from history's (w = 1):
    4 standard errors of the difference (independent draws). This checks the mixture's
    density in the importance ratio, the base rates' and the effects' (marginal) alike."""
    from forecast.analysis import sensitivity
    from forecast.engine import prior_forecast

    cfg = with_link(base_config, "both", "linear", weight=0.5)
    fc = prior_forecast(cfg, seed=1, n=8000)
    table = sensitivity(cfg, [], forecast=fc, draws=8000)
    assert table["trusted"].all()
    rows = table[table["parameter"] == "pool_weight"].set_index(["end", "outcome"])
    for end, source in (("low", "elicited"), ("high", "reference_class")):
        direct = prior_forecast(cfg.with_prior_source(source), seed=2, n=8000).probabilities()
        for outcome, est in direct.items():
            r = rows.loc[(end, outcome)]
            assert r["method"] == "reweighted"
            assert abs(r["p"] - est.mean) <= 4 * np.hypot(r["mcse"], est.mcse), (end, outcome)
