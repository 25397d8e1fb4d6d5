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

Given the states, the bases are kept independently with probability
``1 - lambda`` and comonotonically (one uniform draw decides all: one bargain)
with probability ``lambda`` (``outcome_dependence`` in ``model.yaml``): each
base's own probability is unchanged, and P(all kept | S) runs from the product
of the bases' probabilities (lambda = 0) to the smallest of them (lambda = 1).

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
    coupling : the outcomes' residual dependence lambda given the states (see
        :func:`outcome_terms`)
    """

    p_state: np.ndarray
    p_base: np.ndarray
    beta: np.ndarray
    #: Residual dependence of the outcomes given the states (``outcome_dependence``):
    #: 0 independent, 1 comonotone (one bargain decides every base).
    coupling: float = 0.0

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
        """The number of draws."""
        return self.p_state.shape[0]

    def take(self, index: np.ndarray | slice) -> Params:
        """The draws at ``index`` (e.g. a resample)."""
        return Params(self.p_state[index], self.p_base[index], self.beta[index], self.coupling)


@dataclass(frozen=True)
class Enumerated:
    """Per-draw results of the enumeration (each with ``n`` rows)."""

    loglik: np.ndarray  # (n,) log p(news | theta), up to a constant
    p_keep: np.ndarray  # (n, B)
    p_all: np.ndarray  # (n,) every base kept
    p_any: np.ndarray  # (n,) at least one base kept
    p_state: np.ndarray  # (n, K) P(S_k = 1 | news, theta)


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
        ``(K,)`` summed log likelihood ratio of the news bearing on each state, or
        ``(n, K)``: one row per draw (uncertain ratios, :meth:`Evidence.per_draw`).
    outcome_loglr
        ``(B,)`` or ``(n, B)``: the same for the news bearing on each base's outcome.
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
    mask = np.ones(len(states), dtype=bool)
    for k, value in (fix or {}).items():
        mask &= states[:, k] == value
    states = states[mask]

    n_states, n_base = len(states), params.p_base.shape[1]
    chunk = max(1, _CHUNK_ELEMENTS // (n_states * (n_base + 1)))
    parts = [
        _enumerate_chunk(params.take(slice(i, i + chunk)), states,
                         *_rows(state_loglr, outcome_loglr, slice(i, i + chunk)))
        for i in range(0, params.n, chunk)
    ]
    return Enumerated(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))


def _rows(state_loglr, outcome_loglr, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    """The news log ratios for a chunk of draws: ``(K,)``/``(B,)`` as given, or per draw."""
    u = np.asarray(state_loglr, dtype=float)
    v = np.asarray(outcome_loglr, dtype=float)
    return (u[rows] if u.ndim == 2 else u), (v[rows] if v.ndim == 2 else v)


def _joint_chunk(params, states, u, v):
    """Unnormalised log P(S, news | theta) (n, M) and, given S and the news, P(keep_b)
    (n, B, M), P(all kept) and P(none kept) (n, M).

    Probability space where it is exact and cheaper than logs: ``q0 = sigmoid(eta)``
    is P(keep | S, theta); the news on a base's outcome multiplies the joint by
    ``f = q0 e^v + 1 - q0 = 1 + q0 (e^v - 1)``, and then P(keep | S, news, theta)
    is ``q0 e^v / f``. Arrays are updated in place: at K = 12 a chunk holds tens
    of megabytes. With a coupling of the outcomes, :func:`outcome_terms` does the
    outcome part.
    """
    n, n_base, n_var = params.beta.shape
    p = np.clip(params.p_state, 1e-300, 1.0)
    log_joint = np.log(p) @ states.T + np.log1p(-np.minimum(params.p_state, 1 - 1e-16)) @ (
        1.0 - states
    ).T  # (n, M): log prior of each joint state
    log_joint += (u @ states.T) if u.ndim == 2 else (states @ u)[None, :]
    alpha = np.log(params.p_base) - np.log1p(-params.p_base)  # logit, (n, B)
    # One 2-D product (n*B, K) @ (K, M): much faster than a batched one with K this small.
    eta = (params.beta.reshape(n * n_base, n_var) @ states.T).reshape(n, n_base, -1)
    eta += alpha[:, :, None]
    # sigmoid as 1 / (1 + e^-eta): exp overflows to inf for eta < -709, giving exactly 0
    with np.errstate(over="ignore"):
        q = np.exp(np.negative(eta, out=eta), out=eta)
    q += 1.0
    np.reciprocal(q, out=q)
    v = np.broadcast_to(v, (n, n_base)) if v.ndim == 1 else v  # (n, B): per draw
    if params.coupling > 0 and n_base > 1:
        news, keep, every, none = outcome_terms(q, v, params.coupling)
        log_joint += np.log(news)
        return log_joint, keep, every, none
    gain = np.expm1(v)  # e^v - 1
    news = None  # product over bases of f
    for b in np.flatnonzero(np.any(gain != 0, axis=0)):
        f = q[:, b, :] * gain[:, b, None]
        f += 1.0  # f = q0 e^v + 1 - q0 > 0
        q[:, b, :] *= np.exp(v[:, b, None])
        q[:, b, :] /= f
        news = f if news is None else np.multiply(news, f, out=news)
    if news is not None:
        log_joint += np.log(news, out=news)
    every, none = q[:, 0, :].copy(), 1.0 - q[:, 0, :]
    for b in range(1, n_base):
        every *= q[:, b, :]
        none *= 1.0 - q[:, b, :]
    return log_joint, q, every, none


def outcome_terms(q: np.ndarray, v: np.ndarray, coupling: float):
    """The outcomes given the states, mixing independence and comonotonicity.

    With probability ``1 - coupling`` the bases are kept independently, each with
    its ``q_b``; with probability ``coupling`` one uniform ``U`` decides them all,
    base ``b`` kept when ``U < q_b`` (the Frechet upper bound: the most dependent
    joint law with these margins). Each base's probability is ``q_b`` either way.
    The news on the outcomes, ``exp(sum_b v_b keep_b)``, is summed over both.

    Parameters
    ----------
    q
        ``(n, B, M)``: P(keep_b | S, theta) before the news on the outcomes.
    v
        ``(n, B)``: the news' log ratio on each base's outcome.
    coupling
        lambda in [0, 1].

    Returns
    -------
    news, keep, every, none
        ``(n, M)`` P(outcome news | S, theta) up to a constant; ``(n, B, M)``
        P(keep_b | S, news, theta); ``(n, M)`` P(all kept | S, news, theta) and
        P(none kept | S, news, theta).
    """
    lam = float(coupling)
    if q.shape[1] == 2:  # two bases, the common case: the same sums, without sorting
        return _two_outcomes(q, np.exp(v), lam)
    ev = np.exp(v)[:, :, None]  # (n, B, 1)
    f = q * ev + (1.0 - q)  # independent: each base's news factor
    ind_news = np.prod(f, axis=1)  # (n, M)
    ind_keep = q * ev / f * ind_news[:, None, :]  # P_I(keep_b & news)
    ind_all = np.prod(q * ev, axis=1)
    ind_none = np.prod(1.0 - q, axis=1)
    # comonotone: sort q ascending per (draw, state); U in [q_(j), q_(j+1)) keeps ranks > j
    order = np.argsort(q, axis=1)
    qs = np.take_along_axis(q, order, axis=1)  # (n, B, M)
    vs = np.take_along_axis(np.broadcast_to(v[:, :, None], q.shape), order, axis=1)
    n, n_base, m = q.shape
    edges = np.concatenate([np.zeros((n, 1, m)), qs, np.ones((n, 1, m))], axis=1)
    length = np.diff(edges, axis=1)  # (n, B + 1, M): the intervals j = 0..B
    suffix = np.concatenate([np.cumsum(vs[:, ::-1], axis=1)[:, ::-1],
                             np.zeros((n, 1, m))], axis=1)  # sum of v over ranks >= j
    mass = length * np.exp(suffix)  # P_C(U in interval j) x its news factor
    com_news = mass.sum(axis=1)
    upto = np.cumsum(mass, axis=1)[:, :n_base]  # P_C(keep the base of rank j & news)
    com_keep = np.empty_like(q)
    np.put_along_axis(com_keep, order, upto, axis=1)
    com_all, com_none = mass[:, 0], mass[:, n_base]
    news = (1 - lam) * ind_news + lam * com_news
    keep = ((1 - lam) * ind_keep + lam * com_keep) / news[:, None, :]
    every = ((1 - lam) * ind_all + lam * com_all) / news
    none = ((1 - lam) * ind_none + lam * com_none) / news
    return news, keep, every, none


def _two_outcomes(q: np.ndarray, e: np.ndarray, lam: float):
    """:func:`outcome_terms` for two bases, in closed form (``e = exp(v)``, ``(n, 2)``)."""
    q0, q1 = q[:, 0], q[:, 1]
    e0, e1 = e[:, 0, None], e[:, 1, None]
    k0, k1 = q0 * e0, q1 * e1  # kept and reported
    f0, f1 = k0 + (1.0 - q0), k1 + (1.0 - q1)
    first_lower = q0 <= q1
    lo, hi = np.minimum(q0, q1), np.maximum(q0, q1)
    both = lo * (e0 * e1)  # comonotone: U below both
    only = (hi - lo) * np.where(first_lower, e1, e0)  # U between: the likelier base only
    a, c = 1.0 - lam, lam
    news = a * f0 * f1 + c * (both + only + (1.0 - hi))
    keep = np.empty_like(q)
    keep[:, 0] = (a * k0 * f1 + c * np.where(first_lower, both, both + only)) / news
    keep[:, 1] = (a * k1 * f0 + c * np.where(first_lower, both + only, both)) / news
    every = (a * k0 * k1 + c * both) / news
    none = (a * (1.0 - q0) * (1.0 - q1) + c * (1.0 - hi)) / news
    return news, keep, every, none


def _enumerate_chunk(params, states, u, v):
    """One chunk of draws: the sums over states (log-sum-exp for the likelihood)."""
    log_joint, q, every, none = _joint_chunk(params, states, u, v)
    loglik = _logsumexp(log_joint, axis=1)
    log_joint -= loglik[:, None]
    weight = np.exp(log_joint, out=log_joint)  # P(S | news, theta)
    p_keep = np.einsum("nm,nbm->nb", weight, q)
    p_all = np.einsum("nm,nm->n", weight, every)
    p_any = 1.0 - np.einsum("nm,nm->n", weight, none)  # the weights sum to one
    p_state = weight @ states
    return loglik, p_keep, p_all, p_any, p_state


def log_likelihood(params: Params, state_loglr: np.ndarray, outcome_loglr: np.ndarray
                   ) -> np.ndarray:
    """``log p(news | theta)`` per draw (up to a constant), without the other sums.

    With no news on the outcomes (``outcome_loglr == 0``) the states are
    independent given theta and the sum factorises exactly:
    ``sum_k log(1 - pi_k + pi_k e^{u_k})``, O(K) per draw for any K. Otherwise
    the ``2**K`` states are enumerated as in :func:`enumerate_states`.
    """
    u = np.asarray(state_loglr, dtype=float)
    v = np.asarray(outcome_loglr, dtype=float)
    if not np.any(v):
        pi = params.p_state
        return np.sum(np.log1p(pi * np.expm1(u if u.ndim == 2 else u[None, :])), axis=1)
    states = state_matrix(params.p_state.shape[1])
    chunk = max(1, _CHUNK_ELEMENTS // (len(states) * (params.p_base.shape[1] + 1)))
    return np.concatenate([
        _logsumexp(_joint_chunk(params.take(slice(i, i + chunk)), states,
                                *_rows(u, v, slice(i, i + chunk)))[0], axis=1)
        for i in range(0, params.n, chunk)])
