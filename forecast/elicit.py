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

from forecast.config import (
    DIST_PARAMS,
    EffectPrior,
    Interval,
    ProbabilityPrior,
    QuestionConfig,
)
from forecast.errors import DegenerateIntervalWarning
from forecast.files import atomic_write, read_text

#: An interval whose odds (probability) or value (odds ratio) span less than this factor
#: is a fixed number in disguise; see :class:`DegenerateIntervalWarning`.
DEGENERATE_FACTOR = 1.05


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
            stored = json.loads(read_text(path)[0])
        except ValueError:  # unreadable (ConfigError) or not JSON: refitted
            stored = {}
        if isinstance(stored, dict) and isinstance(stored.get(key), dict):
            return {k: float(v) for k, v in stored[key].items()}
    params = _fit_maxent(family, lower, upper, mass)
    if path is not None:
        try:
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


#: How each pooling rule is named in tables and charts.
POOL_LABELS = {"log_linear": "log-linear pool", "linear": "linear pool (mixture)"}


def mixture(family_name: str, elicited: list[dict[str, float]],
            reference: list[dict[str, float]], w: float, dims: tuple[str, ...]
            ) -> dict[str, Any]:
    """The linear pool ``(1-w) f_e + w f_r`` of one slot, entry by entry, as a prior dict.

    ``{"dist": "Mixture", "family": family_name, "kwargs": {"weight": [w, ...],
    "elicited": {...}, "reference": {...}}, "dims": dims}``, each component's kwargs
    lists in the order of ``dims`` and ``weight`` the reference component's probability
    per entry. An entry the reference class does not inform has two equal components,
    so its mixture is its elicited prior exactly.
    """
    names = DIST_PARAMS[family_name]
    return {
        "dist": "Mixture",
        "family": family_name,
        "kwargs": {
            "weight": [float(w)] * len(elicited),
            "elicited": {k: [float(e[k]) for e in elicited] for k in names},
            "reference": {k: [float(r[k]) for r in reference] for k in names},
        },
        "dims": dims,
    }


def is_mixture(prior: dict[str, Any]) -> bool:
    """Whether a prior dict (one slot of :func:`resolved_priors`) is a linear pool."""
    return prior.get("dist") == "Mixture"


def components(prior: dict[str, Any]) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """A slot's prior as ``[(weight per entry, kwargs arrays), ...]``: one component with
    weight 1 for a plain prior, the elicited then the reference component for a mixture."""
    kw = prior["kwargs"]
    if not is_mixture(prior):
        arrays = {k: np.asarray(v, dtype=float) for k, v in kw.items()}
        return [(np.ones(np.shape(next(iter(arrays.values())))), arrays)]
    w = np.asarray(kw["weight"], dtype=float)
    return [(1.0 - w, {k: np.asarray(v, dtype=float) for k, v in kw["elicited"].items()}),
            (w, {k: np.asarray(v, dtype=float) for k, v in kw["reference"].items()})]


def family(prior: dict[str, Any]) -> str:
    """``Beta`` or ``Normal``: the family of a slot's prior (of its components if a mixture)."""
    return prior["family"] if is_mixture(prior) else prior["dist"]


def _scipy(family_name: str, kw: dict[str, np.ndarray]):
    from scipy import stats

    if family_name == "Beta":
        return stats.beta(kw["alpha"], kw["beta"])
    return stats.norm(kw["mu"], kw["sigma"])


def prior_logpdf(prior: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Log density of a slot's prior at ``x`` (entries on the last axis), mixtures included."""
    fam = family(prior)
    out = None
    for w, kw in components(prior):
        with np.errstate(divide="ignore"):
            term = np.log(w) + _scipy(fam, kw).logpdf(x)
        out = term if out is None else np.logaddexp(out, term)
    return out


def prior_cdf(prior: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """The cumulative distribution of a slot's prior at ``x`` (entries on the last axis)."""
    fam = family(prior)
    return sum(w * _scipy(fam, kw).cdf(x) for w, kw in components(prior))


def prior_quantiles(prior: dict[str, Any], index: int, q: list[float]) -> list[float]:
    """Quantiles of entry ``index`` of a slot's prior (a mixture's by root finding)."""
    from scipy import optimize

    fam = family(prior)
    parts = [(float(w[index]), {k: float(v[index]) for k, v in kw.items()})
             for w, kw in components(prior)]
    parts = [(w, kw) for w, kw in parts if w > 0]
    if len(parts) == 1:
        return [float(v) for v in _scipy(fam, parts[0][1]).ppf(q)]
    out = []
    for qi in q:
        ends = [_scipy(fam, kw).ppf(qi) for _, kw in parts]
        lo, hi = min(ends), max(ends)  # a mixture's quantile lies between its components'
        if hi - lo < 1e-12:
            out.append(float(lo))
            continue
        def gap(t: float, qi: float = qi) -> float:
            return sum(w * _scipy(fam, kw).cdf(t) for w, kw in parts) - qi

        out.append(float(optimize.brentq(gap, lo, hi, xtol=1e-12)))
    return out


def prior_mean(prior: dict[str, Any], index: int) -> float:
    """The mean of entry ``index`` of a slot's prior (a mixture's: the weighted means)."""
    fam = family(prior)
    return float(sum(w[index] * (kw["alpha"][index] / (kw["alpha"][index] + kw["beta"][index])
                                 if fam == "Beta" else kw["mu"][index])
                     for w, kw in components(prior)))


def prior_interval(config: QuestionConfig, slot: str, index: int, elicited: Interval | None
                   ) -> tuple[float, float, float]:
    """The interval of the prior in force for one entry, as ``(lower, upper, mass)``.

    The elicited interval where the prior in force is the elicited one (and was
    elicited as an interval); otherwise (a ``dist`` prior, the reference class, either
    pool) the central ``credible_mass`` interval of the distribution in force. For an
    effect the ends are odds ratios. The interval of a bimodal linear pool may hold
    its trough: it is where the mass is, not where the density is high.
    """
    priors = resolved_priors(config)
    origin = "elicited"
    if slot in ("p_base", "effect_mu"):
        origin = prior_origins(config)[slot][index]
    if origin == "elicited" and elicited is not None:
        return elicited.lower, elicited.upper, elicited.mass
    mass = config.model.credible_mass
    lo, hi = prior_quantiles(priors[slot], index, [(1 - mass) / 2, (1 + mass) / 2])
    if slot == "effect_mu":
        lo, hi = math.exp(lo), math.exp(hi)
    return lo, hi, mass


def prior_origins(config: QuestionConfig) -> dict[str, list[str]]:
    """Where each base rate and effect prior comes from under the question's ``prior_source``.

    Returns
    -------
    dict
        ``{"p_base": [...], "effect_mu": [...]}``, one of ``elicited``,
        ``reference class`` or ``pooled (<rule>)`` per base / per evidence variable.
    """
    source, linked = config.prior_source, config.linked
    tag = {"elicited": "elicited", "reference_class": "reference class", "both": "pooled"}[source]
    if source == "both":
        tag = f"pooled ({POOL_LABELS[config.model.prior_pool.method]})"
    return {
        "p_base": [tag] * len(config.bases),
        "effect_mu": [tag if source != "elicited" and v in linked.effects else "elicited"
                      for v in config.variables],
    }


def _linked(config: QuestionConfig, slot: str, elicited: list[dict], reference) -> list[dict]:
    """Apply ``prior_source`` to one slot's elicited priors (``reference``: per-entry or None),
    the log-linear rule for ``both`` (the linear rule is :func:`mixture`)."""
    source, w = config.prior_source, config.model.prior_pool.weight
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
    ``reference_priors.yaml``; under ``both`` they pool that and the elicited prior
    by ``prior_pool.method`` of ``model.yaml``: ``log_linear``, again a Beta and a
    Normal (:func:`pool_beta`, :func:`pool_normal`); ``linear``, the mixture
    ``(1-w) f_e + w f_r`` of each base rate and each effect (:func:`mixture`; the
    slots ``p_base`` and ``effect_mu`` are then ``"dist": "Mixture"``).

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
    pooling = config.model.effect_pooling.dist
    if linked is not None and config.prior_source == "both" and (
            config.model.prior_pool.method == "linear"):
        w = config.model.prior_pool.weight
        ref_base = [dict(linked.baseline.dist.kwargs)] * len(base)
        ref_effect = [dict(linked.effects[v].dist.kwargs) if v in linked.effects else e
                      for v, e in zip(config.variables, effect, strict=True)]
        return {
            "p_state": {
                "dist": "Beta",
                "kwargs": {k: [s[k] for s in state] for k in ("alpha", "beta")},
                "dims": ("evidence",),
            },
            "p_base": mixture("Beta", base, ref_base, w, ("base",)),
            "effect_mu": mixture("Normal", effect, ref_effect, w, ("evidence",)),
            "effect_sd": {"dist": pooling.dist, "kwargs": dict(pooling.kwargs)},
        }
    if linked is not None:
        base = _linked(config, "p_base", base,
                       [linked.baseline.dist.kwargs] * len(base))
        effect = _linked(config, "effect_mu", effect,
                         [linked.effects[v].dist.kwargs if v in linked.effects else None
                          for v in config.variables])
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

    A linear pool (``"dist": "Mixture"``) is drawn as its definition reads: per draw and
    entry, the reference component with probability ``w``, else the elicited one, then
    a draw from the component picked (both are drawn, one kept, so the choice and the
    value use separate streams).
    """
    priors = resolved_priors(config) if priors is None else priors
    rng = np.random.default_rng(seed)
    ps = priors["p_state"]["kwargs"]
    k, b = len(config.variables), len(config.bases)
    p_state = rng.beta(ps["alpha"], ps["beta"], size=(n, k))
    p_base = _draw_slot(rng, priors["p_base"], (n, b))
    effect_mu = _draw_slot(rng, priors["effect_mu"], (n, k))
    effect_sd = np.abs(rng.normal(0.0, priors["effect_sd"]["kwargs"]["sigma"], size=(n, 1, 1)))
    beta = effect_mu[:, None, :] + effect_sd * rng.normal(size=(n, b, k))
    return {"p_state": p_state, "p_base": p_base, "beta": beta}


def _draw_slot(rng: np.random.Generator, prior: dict[str, Any], size: tuple[int, int]
               ) -> np.ndarray:
    """Draws of one slot's prior (a Beta, a Normal, or a mixture of two of them)."""
    def draw(kw: dict) -> np.ndarray:
        if family(prior) == "Beta":
            return rng.beta(kw["alpha"], kw["beta"], size=size)
        return rng.normal(kw["mu"], kw["sigma"], size=size)

    if not is_mixture(prior):
        return draw(prior["kwargs"])
    kw = prior["kwargs"]
    mine, theirs = draw(kw["elicited"]), draw(kw["reference"])
    pick = rng.random(size) < np.asarray(kw["weight"], dtype=float)
    return np.where(pick, theirs, mine)
