"""Build the PyMC model of a question from its validated config.

One job: the joint model of the evidence states, the bases' outcomes and the
news. The binary evidence states are marginalised exactly by enumerating all
``2**K`` joint states (the same sums as :mod:`forecast.exact`, in PyTensor),
so NUTS samples only continuous parameters::

    p_state[k]   ~ Beta(elicited)          P(evidence state k true by the horizon)
    p_base[b]    ~ Beta(elicited)          P(keep base b | every state false)
    effect_mu[k] ~ Normal(elicited log OR) effect shared by the bases
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
from pymc_extras.prior import Prior

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

        p_state = Prior.from_dict(priors["p_state"]).create_variable("p_state")
        p_base = Prior.from_dict(priors["p_base"]).create_variable("p_base")
        effect_mu = Prior.from_dict(priors["effect_mu"]).create_variable("effect_mu")
        effect_sd = Prior.from_dict(priors["effect_sd"]).create_variable("effect_sd")
        effect_z = pm.Normal("effect_z", 0.0, 1.0, dims=("base", "evidence"))
        beta = pm.Deterministic(
            "beta", effect_mu[None, :] + effect_sd * effect_z, dims=("base", "evidence")
        )

        s = pt.constant(states)  # (M, K)
        log_prior = pt.dot(s, pt.log(p_state)) + pt.dot(1.0 - s, pt.log1p(-p_state))  # (M,)
        alpha = pt.log(p_base) - pt.log1p(-p_base)  # (B,)
        eta = alpha[None, :] + pt.dot(s, beta.T)  # (M, B)
        log_p, log_1mp = _log_sigmoid(eta), _log_sigmoid(-eta)
        log_kept_news = log_p + outcome_loglr[None, :]
        log_news_outcome = pt.logaddexp(log_kept_news, log_1mp)  # (M, B)
        log_joint = log_prior + pt.dot(s, state_loglr) + log_news_outcome.sum(axis=1)
        loglik = pm.math.logsumexp(log_joint)
        pm.Potential("news", loglik)

        weight = pt.exp(log_joint - loglik)  # P(S | news, theta)
        q = pt.exp(log_kept_news - log_news_outcome)  # P(keep_b | S, news, theta)
        pm.Deterministic("p_keep", pt.dot(weight, q), dims="base")
        pm.Deterministic("p_all", pt.dot(weight, pt.prod(q, axis=1)))
        pm.Deterministic("p_any", pt.dot(weight, 1.0 - pt.prod(1.0 - q, axis=1)))
        pm.Deterministic("p_state_post", pt.dot(weight, s), dims="evidence")
    return model


#: Variables whose draws the fast path and scenarios need (see exact.Params).
PARAMETER_VARS = ("p_state", "p_base", "beta")
HEADLINE_VARS = ("p_keep", "p_all", "p_any")
