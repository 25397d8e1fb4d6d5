"""Every prior in force pushed to the low and to the high end of its interval."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import expit, logit

from forecast.analysis.prior_spec import PriorSpec
from forecast.config import Interval, ProbabilityInterval, ProbabilityPrior, QuestionConfig
from forecast.elicit import POOL_LABELS, prior_origins, probability_prior


def _shifted_beta(elicited: Interval | None, alpha: float, beta: float, mass: float,
                  end: str) -> tuple[float, float, str]:
    """A Beta centred (on the logit scale) at one end of an interval, same width.

    The interval is ``elicited`` when the prior in force is the elicited one, else the
    central ``mass`` interval of ``Beta(alpha, beta)`` (a reference-class or pooled prior).
    """
    if elicited is not None:
        lo, hi, mass = elicited.lower, elicited.upper, elicited.mass
    else:
        lo, hi = stats.beta.ppf([(1 - mass) / 2, (1 + mass) / 2], alpha, beta)
    a, b = float(logit(lo)), float(logit(hi))
    half = (b - a) / 2
    centre = a if end == "low" else b
    interval = ProbabilityInterval(lower=float(expit(centre - half)),
                                   upper=float(expit(centre + half)), mass=mass)
    shifted = probability_prior(ProbabilityPrior(elicited=interval, rationale="sensitivity"))
    kw = shifted["kwargs"]
    return kw["alpha"], kw["beta"], f"centred at {lo if end == 'low' else hi:.3g}"


def _shifted_mu(mu: float, sigma: float, mass: float, end: str) -> float:
    """A Normal's mean moved to one end of its central ``mass`` interval."""
    z = stats.norm.ppf(0.5 + mass / 2)
    return float(mu + (-z if end == "low" else z) * sigma)


def shifted_priors(config: QuestionConfig) -> list[dict[str, Any]]:
    """Every prior in force pushed to the low and to the high end of its interval.

    The prior in force is the one ``prior_source`` gives (:func:`forecast.elicit.resolved_priors`):
    its interval is the elicited one where the prior is elicited, else (reference
    class, log-linear pool) the central ``credible_mass`` interval of its distribution.
    A probability's prior (a Beta) is re-elicited with its interval moved, on the
    logit scale, so that its centre sits at the old interval's lower (upper) end,
    its width unchanged; an effect's Normal on the log odds ratio gets its mean
    moved to the lower (upper) end of its interval, its sd unchanged. A linear pool
    (``prior_pool.method: linear``) is pushed component by component: the analysts'
    component to the end of its interval and history's to the end of its own, the
    weight kept; the weight itself is a row of its own (``pool_weight``, pushed to 0,
    the analysts alone, and 1, history alone), under either pooling rule. The pooling
    scale has no elicited interval: its HalfNormal sigma is halved and doubled. A prior
    given directly as ``dist`` uses its central ``credible_mass`` interval.

    Returns
    -------
    list of dict
        ``parameter, kind, label, end, setting, spec`` (a :class:`PriorSpec`) and
        ``prior`` (the changed prior in ``Prior.to_dict()`` shape; a mixture's as
        ``{"dist": "Mixture", "family", "kwargs": {"weight", "elicited", "reference"}}``).
    """
    old = PriorSpec.from_config(config)
    mass = config.model.credible_mass
    origins = prior_origins(config)
    mixed_base, mixed_effect = old.mixed("base"), old.mixed("effect")
    out = []
    for j, o in enumerate(config.question.outcomes):
        own = o.baseline.elicited if origins["p_base"][j] == "elicited" else None
        for end in ("low", "high"):
            a, b, text = _shifted_beta(o.baseline.elicited if mixed_base[j] else own,
                                       old.base_alpha[j], old.base_beta[j], mass, end)
            ar, br = a, b
            if mixed_base[j]:
                ar, br, text_ref = _shifted_beta(None, old.base_alpha_ref[j],
                                                 old.base_beta_ref[j], mass, end)
                text = f"analysts' {text}, history's {text_ref}"
            spec = old.replace(base_alpha=_with(old.base_alpha, j, a),
                               base_beta=_with(old.base_beta, j, b),
                               base_alpha_ref=_with(old.base_alpha_ref, j, ar),
                               base_beta_ref=_with(old.base_beta_ref, j, br))
            prior = (_mixture("Beta", old.base_weight[j], {"alpha": a, "beta": b},
                              {"alpha": ar, "beta": br}) if mixed_base[j] else _beta(a, b))
            out.append({"parameter": f"p_base[{o.id}]", "kind": "baseline P(keep)",
                        "label": f"Baseline: {o.name}", "end": end, "setting": text,
                        "spec": spec, "prior": prior})
    for k, v in enumerate(config.evidence.variables):
        for end in ("low", "high"):
            a, b, text = _shifted_beta(v.prior.elicited, old.state_alpha[k], old.state_beta[k],
                                       mass, end)
            spec = old.replace(state_alpha=_with(old.state_alpha, k, a),
                               state_beta=_with(old.state_beta, k, b))
            out.append({"parameter": f"p_state[{v.id}]", "kind": "P(state true)",
                        "label": f"P: {v.label}", "end": end, "setting": text, "spec": spec,
                        "prior": _beta(a, b)})
        elicited_mass = v.effect.elicited.mass if v.effect.elicited is not None else mass
        own_mass = elicited_mass if origins["effect_mu"][k] == "elicited" else mass
        for end in ("low", "high"):
            mu = _shifted_mu(old.effect_mu[k], old.effect_sigma[k],
                             elicited_mass if mixed_effect[k] else own_mass, end)
            mu_ref, sigma_ref = mu, float(old.effect_sigma[k])
            text = f"odds ratio centred at {math.exp(mu):.3g}"
            if mixed_effect[k]:
                sigma_ref = float(old.effect_sigma_ref[k])
                mu_ref = _shifted_mu(old.effect_mu_ref[k], sigma_ref, mass, end)
                text = (f"odds ratio centred at {math.exp(mu):.3g} (analysts), "
                        f"{math.exp(mu_ref):.3g} (history)")
            else:
                sigma_ref = float(old.effect_sigma[k])
            spec = old.replace(effect_mu=_with(old.effect_mu, k, mu),
                               effect_mu_ref=_with(old.effect_mu_ref, k, mu_ref),
                               effect_sigma_ref=_with(old.effect_sigma_ref, k, sigma_ref))
            own = {"mu": float(mu), "sigma": float(old.effect_sigma[k])}
            prior = (_mixture("Normal", old.effect_weight[k], own,
                              {"mu": mu_ref, "sigma": sigma_ref}) if mixed_effect[k]
                     else {"dist": "Normal", "kwargs": own})
            out.append({"parameter": f"effect[{v.id}]", "kind": "odds ratio on keeping",
                        "label": f"Effect: {v.label}", "end": end, "setting": text,
                        "spec": spec, "prior": prior})
    f = config.model.sensitivity.pooling_scale_factor
    for end, factor in (("low", 1 / f), ("high", f)):
        sigma = old.pooling_sigma * factor
        out.append({"parameter": "effect_sd", "kind": "pooling scale",
                    "label": "Effect differs between bases", "end": end,
                    "setting": f"HalfNormal sigma {sigma:.3g}",
                    "spec": old.replace(pooling_sigma=sigma),
                    "prior": {"dist": "HalfNormal", "kwargs": {"sigma": sigma}}})
    if config.prior_source == "both":
        pool = config.model.prior_pool
        for end, source, weight, who in (("low", "elicited", 0.0, "the analysts alone"),
                                         ("high", "reference_class", 1.0, "history alone")):
            out.append({"parameter": "pool_weight", "kind": "pool weight",
                        "label": f"Weight on history ({POOL_LABELS[pool.method]})",
                        "end": end,
                        "setting": f"w {weight:g}, {who} (model.yaml: {pool.weight:g})",
                        "spec": PriorSpec.from_config(config.with_prior_source(source)),
                        "prior": {"weight": weight}})
    return out


def _mixture(family: str, w: float, elicited: dict[str, float], reference: dict[str, float]
             ) -> dict[str, Any]:
    return {"dist": "Mixture", "family": family,
            "kwargs": {"weight": float(w), "elicited": {k: float(x) for k, x in elicited.items()},
                       "reference": {k: float(x) for k, x in reference.items()}}}


def _beta(a: float, b: float) -> dict[str, Any]:
    return {"dist": "Beta", "kwargs": {"alpha": float(a), "beta": float(b)}}


def _with(array: np.ndarray, index: int, value: float) -> np.ndarray:
    out = np.array(array, dtype=float)
    out[index] = value
    return out
