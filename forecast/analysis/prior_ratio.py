"""The log prior ratio of two sets of priors per draw: the importance ratio of a changed prior.

Behind the sensitivity analysis (:mod:`forecast.analysis.tornado`): a prior pushed
to an end of its interval reweights the fit's draws by ``p_new(theta) / p_old(theta)``.
Every density comes from :mod:`forecast.prior`; what is particular here is the
marginal density of the effects with the pooling scale integrated out.
"""

from __future__ import annotations

import math

import numpy as np

from forecast.exact import Params
from forecast.prior import Priors, SlotPrior

#: Grid size of the quadrature over the pooling scale (marginal effect prior).
_SD_GRID = 240


def effect_log_density(priors: Priors, beta: np.ndarray, chunk: int = 500) -> np.ndarray:
    """Log prior density of the effects ``beta`` (n, B, K), the pooling scale integrated out.

    Under the model ``beta[b, k] = mu_k + sd z[b, k]`` with ``mu_k`` from
    ``priors.effect_mu`` (a Normal, or a linear pool of two), ``z ~ Normal(0, 1)`` and
    ``sd`` from ``priors.effect_sd``, the column ``beta[:, k]`` is, given ``sd`` and a
    component ``Normal(m_k, s_k)`` of ``mu_k``, multivariate normal with mean ``m_k 1``
    and covariance ``s_k^2 11' + sd^2 I``; a pool mixes its two components' densities
    with its weights. The integral over ``sd`` is a quadrature on a log-spaced grid:
    the marginal of the parameters the forecast depends on, so it is the right density
    for importance weights (``mu`` and ``sd`` themselves are not drawn by the engine).
    """
    n, b, _ = beta.shape
    scale = float(priors.effect_sd.parameters["sigma"])
    t = np.linspace(math.log(scale * 1e-5), math.log(scale * 7.0), _SD_GRID)
    d = np.exp(t)
    logw = priors.effect_sd.logpdf(d) + t  # d(sd) = sd d(log sd)
    logw -= logw.max() + np.log(np.exp(logw - logw.max()).sum())
    d2 = d**2
    parts = [(w, c.parameters["mu"], c.parameters["sigma"])
             for w, c in priors.effect_mu.components()]
    out = np.empty(n)
    for start in range(0, n, chunk):
        per_k = None
        for w, m, s in parts:
            var_par = d2[:, None] + b * s[None, :] ** 2  # (G, K)
            x = beta[start:start + chunk] - m[None, None, :]
            sx2 = x.sum(axis=1) ** 2 / b  # (c, K)
            perp = np.maximum((x**2).sum(axis=1) - sx2, 0.0)
            quad = perp[:, None, :] / d2[None, :, None] + sx2[:, None, :] / var_par[None]
            logdet = (b - 1) * np.log(d2)[None, :, None] + np.log(var_par)[None]
            with np.errstate(divide="ignore"):
                term = np.log(w)[None, None, :] - 0.5 * (b * math.log(2 * math.pi) + logdet
                                                           + quad)  # (c, G, K)
            per_k = term if per_k is None else np.logaddexp(per_k, term)
        ll = per_k.sum(axis=2) + logw[None, :]  # (c, G)
        top = ll.max(axis=1, keepdims=True)
        out[start:start + chunk] = top[:, 0] + np.log(np.exp(ll - top).sum(axis=1))
    return out


def _changed_entries(old: SlotPrior, new: SlotPrior) -> list[int]:
    return [j for j in range(old.size) if old.entry(j) != new.entry(j)]


def log_prior_ratio(params: Params, old: Priors, new: Priors,
                    old_effect: np.ndarray | None = None) -> np.ndarray:
    """``log p_new(theta) - log p_old(theta)`` per draw, for the parameters of :class:`Params`.

    Only the factors that differ are evaluated: the densities of the changed entries of
    ``p_state`` and ``p_base`` and, if an effect or the pooling scale changed, the
    marginal effect density of :func:`effect_log_density` (``old_effect`` may pass the
    old one, which is the same for every perturbation of a forecast).

    Examples
    --------
    >>> import numpy as np
    >>> from forecast.prior import Dist
    >>> from forecast.exact import Params
    >>> p = Priors(Dist("Beta", {"alpha": [2.0], "beta": [2.0]}, ("evidence",)),
    ...            Dist("Beta", {"alpha": [3.0], "beta": [1.0]}, ("base",)),
    ...            Dist("Normal", {"mu": [0.0], "sigma": [1.0]}, ("evidence",)),
    ...            Dist("HalfNormal", {"sigma": 0.4}))
    >>> q = p.replace(p_base=p.p_base.with_entry(0, alpha=1.0, beta=1.0))
    >>> theta = Params(np.full((1, 1), 0.5), np.full((1, 1), 0.5), np.zeros((1, 1, 1)))
    >>> round(float(log_prior_ratio(theta, p, q)[0]), 4)  # log(1 / (3 * 0.5**2))
    0.2877
    """
    out = np.zeros(params.n)
    for x, slot in ((params.p_state, "p_state"), (params.p_base, "p_base")):
        for j in _changed_entries(old[slot], new[slot]):
            out += new[slot].entry(j).logpdf(x[:, j]) - old[slot].entry(j).logpdf(x[:, j])
    if old.effect_mu != new.effect_mu or old.effect_sd != new.effect_sd:
        out += effect_log_density(new, params.beta)
        out -= effect_log_density(old, params.beta) if old_effect is None else old_effect
    return out
