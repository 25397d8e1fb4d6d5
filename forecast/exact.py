"""Exact forecast for given parameter values, by enumerating every evidence state.

One job: for each parameter draw, sum over the ``2**K`` joint states of the
binary evidence variables to get the likelihood of the news and P(keep) per
base, for both, for either. The PyMC model (:mod:`forecast.model`) computes the
same sums in PyTensor; this NumPy version is the reference the tests check it
against, and the engine of the fast news update (no compile, no sampling).

The model, per parameter draw ``theta = (pi, p0, beta)``::

    S_k ~ Bernoulli(pi_k)                              evidence states, k = 1..K
    keep_b | S ~ Bernoulli(sigmoid(logit(p0_b) + beta_b . S))
    news: log p(news | S, keep) = u . S + sum_b v_b keep_b    (+ const)

where ``u`` and ``v`` are the summed log likelihood ratios of the news items
bearing on each state and on each base's outcome (see :mod:`forecast.ledger`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Draws per chunk, so that 2**K states x draws x bases stays within a few MB.
_CHUNK_ELEMENTS = 2_000_000


def quantity_name(var: str, label: str = "") -> str:
    """The key of one per-draw quantity, e.g. ``p_keep[khmeimim]`` or ``p_all``."""
    return f"{var}[{label}]" if label else var


def state_matrix(n_variables: int) -> np.ndarray:
    """All ``2**K`` joint states as a ``(2**K, K)`` 0/1 float matrix, first variable slowest."""
    grid = (np.arange(2**n_variables)[:, None] >> np.arange(n_variables)[::-1]) & 1
    return grid.astype(float)


@dataclass(frozen=True)
class Params:
    """Parameter draws, flattened over (chain, draw) into ``n`` rows.

    Attributes
    ----------
    p_state : (n, K) prior probability that each evidence state is true by the horizon
    p_base : (n, B) probability of keeping each base when every evidence state is false
    beta : (n, B, K) log odds ratio of each evidence state on each base
    """

    p_state: np.ndarray
    p_base: np.ndarray
    beta: np.ndarray

    def __post_init__(self) -> None:
        n, k = self.p_state.shape
        b = self.p_base.shape[1]
        if self.p_base.shape != (n, b) or self.beta.shape != (n, b, k):
            raise ValueError(
                f"inconsistent shapes: p_state {self.p_state.shape}, "
                f"p_base {self.p_base.shape}, beta {self.beta.shape}"
            )

    @property
    def n(self) -> int:
        return self.p_state.shape[0]

    def take(self, index: np.ndarray | slice) -> Params:
        return Params(self.p_state[index], self.p_base[index], self.beta[index])


@dataclass(frozen=True)
class Enumerated:
    """Per-draw results of the enumeration (each with ``n`` rows)."""

    loglik: np.ndarray  # (n,) log p(news | theta), up to a constant
    p_keep: np.ndarray  # (n, B)
    p_all: np.ndarray  # (n,) every base kept
    p_any: np.ndarray  # (n,) at least one base kept
    p_state: np.ndarray  # (n, K) P(S_k = 1 | news, theta)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def enumerate_states(
    params: Params,
    state_loglr: np.ndarray,
    outcome_loglr: np.ndarray,
    fix: dict[int, int] | None = None,
) -> Enumerated:
    """Sum over every evidence state, for every draw.

    Parameters
    ----------
    params
        Parameter draws.
    state_loglr
        ``(K,)`` summed log likelihood ratio of the news bearing on each state.
    outcome_loglr
        ``(B,)`` summed log likelihood ratio of the news bearing on each base's outcome.
    fix
        Optional intervention ``{variable index: 0 or 1}``: only states with those
        values are summed over (``do(S_k = x)``; the states are exogenous, so this
        equals conditioning on them). The log likelihood returned is then that of
        the restricted sum and is not a likelihood of the news.

    Returns
    -------
    Enumerated
    """
    n_var = params.p_state.shape[1]
    states = state_matrix(n_var)  # (M, K)
    state_loglr = np.asarray(state_loglr, dtype=float)
    outcome_loglr = np.asarray(outcome_loglr, dtype=float)
    mask = np.ones(len(states), dtype=bool)
    for k, value in (fix or {}).items():
        mask &= states[:, k] == value
    states = states[mask]

    n_states, n_base = len(states), params.p_base.shape[1]
    chunk = max(1, _CHUNK_ELEMENTS // (n_states * (n_base + 1)))
    parts = [
        _enumerate_chunk(params.take(slice(i, i + chunk)), states, state_loglr, outcome_loglr)
        for i in range(0, params.n, chunk)
    ]
    return Enumerated(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))


def _enumerate_chunk(params, states, u, v):
    p = np.clip(params.p_state, 1e-300, 1.0)
    log_prior = np.log(p) @ states.T + np.log1p(-np.minimum(params.p_state, 1 - 1e-16)) @ (
        1.0 - states
    ).T  # (n, M)
    alpha = np.log(params.p_base) - np.log1p(-params.p_base)  # logit, (n, B)
    eta = alpha[:, :, None] + params.beta @ states.T  # (n, B, M)
    log_p, log_1mp = _log_sigmoid(eta), _log_sigmoid(-eta)
    log_kept_news = log_p + v[None, :, None]
    log_news_outcome = np.logaddexp(log_kept_news, log_1mp)  # (n, B, M)
    log_joint = log_prior + (states @ u)[None, :] + log_news_outcome.sum(axis=1)  # (n, M)
    loglik = _logsumexp(log_joint, axis=1)
    weight = np.exp(log_joint - loglik[:, None])  # P(S | news, theta)
    q = np.exp(log_kept_news - log_news_outcome)  # P(keep_b | S, news, theta)
    p_keep = np.einsum("nm,nbm->nb", weight, q)
    p_all = np.einsum("nm,nm->n", weight, np.prod(q, axis=1))
    p_any = np.einsum("nm,nm->n", weight, 1.0 - np.prod(1.0 - q, axis=1))
    p_state = weight @ states
    return loglik, p_keep, p_all, p_any, p_state
