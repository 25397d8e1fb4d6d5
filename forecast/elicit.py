"""Turn elicited intervals into priors, in the shape of pymc-extras' ``Prior.to_dict()``.

One job: each ``elicited: {lower, upper, mass}`` becomes the maximum-entropy
distribution of the right family with that mass in that interval, found by
PreliZ (``pz.maxent``): a Beta for a probability, a Normal on the log scale for
an odds ratio. Priors given directly as ``dist`` pass through unchanged.

PreliZ is imported lazily: it costs seconds, and only fitting needs it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from forecast.config import EffectPrior, ProbabilityPrior, QuestionConfig


@lru_cache(maxsize=512)
def _maxent(family: str, lower: float, upper: float, mass: float) -> dict[str, float]:
    import preliz as pz

    dist = getattr(pz, family)()
    pz.maxent(dist, lower, upper, mass, plot=False)  # mutates ``dist``
    params = {name: float(value) for name, value in zip(dist.param_names, dist.params, strict=True)}
    if not all(math.isfinite(x) and (name == "mu" or x > 0) for name, x in params.items()):
        raise ValueError(
            f"PreliZ could not fit a {family} with {mass:.0%} in [{lower}, {upper}]: {params}"
        )
    return params


def probability_prior(prior: ProbabilityPrior) -> dict[str, Any]:
    """A Beta prior dict for a probability."""
    if prior.dist is not None:
        return {"dist": "Beta", "kwargs": dict(prior.dist.kwargs)}
    e = prior.elicited
    return {"dist": "Beta", "kwargs": _maxent("Beta", e.lower, e.upper, e.mass)}


def effect_prior(prior: EffectPrior) -> dict[str, Any]:
    """A Normal prior dict on the log odds ratio."""
    if prior.dist is not None:
        return {"dist": "Normal", "kwargs": dict(prior.dist.kwargs)}
    e = prior.elicited
    return {
        "dist": "Normal",
        "kwargs": _maxent("Normal", math.log(e.lower), math.log(e.upper), e.mass),
    }


def resolved_priors(config: QuestionConfig) -> dict[str, Any]:
    """Every prior of the question as ``Prior.to_dict()``-shaped dicts with dims.

    Returns
    -------
    dict
        ``{"p_state": {...}, "p_base": {...}, "effect_mu": {...}, "effect_sd": {...}}``
        where vector parameters are lists in the order of the ``dims`` coordinate.
    """
    state = [probability_prior(v.prior)["kwargs"] for v in config.evidence.variables]
    base = [probability_prior(o.baseline)["kwargs"] for o in config.question.outcomes]
    effect = [effect_prior(v.effect)["kwargs"] for v in config.evidence.variables]
    pooling = config.model.effect_pooling.dist
    return {
        "p_state": {
            "dist": "Beta",
            "kwargs": {k: [s[k] for s in state] for k in ("alpha", "beta")},
            "dims": ("evidence",),
        },
        "p_base": {
            "dist": "Beta",
            "kwargs": {k: [s[k] for s in base] for k in ("alpha", "beta")},
            "dims": ("base",),
        },
        "effect_mu": {
            "dist": "Normal",
            "kwargs": {k: [s[k] for s in effect] for k in ("mu", "sigma")},
            "dims": ("evidence",),
        },
        "effect_sd": {"dist": pooling.dist, "kwargs": dict(pooling.kwargs)},
    }
