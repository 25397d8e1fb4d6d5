"""Build the PyMC model of a question from its validated config.

One job: the joint model of the evidence states, the bases' outcomes and the
news. The binary evidence states are marginalised exactly by enumerating all
``2**K`` joint states (the same sums as :mod:`forecast.exact`, in PyTensor),
so NUTS samples only continuous parameters::

    p_state[k]   ~ Beta(elicited)          P(evidence state k true by the horizon)
    p_base[b]    ~ Beta(elicited)          P(keep base b | every state false)
    effect_mu[k] ~ Normal(elicited log OR) effect shared by the bases
                   (under prior_source: both with prior_pool.method: linear, these two
                   are two-component mixtures, pm.Mixture: the indicator of the source
                   is summed out, so NUTS still sees only continuous parameters)
    effect_sd    ~ HalfNormal(model.yaml)  how much the bases' effects differ
    effect_z     ~ Normal(0, 1)            (non-centred partial pooling)
    beta[b, k]   = effect_mu[k] + effect_sd * effect_z[b, k]
    news         : Potential = log sum_S p(S) p(news | S, keep)    (see exact.py)

News enters through two data containers, ``state_loglr`` (K) and
``outcome_loglr`` (B), so new evidence changes data, not the graph.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

from forecast.config import QuestionConfig
from forecast.elicit import resolved_priors
from forecast.exact import state_matrix
from forecast.ledger import Evidence


def _log_sigmoid(x):
    return -pt.softplus(-x)


def build_model(config: QuestionConfig, evidence: Evidence) -> pm.Model:
    """The PyMC model for a question given the news evidence.

    Parameters
    ----------
    config
        The validated question.
    evidence
        Summed log likelihood ratios of the news (:func:`forecast.ledger.evidence_from`).

    Returns
    -------
    pymc.Model
        With dims ``base`` and ``evidence`` and deterministics ``p_keep`` (base),
        ``p_all``, ``p_any`` and ``p_state_post`` (evidence).
    """
    priors = resolved_priors(config)
    coords = {"base": config.bases, "evidence": config.variables}
    states = state_matrix(len(config.variables))
    with pm.Model(coords=coords) as model:
        state_loglr = pm.Data("state_loglr", evidence.state_loglr, dims="evidence")
        outcome_loglr = pm.Data("outcome_loglr", evidence.outcome_loglr, dims="base")

        # Each slot creates its own variable: a pymc-extras Prior, or for a linear pool a
        # pm.Mixture of its two components (forecast.prior).
        p_state = priors.p_state.create_variable("p_state")
        p_base = priors.p_base.create_variable("p_base")
        effect_mu = priors.effect_mu.create_variable("effect_mu")
        effect_sd = priors.effect_sd.create_variable("effect_sd")
        effect_z = pm.Normal("effect_z", 0.0, 1.0, dims=("base", "evidence"))
        beta = pm.Deterministic(
            "beta", effect_mu[None, :] + effect_sd * effect_z, dims=("base", "evidence")
        )

        s = pt.constant(states)  # (M, K)
        log_prior = pt.dot(s, pt.log(p_state)) + pt.dot(1.0 - s, pt.log1p(-p_state))  # (M,)
        alpha = pt.log(p_base) - pt.log1p(-p_base)  # (B,)
        eta = alpha[None, :] + pt.dot(s, beta.T)  # (M, B)
        coupling = config.model.outcome_dependence.value
        if coupling > 0 and len(config.bases) > 2:
            raise NotImplementedError("the NUTS model couples at most two outcomes "
                                      "(outcome_dependence > 0); use the exact engine")
        if coupling > 0 and len(config.bases) > 1:
            log_news, q, every, none = _coupled_outcomes(eta, outcome_loglr, coupling)
        else:
            log_p, log_1mp = _log_sigmoid(eta), _log_sigmoid(-eta)
            log_kept_news = log_p + outcome_loglr[None, :]
            log_news_outcome = pt.logaddexp(log_kept_news, log_1mp)  # (M, B)
            log_news = log_news_outcome.sum(axis=1)
            q = pt.exp(log_kept_news - log_news_outcome)  # P(keep_b | S, news, theta)
            every, none = pt.prod(q, axis=1), pt.prod(1.0 - q, axis=1)
        log_joint = log_prior + pt.dot(s, state_loglr) + log_news
        loglik = pm.math.logsumexp(log_joint)
        pm.Potential("news", loglik)

        weight = pt.exp(log_joint - loglik)  # P(S | news, theta)
        pm.Deterministic("p_keep", pt.dot(weight, q), dims="base")
        pm.Deterministic("p_all", pt.dot(weight, every))
        pm.Deterministic("p_any", pt.dot(weight, 1.0 - none))
        pm.Deterministic("p_state_post", pt.dot(weight, s), dims="evidence")
    return model


def _coupled_outcomes(eta, v, coupling: float):
    """Two outcomes kept independently (1 - lambda) or comonotonically (lambda), given S.

    The same mixture as :func:`forecast.exact.outcome_terms`, in PyTensor, for two
    outcomes (the exact engine handles any number). Returns log P(outcome news | S),
    P(keep_b | S, news), P(both | S, news) and P(neither | S, news), per state.
    """
    lam = float(coupling)
    q = pt.sigmoid(eta)  # (M, 2)
    e = pt.exp(v)  # (2,)
    f = q * e[None, :] + (1.0 - q)
    ind_news = f[:, 0] * f[:, 1]
    ind_keep = q * e[None, :] * f[:, ::-1]
    ind_all = q[:, 0] * q[:, 1] * e[0] * e[1]
    ind_none = (1.0 - q[:, 0]) * (1.0 - q[:, 1])
    first_lower = q[:, 0] <= q[:, 1]
    lo, hi = pt.minimum(q[:, 0], q[:, 1]), pt.maximum(q[:, 0], q[:, 1])
    v_hi = pt.switch(first_lower, v[1], v[0])
    mass0 = lo * e[0] * e[1]  # U below both: both kept
    mass1 = (hi - lo) * pt.exp(v_hi)  # between: only the likelier base kept
    mass2 = 1.0 - hi  # above both: neither
    com_news = mass0 + mass1 + mass2
    com_keep = pt.stack([pt.switch(first_lower, mass0, mass0 + mass1),
                         pt.switch(first_lower, mass0 + mass1, mass0)], axis=1)
    news = (1 - lam) * ind_news + lam * com_news
    keep = ((1 - lam) * ind_keep + lam * com_keep) / news[:, None]
    every = ((1 - lam) * ind_all + lam * mass0) / news
    none = ((1 - lam) * ind_none + lam * mass2) / news
    return pt.log(news), keep, every, none


HEADLINE_VARS = ("p_keep", "p_all", "p_any")
