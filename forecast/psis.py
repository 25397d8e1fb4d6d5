"""Pareto-smoothed importance sampling (PSIS) in NumPy alone.

One job: smooth importance log-weights and report the Pareto k-hat diagnostic,
as ArviZ's ``psislw`` does (Vehtari, Simpson, Gelman, Yao & Gabry, 2024,
"Pareto smoothed importance sampling", JMLR 25; the generalised Pareto fit of
Zhang & Stephens, 2009, with the weakly informative prior on k used by ArviZ
and loo). It exists because importing ``arviz_stats`` costs more than a second
(it pulls in scipy.stats and xarray), most of the 2-second budget of a news
update. ``tests/test_psis.py`` checks it against ArviZ's own ``psislw``.
"""

from __future__ import annotations

import numpy as np

#: Prior on the GPD shape used by ArviZ/loo: k pulled toward 0.5 with weight 10 draws.
_PRIOR_K_WEIGHT, _PRIOR_K_MEAN, _PRIOR_B_SCALE = 10, 0.5, 3


def _logsumexp(x: np.ndarray) -> float:
    top = np.max(x)
    return float(top + np.log(np.sum(np.exp(x - top))))


def gpd_fit(exceedances: np.ndarray) -> tuple[float, float]:
    """Empirical-Bayes fit of a generalised Pareto to sorted positive exceedances.

    Returns
    -------
    (k, sigma)
        Shape and scale; ``(nan, nan)`` when the sample is far from a GPD.
    """
    x = exceedances
    n = x.size
    m = 30 + int(n**0.5)
    quartile = x[int(n / 4 + 0.5) - 1]
    if quartile <= x[0]:
        return np.nan, np.nan
    b = 1 - np.sqrt(m / (np.arange(1, m + 1, dtype=float) - 0.5))
    b = b / (_PRIOR_B_SCALE * quartile) + 1 / x[-1]
    k = np.mean(np.log1p(-b[:, None] * x), axis=1)
    profile = n * (np.log(-b / k) - k - 1)
    w = np.exp(profile - _logsumexp(profile))
    keep = w >= 10 * np.finfo(float).eps
    w, b = w[keep] / w[keep].sum(), b[keep]
    b_post = float(np.sum(b * w))
    k_post = float(np.mean(np.log1p(-b_post * x)))
    sigma = -k_post / b_post
    k_post = (n * k_post + _PRIOR_K_WEIGHT * _PRIOR_K_MEAN) / (n + _PRIOR_K_WEIGHT)
    if np.isnan(k_post):
        return np.inf, np.nan
    return k_post, sigma


def _gpd_quantile(p: np.ndarray, k: float, sigma: float, mu: float) -> np.ndarray:
    if sigma <= 0:
        return np.full_like(p, np.nan)
    if k == 0:
        return mu - sigma * np.log1p(-p)
    return mu + sigma * np.expm1(-k * np.log1p(-p)) / k


def psislw(log_ratio: np.ndarray, r_eff: float = 1.0) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalised log importance weights and their k-hat.

    Parameters
    ----------
    log_ratio
        1-D log importance ratios (target minus proposal log density, per draw).
    r_eff
        Relative efficiency of the draws (1 for independent draws).

    Returns
    -------
    (log_weights, khat)
        ``log_weights`` sum to one on the exponential scale; ``khat`` is ``inf``
        when the tail cannot be fitted (ArviZ gives nan).
    """
    lw = np.asarray(log_ratio, dtype=float).copy()
    n = lw.size
    tail_len = int(np.floor(3 * (n / r_eff) ** 0.5 if n * r_eff > 225 else n / 5))
    lw -= lw.max()
    order = np.argsort(lw)
    tail_idx = order[n - tail_len:]
    cutoff = lw[order[n - tail_len - 1]]
    tail = lw[tail_idx]
    khat = np.inf
    if tail_len >= 5 and tail.max() - tail.min() > np.finfo(float).tiny:
        khat, sigma = gpd_fit(np.exp(tail) - np.exp(cutoff))
        if np.isfinite(khat):
            p = np.arange(0.5, tail_len) / tail_len
            smoothed = np.log(_gpd_quantile(p, khat, sigma, np.exp(cutoff)))
            lw[tail_idx] = np.minimum(smoothed, tail.max())
    # A tail that cannot be fitted cannot be trusted either.
    return lw - _logsumexp(lw), float(khat) if np.isfinite(khat) else np.inf
