"""Every prior's parameters as arrays, and the log prior ratio of two such sets per draw.

The importance ratio behind the sensitivity analysis (:mod:`forecast.analysis.tornado`):
Beta (or Beta-mixture) densities of the probabilities and the marginal density of
the effects with the pooling scale integrated out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from forecast.config import QuestionConfig
from forecast.elicit import is_mixture, resolved_priors
from forecast.exact import Params

#: Grid size of the quadrature over the pooling scale (marginal effect prior).
_SD_GRID = 240


@dataclass(frozen=True)
class PriorSpec:
    """Every prior's parameters as arrays (the shape of :func:`forecast.elicit.resolved_priors`).

    A base rate or effect may be a linear pool (``prior_pool.method: linear``): the
    mixture ``(1 - w) f + w f_ref`` of the main parameters and the ``*_ref`` ones with
    ``w`` the entry's ``*_weight``; a weight of 0 (the default) is no mixture.
    """

    state_alpha: np.ndarray
    state_beta: np.ndarray
    base_alpha: np.ndarray
    base_beta: np.ndarray
    effect_mu: np.ndarray
    effect_sigma: np.ndarray
    pooling_sigma: float
    base_alpha_ref: np.ndarray | None = None
    base_beta_ref: np.ndarray | None = None
    base_weight: np.ndarray | None = None
    effect_mu_ref: np.ndarray | None = None
    effect_sigma_ref: np.ndarray | None = None
    effect_weight: np.ndarray | None = None

    def __post_init__(self) -> None:
        for main, ref in (("base_alpha", "base_alpha_ref"), ("base_beta", "base_beta_ref"),
                          ("effect_mu", "effect_mu_ref"), ("effect_sigma", "effect_sigma_ref")):
            if getattr(self, ref) is None:
                object.__setattr__(self, ref, np.array(getattr(self, main), dtype=float))
        for name, like in (("base_weight", "base_alpha"), ("effect_weight", "effect_mu")):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(np.shape(getattr(self, like))))

    @classmethod
    def from_priors(cls, p: dict[str, Any]) -> PriorSpec:
        """From priors in the shape of :func:`forecast.elicit.resolved_priors`."""
        def arr(x) -> np.ndarray:
            return np.asarray(x, dtype=float)

        def slot(group: str, names: tuple[str, str]):
            kw = p[group]["kwargs"]
            if not is_mixture(p[group]):
                return arr(kw[names[0]]), arr(kw[names[1]]), None, None, None
            e, r = kw["elicited"], kw["reference"]
            return (arr(e[names[0]]), arr(e[names[1]]), arr(r[names[0]]), arr(r[names[1]]),
                    arr(kw["weight"]))

        ba, bb, bar, bbr, bw = slot("p_base", ("alpha", "beta"))
        em, es, emr, esr, ew = slot("effect_mu", ("mu", "sigma"))
        return cls(
            arr(p["p_state"]["kwargs"]["alpha"]), arr(p["p_state"]["kwargs"]["beta"]),
            ba, bb, em, es, float(p["effect_sd"]["kwargs"]["sigma"]),
            base_alpha_ref=bar, base_beta_ref=bbr, base_weight=bw,
            effect_mu_ref=emr, effect_sigma_ref=esr, effect_weight=ew,
        )

    @classmethod
    def from_config(cls, config: QuestionConfig) -> PriorSpec:
        """The question's priors as used by the model (after ``prior_source``)."""
        return cls.from_priors(resolved_priors(config))

    def mixed(self, slot: str) -> np.ndarray:
        """Which entries of ``base`` or ``effect`` are a mixture of two different priors."""
        if slot == "base":
            w, pairs = self.base_weight, ((self.base_alpha, self.base_alpha_ref),
                                          (self.base_beta, self.base_beta_ref))
        else:
            w, pairs = self.effect_weight, ((self.effect_mu, self.effect_mu_ref),
                                            (self.effect_sigma, self.effect_sigma_ref))
        differ = np.zeros(np.shape(w), dtype=bool)
        for a, b in pairs:
            differ |= a != b
        return (w > 0) & (w < 1) & differ

    def to_priors(self) -> dict[str, Any]:
        """These priors in the shape of :func:`forecast.elicit.resolved_priors`."""
        def vec(x: np.ndarray) -> list[float]:
            return [float(v) for v in x]

        def slot(dist: str, names: tuple[str, str], main, ref, w) -> dict[str, Any]:
            if np.all(w == 0):
                return {"dist": dist, "kwargs": {names[0]: vec(main[0]), names[1]: vec(main[1])}}
            if np.all(w == 1):
                return {"dist": dist, "kwargs": {names[0]: vec(ref[0]), names[1]: vec(ref[1])}}
            return {"dist": "Mixture", "family": dist, "kwargs": {
                "weight": vec(w),
                "elicited": {names[0]: vec(main[0]), names[1]: vec(main[1])},
                "reference": {names[0]: vec(ref[0]), names[1]: vec(ref[1])}}}

        return {
            "p_state": {"dist": "Beta", "kwargs": {"alpha": vec(self.state_alpha),
                                                   "beta": vec(self.state_beta)}},
            "p_base": slot("Beta", ("alpha", "beta"), (self.base_alpha, self.base_beta),
                           (self.base_alpha_ref, self.base_beta_ref), self.base_weight),
            "effect_mu": slot("Normal", ("mu", "sigma"), (self.effect_mu, self.effect_sigma),
                              (self.effect_mu_ref, self.effect_sigma_ref), self.effect_weight),
            "effect_sd": {"dist": "HalfNormal", "kwargs": {"sigma": self.pooling_sigma}},
        }

    def replace(self, **changes: Any) -> PriorSpec:
        """A copy with some prior parameters replaced (for a sensitivity case)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in changes.items():
            fields[name] = value
        return PriorSpec(**fields)

    def effect_density(self, beta: np.ndarray) -> np.ndarray:
        """:func:`_log_effect_density` of ``beta`` under these priors."""
        mix = None
        if np.any(self.effect_weight > 0):
            mix = (self.effect_mu_ref, self.effect_sigma_ref, self.effect_weight)
        return _log_effect_density(beta, self.effect_mu, self.effect_sigma, self.pooling_sigma,
                                   mixture=mix)

    def _effect_key(self) -> tuple:
        return (tuple(self.effect_mu), tuple(self.effect_sigma), self.pooling_sigma,
                tuple(self.effect_mu_ref), tuple(self.effect_sigma_ref),
                tuple(self.effect_weight))


def _mix_logpdf(log1: np.ndarray, log2: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``log((1 - w) e^log1 + w e^log2)``, exact at ``w`` 0 and 1."""
    w = np.broadcast_to(np.asarray(w, dtype=float), np.broadcast(log1, log2, w).shape)
    with np.errstate(divide="ignore"):
        out = np.logaddexp(np.log1p(-w) + log1, np.log(w) + log2)
    return np.where(w == 0, log1, np.where(w == 1, log2, out))


def _log_effect_density(beta: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                        pooling_sigma: float, chunk: int = 500, *,
                        mixture: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                        ) -> np.ndarray:
    """Log prior density of ``beta`` (n, B, K), the pooling scale integrated out.

    Under the model ``beta[b, k] = mu_k + sd z[b, k]`` with ``mu_k ~ Normal(m_k, s_k)``,
    ``z ~ Normal(0, 1)`` and ``sd ~ HalfNormal(pooling_sigma)``, the column
    ``beta[:, k]`` is, given ``sd``, multivariate normal with mean ``m_k 1`` and
    covariance ``s_k^2 11' + sd^2 I``. The integral over ``sd`` is a quadrature on
    a log-spaced grid (the marginal of the parameters the forecast depends on, so
    it is the right density for importance weights; ``mu`` and ``sd`` are not needed).
    With ``mixture = (m_ref, s_ref, w)`` (a linear pool) ``mu_k`` is the mixture
    ``(1 - w_k) Normal(m_k, s_k) + w_k Normal(m_ref_k, s_ref_k)``, so given ``sd`` the
    column is the same mixture of two multivariate normals.
    """
    n, b, _ = beta.shape
    t = np.linspace(math.log(pooling_sigma * 1e-5), math.log(pooling_sigma * 7.0), _SD_GRID)
    d = np.exp(t)
    logw = stats.halfnorm.logpdf(d, scale=pooling_sigma) + t  # d(sd) = sd d(log sd)
    logw -= logw.max() + np.log(np.exp(logw - logw.max()).sum())
    d2 = d**2
    parts = [(mu, sigma)] if mixture is None else [(mu, sigma), mixture[:2]]
    out = np.empty(n)
    for start in range(0, n, chunk):
        per_k = []
        for m, s in parts:
            var_par = d2[:, None] + b * s[None, :] ** 2  # (G, K)
            x = beta[start:start + chunk] - m[None, None, :]
            sx2 = x.sum(axis=1) ** 2 / b  # (c, K)
            perp = np.maximum((x**2).sum(axis=1) - sx2, 0.0)
            quad = perp[:, None, :] / d2[None, :, None] + sx2[:, None, :] / var_par[None]
            logdet = (b - 1) * np.log(d2)[None, :, None] + np.log(var_par)[None]
            per_k.append(-0.5 * (b * math.log(2 * math.pi) + logdet + quad))  # (c, G, K)
        ll_k = per_k[0] if mixture is None else _mix_logpdf(per_k[0], per_k[1],
                                                             mixture[2][None, None, :])
        ll = ll_k.sum(axis=2) + logw[None, :]  # (c, G)
        top = ll.max(axis=1, keepdims=True)
        out[start:start + chunk] = top[:, 0] + np.log(np.exp(ll - top).sum(axis=1))
    return out


def _beta_logpdf(x: np.ndarray, spec: PriorSpec, slot: str, j: int) -> np.ndarray:
    """Log prior density of column ``j`` of ``p_state`` or ``p_base`` (mixtures included)."""
    if slot == "state":
        return stats.beta.logpdf(x, spec.state_alpha[j], spec.state_beta[j])
    main = stats.beta.logpdf(x, spec.base_alpha[j], spec.base_beta[j])
    w = spec.base_weight[j]
    if w == 0:
        return main
    return _mix_logpdf(main, stats.beta.logpdf(x, spec.base_alpha_ref[j], spec.base_beta_ref[j]),
                       w)


def log_prior_ratio(params: Params, old: PriorSpec, new: PriorSpec,
                    old_effect: np.ndarray | None = None) -> np.ndarray:
    """``log p_new(theta) - log p_old(theta)`` per draw, for the parameters of :class:`Params`.

    Only the factors that differ are evaluated: Beta (or Beta-mixture) densities of the
    changed probabilities and, if an effect or the pooling scale changed, the marginal
    effect density of :func:`_log_effect_density` (``old_effect`` may pass the old
    one, which is the same for every perturbation of a forecast).
    """
    out = np.zeros(params.n)
    checks = (
        (params.p_state, "state", (old.state_alpha, old.state_beta),
         (new.state_alpha, new.state_beta)),
        (params.p_base, "base",
         (old.base_alpha, old.base_beta, old.base_alpha_ref, old.base_beta_ref,
          old.base_weight),
         (new.base_alpha, new.base_beta, new.base_alpha_ref, new.base_beta_ref,
          new.base_weight)),
    )
    for x, slot, before, after in checks:
        changed = np.zeros(np.shape(before[0]), dtype=bool)
        for a0, a1 in zip(before, after, strict=True):
            changed |= a0 != a1
        for j in np.flatnonzero(changed):
            out += _beta_logpdf(x[:, j], new, slot, j) - _beta_logpdf(x[:, j], old, slot, j)
    if old._effect_key() != new._effect_key():
        out += new.effect_density(params.beta)
        if old_effect is None:
            old_effect = old.effect_density(params.beta)
        out -= old_effect
    return out
