"""Turn elicited intervals into priors, in the shape of pymc-extras' ``Prior.to_dict()``.

One job: each ``elicited: {lower, upper, mass}`` becomes the maximum-entropy
distribution of the right family with that mass in that interval, found by
PreliZ (``pz.maxent``): a Beta for a probability, a Normal on the log scale for
an odds ratio. Priors given directly as ``dist`` pass through unchanged.

PreliZ is imported lazily and its fits are cached on disk (see :func:`_maxent`): it costs
seconds, and a forecast from the exact engine otherwise needs a fraction of one.
:func:`prior_draws` gives independent draws of the parameters from these priors.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from forecast.config import EffectPrior, Interval, ProbabilityPrior, QuestionConfig

#: An interval whose odds (probability) or value (odds ratio) span less than this factor
#: is a fixed number in disguise; see :class:`DegenerateIntervalWarning`.
DEGENERATE_FACTOR = 1.05


class DegenerateIntervalWarning(UserWarning):
    """An elicited interval so narrow that its prior acts as a fixed number.

    The rule: the interval spans less than a factor :data:`DEGENERATE_FACTOR` (1.05)
    on the scale the model uses. For a probability that is the odds,
    ``logit(upper) - logit(lower) < log(1.05)``: near 0.5, ``upper - lower`` below
    about 0.012 (e.g. ``{lower: 0.5, upper: 0.5001}``); near 0.01, a relative width
    below about 5% (``{lower: 0.0100, upper: 0.0104}``), while ``{lower: 0.001,
    upper: 0.008}`` is a wide belief, not a point. For an odds ratio it is
    ``upper / lower < 1.05``. The rule ignores ``mass``, and the sensitivity
    analysis (which moves an interval, keeping its width on that scale) never
    turns a sound interval into a degenerate one.

    The prior is still built: a warning, not an error, because a value that is
    truly known may be written so; but neither the sensitivity analysis nor the
    news can then move it.
    """


def _cache_file() -> Path | None:
    """The on-disk cache of maxent fits, keyed by PreliZ's version (None: no home to keep it)."""
    try:
        from importlib.metadata import version

        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return root / "forecast" / f"maxent-preliz-{version('preliz')}.json"
    except Exception:  # no home directory, no metadata: fit every time
        return None


@lru_cache(maxsize=512)
def _maxent(family: str, lower: float, upper: float, mass: float) -> dict[str, float]:
    """PreliZ's maxent fit, cached on disk: importing PreliZ alone costs about 2 s, which
    would be most of an exact forecast's time; a fit depends only on these four numbers
    and PreliZ's version, which names the cache file."""
    key = f"{family}|{lower!r}|{upper!r}|{mass!r}"
    path = _cache_file()
    stored: dict = {}
    if path is not None and path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        if isinstance(stored, dict) and isinstance(stored.get(key), dict):
            return {k: float(v) for k, v in stored[key].items()}
    params = _fit_maxent(family, lower, upper, mass)
    if path is not None:
        try:
            from forecast.ledger import atomic_write

            stored = stored if isinstance(stored, dict) else {}
            atomic_write(path, json.dumps({**stored, key: params}, sort_keys=True).encode())
        except OSError:
            pass  # a read-only home: the fit is still right, only not kept
    return params


def _fit_maxent(family: str, lower: float, upper: float, mass: float) -> dict[str, float]:
    import preliz as pz

    dist = getattr(pz, family)()
    pz.maxent(dist, lower, upper, mass, plot=False)  # mutates ``dist``
    params = {name: float(value) for name, value in zip(dist.param_names, dist.params, strict=True)}
    if not all(math.isfinite(x) and (name == "mu" or x > 0) for name, x in params.items()):
        raise ValueError(
            f"PreliZ could not fit a {family} with {mass:.0%} in [{lower}, {upper}]: {params}"
        )
    return params


def _log_width(e: Interval, probability: bool) -> float:
    """The interval's width on the model's scale: log odds, or log odds ratio."""
    if probability:
        return math.log(e.upper / (1 - e.upper)) - math.log(e.lower / (1 - e.lower))
    return math.log(e.upper) - math.log(e.lower)


def warn_if_degenerate(e: Interval | None, *, probability: bool, where: str | None = None
                       ) -> bool:
    """Warn (:class:`DegenerateIntervalWarning`) if ``e`` is a point in disguise.

    ``where`` names the interval, e.g. ``question.yaml: outcomes[tartus].baseline.elicited``.
    Returns whether it warned.
    """
    if e is None or _log_width(e, probability) >= math.log(DEGENERATE_FACTOR):
        return False
    factor = math.exp(_log_width(e, probability))
    ends = "the odds at its ends differ" if probability else "its ends differ"
    warnings.warn(DegenerateIntervalWarning(
        f"{where or 'an elicited interval'}: [{e.lower:g}, {e.upper:g}] is so narrow "
        f"({ends} by a factor of {factor:.4f}, under {DEGENERATE_FACTOR:g}) that it acts "
        "as a fixed number, not a belief: neither the news nor the sensitivity analysis can "
        "move it; widen it to the range you would really bet on"), stacklevel=3)
    return True


def elicited_intervals(config: QuestionConfig
                       ) -> Iterator[tuple[str, Interval | None, bool]]:
    """Every elicited interval of the question: ``(where, interval or None, is_probability)``."""
    question, evidence = config.directory / "question.yaml", config.directory / "evidence.yaml"
    for o in config.question.outcomes:
        yield f"{question}: outcomes[{o.id}].baseline.elicited", o.baseline.elicited, True
    for v in config.evidence.variables:
        yield f"{evidence}: variables[{v.id}].prior.elicited", v.prior.elicited, True
        yield f"{evidence}: variables[{v.id}].effect.elicited", v.effect.elicited, False


def check_intervals(config: QuestionConfig) -> int:
    """Warn about every degenerate elicited interval (no fitting); return how many."""
    return sum(warn_if_degenerate(e, probability=p, where=where)
               for where, e, p in elicited_intervals(config))


def probability_prior(prior: ProbabilityPrior, *, where: str | None = None) -> dict[str, Any]:
    """A Beta prior dict for a probability (``where`` names it in a warning)."""
    if prior.dist is not None:
        return {"dist": "Beta", "kwargs": dict(prior.dist.kwargs)}
    e = prior.elicited
    warn_if_degenerate(e, probability=True, where=where)
    return {"dist": "Beta", "kwargs": _maxent("Beta", e.lower, e.upper, e.mass)}


def effect_prior(prior: EffectPrior, *, where: str | None = None) -> dict[str, Any]:
    """A Normal prior dict on the log odds ratio (``where`` names it in a warning)."""
    if prior.dist is not None:
        return {"dist": "Normal", "kwargs": dict(prior.dist.kwargs)}
    e = prior.elicited
    warn_if_degenerate(e, probability=False, where=where)
    return {
        "dist": "Normal",
        "kwargs": _maxent("Normal", math.log(e.lower), math.log(e.upper), e.mass),
    }


def pool_beta(elicited: dict[str, float], reference: dict[str, float], w: float
              ) -> dict[str, float]:
    """Log-linear pool ``f_e**(1-w) * f_r**w`` of two Betas: again a Beta.

    With weights summing to one the exponents of ``p`` and ``1-p`` combine
    linearly, so ``alpha = (1-w) alpha_e + w alpha_r`` (and the same for beta).
    """
    return {k: (1 - w) * elicited[k] + w * reference[k] for k in ("alpha", "beta")}


def pool_normal(elicited: dict[str, float], reference: dict[str, float], w: float
                ) -> dict[str, float]:
    """Log-linear pool of two Normals: precision-weighted, precisions mixed by ``1-w, w``."""
    te, tr = elicited["sigma"] ** -2, reference["sigma"] ** -2
    tau = (1 - w) * te + w * tr
    return {"mu": ((1 - w) * te * elicited["mu"] + w * tr * reference["mu"]) / tau,
            "sigma": tau**-0.5}


def prior_origins(config: QuestionConfig) -> dict[str, list[str]]:
    """Where each base rate and effect prior comes from under the question's ``prior_source``.

    Returns
    -------
    dict
        ``{"p_base": [...], "effect_mu": [...]}``, one of ``elicited``,
        ``reference class`` or ``pooled`` per base / per evidence variable.
    """
    source, linked = config.prior_source, config.linked
    tag = {"elicited": "elicited", "reference_class": "reference class", "both": "pooled"}[source]
    return {
        "p_base": [tag] * len(config.bases),
        "effect_mu": [tag if source != "elicited" and v in linked.effects else "elicited"
                      for v in config.variables],
    }


def _linked(config: QuestionConfig, slot: str, elicited: list[dict], reference) -> list[dict]:
    """Apply ``prior_source`` to one slot's elicited priors (``reference``: per-entry or None)."""
    source, w = config.prior_source, config.model.reference_weight
    pool = pool_beta if slot == "p_base" else pool_normal
    out = []
    for mine, theirs in zip(elicited, reference, strict=True):
        if source == "elicited" or theirs is None:
            out.append(mine)
        elif source == "reference_class":
            out.append(dict(theirs))
        else:
            out.append(pool(mine, theirs, w))
    return out


def resolved_priors(config: QuestionConfig) -> dict[str, Any]:
    """Every prior of the question as ``Prior.to_dict()``-shaped dicts with dims.

    Under ``prior_source: reference_class`` the base rates and the effects of the
    variables linked to a reference-class feature come from
    ``reference_priors.yaml``; under ``both`` they are the log-linear pool of
    that and the elicited prior (:func:`pool_beta`, :func:`pool_normal`).

    Returns
    -------
    dict
        ``{"p_state": {...}, "p_base": {...}, "effect_mu": {...}, "effect_sd": {...}}``
        where vector parameters are lists in the order of the ``dims`` coordinate.
    """
    where = config.directory / "evidence.yaml"
    state = [probability_prior(v.prior, where=f"{where}: variables[{v.id}].prior.elicited")
             ["kwargs"] for v in config.evidence.variables]
    base = [probability_prior(o.baseline, where=f"{config.directory / 'question.yaml'}: "
                              f"outcomes[{o.id}].baseline.elicited")["kwargs"]
            for o in config.question.outcomes]
    effect = [effect_prior(v.effect, where=f"{where}: variables[{v.id}].effect.elicited")
              ["kwargs"] for v in config.evidence.variables]
    linked = config.linked if config.prior_source != "elicited" else None
    if linked is not None:
        base = _linked(config, "p_base", base,
                       [linked.baseline.dist.kwargs] * len(base))
        effect = _linked(config, "effect_mu", effect,
                         [linked.effects[v].dist.kwargs if v in linked.effects else None
                          for v in config.variables])
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


def prior_draws(config: QuestionConfig, n: int, seed: int,
                priors: dict | None = None) -> dict[str, np.ndarray]:
    """Independent draws of the parameters from the prior (no news), by NumPy.

    The exact engine's proposal and the prior predictive; the PyMC model
    (:mod:`forecast.model`) states the same distribution, and a test checks the
    two against ``pm.sample_prior_predictive``. ``priors`` (the shape of
    :func:`resolved_priors`) replaces the question's own priors, e.g. a prior
    pushed to the end of its interval by the sensitivity analysis.
    """
    priors = resolved_priors(config) if priors is None else priors
    rng = np.random.default_rng(seed)
    ps, pb = priors["p_state"]["kwargs"], priors["p_base"]["kwargs"]
    mu = priors["effect_mu"]["kwargs"]
    k, b = len(config.variables), len(config.bases)
    p_state = rng.beta(ps["alpha"], ps["beta"], size=(n, k))
    p_base = rng.beta(pb["alpha"], pb["beta"], size=(n, b))
    effect_mu = rng.normal(mu["mu"], mu["sigma"], size=(n, k))
    effect_sd = np.abs(rng.normal(0.0, priors["effect_sd"]["kwargs"]["sigma"], size=(n, 1, 1)))
    beta = effect_mu[:, None, :] + effect_sd * rng.normal(size=(n, b, k))
    return {"p_state": p_state, "p_base": p_base, "beta": beta}
