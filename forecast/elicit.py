"""Turn the question's elicited intervals into its priors (:class:`forecast.prior.Priors`).

One job: each ``elicited: {lower, upper, mass}`` becomes the maximum-entropy
distribution of the right family with that mass in that interval (:func:`constrain`:
pymc-extras' ``Prior.constrain``, PreliZ's maxent fit, cached on disk): a Beta for a
probability, a Normal on the log scale for an odds ratio. Priors given directly as
``dist`` pass through unchanged. Under ``prior_source`` (``model.yaml``) the base
rates and linked effects come from the reference class, or pool it with the
analysts' (log-linear or linear pool).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from forecast.config import (
    DIST_PARAMS,
    DistSpec,
    EffectPrior,
    Interval,
    ProbabilityPrior,
    QuestionConfig,
)
from forecast.errors import DegenerateIntervalWarning
from forecast.files import atomic_write, read_text
from forecast.prior import Dist, LinearPool, Priors, SlotPrior


def _cache_file() -> Path | None:
    """The on-disk cache of maxent fits, keyed by PreliZ's version (None: no home to keep it)."""
    try:
        from importlib.metadata import version

        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return root / "forecast" / f"maxent-preliz-{version('preliz')}.json"
    except Exception:  # no home directory, no metadata: fit every time
        return None


def constrain(family: str, lower: float, upper: float, mass: float) -> Dist:
    """The maximum-entropy ``family`` prior with ``mass`` in ``[lower, upper]``.

    pymc-extras' ``Prior(family).constrain(lower, upper, mass)`` (PreliZ's ``maxent``),
    cached on disk: importing PreliZ and PyMC costs seconds, most of an exact forecast's
    time, and a fit depends only on these four numbers and PreliZ's version, which
    names the cache file.
    """
    return Dist(family, _constrained(family, float(lower), float(upper), float(mass)))


@lru_cache(maxsize=512)
def _constrained(family: str, lower: float, upper: float, mass: float) -> dict[str, float]:
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
    params = _fit(family, lower, upper, mass)
    if path is not None:
        try:
            stored = stored if isinstance(stored, dict) else {}
            atomic_write(path, json.dumps({**stored, key: params}, sort_keys=True).encode())
        except OSError:
            pass  # a read-only home: the fit is still right, only not kept
    return params


def _fit(family: str, lower: float, upper: float, mass: float) -> dict[str, float]:
    from pymc_extras.prior import Prior

    fitted = Prior(family).constrain(lower, upper, mass)
    params = {name: float(fitted.parameters[name]) for name in DIST_PARAMS[family]}
    if not all(math.isfinite(x) and (name == "mu" or x > 0) for name, x in params.items()):
        raise ValueError(
            f"PreliZ could not fit a {family} with {mass:.0%} in [{lower}, {upper}]: {params}"
        )
    return params


#: An interval whose odds (probability) or value (odds ratio) span less than this factor
#: is a fixed number in disguise; see :class:`DegenerateIntervalWarning`.
DEGENERATE_FACTOR = 1.05


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


def _given(spec: DistSpec) -> Dist:
    return Dist(spec.dist, dict(spec.kwargs))


def probability_prior(prior: ProbabilityPrior, *, where: str | None = None) -> Dist:
    """A probability's Beta prior (``where`` names it in a warning)."""
    if prior.dist is not None:
        return _given(prior.dist)
    e = prior.elicited
    warn_if_degenerate(e, probability=True, where=where)
    return constrain("Beta", e.lower, e.upper, e.mass)


def effect_prior(prior: EffectPrior, *, where: str | None = None) -> Dist:
    """An effect's Normal prior on the log odds ratio (``where`` names it in a warning)."""
    if prior.dist is not None:
        return _given(prior.dist)
    e = prior.elicited
    warn_if_degenerate(e, probability=False, where=where)
    return constrain("Normal", math.log(e.lower), math.log(e.upper), e.mass)


def log_linear_pool(elicited: Dist, reference: Dist, w: float) -> Dist:
    """The log-linear pool ``f_e**(1-w) * f_r**w`` (renormalised) of two Betas or two Normals.

    Of two Betas again a Beta: with weights summing to one the exponents of ``p`` and
    ``1-p`` combine linearly, so ``alpha = (1-w) alpha_e + w alpha_r`` (the same for
    beta). Of two Normals again a Normal, precision-weighted with the precisions mixed by
    ``1-w, w`` (Genest & Zidek 1986 on pooling rules).
    """
    e, r = elicited.parameters, reference.parameters
    if elicited.family == "Beta":
        return Dist("Beta", {k: (1 - w) * e[k] + w * r[k] for k in ("alpha", "beta")},
                    elicited.dims)
    te, tr = e["sigma"] ** -2, r["sigma"] ** -2
    tau = (1 - w) * te + w * tr
    return Dist("Normal", {"mu": ((1 - w) * te * e["mu"] + w * tr * r["mu"]) / tau,
                           "sigma": tau**-0.5}, elicited.dims)


#: How each pooling rule is named in tables and charts.
POOL_LABELS = {"log_linear": "log-linear pool", "linear": "linear pool (mixture)"}


def prior_interval(config: QuestionConfig, slot: str, index: int, elicited: Interval | None,
                   *, priors: Priors | None = None) -> tuple[float, float, float]:
    """The interval of the prior in force for one entry, as ``(lower, upper, mass)``.

    The elicited interval where the prior in force is the elicited one (and was
    elicited as an interval); otherwise (a ``dist`` prior, the reference class, either
    pool) the central ``credible_mass`` interval of the distribution in force. For an
    effect the ends are odds ratios. The interval of a bimodal linear pool may hold
    its trough: it is where the mass is, not where the density is high. ``priors``: the
    question's :func:`resolved_priors`, if the caller has them (a table asks once per row).
    """
    origin = "elicited"
    if slot in ("p_base", "effect_mu"):
        origin = prior_origins(config)[slot][index]
    if origin == "elicited" and elicited is not None:
        return elicited.lower, elicited.upper, elicited.mass
    mass = config.model.credible_mass
    priors = resolved_priors(config) if priors is None else priors
    lo, hi = priors[slot].quantiles(index, [(1 - mass) / 2, (1 + mass) / 2])
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


def _in_force(config: QuestionConfig, elicited: list[Dist], reference: list[Dist | None],
              dims: tuple[str, ...]) -> SlotPrior:
    """One slot's prior under ``prior_source``: the elicited entries, the reference class's
    (where it informs an entry), or their pool by ``prior_pool.method``."""
    source, pool = config.prior_source, config.model.prior_pool
    theirs = [e if r is None else r for e, r in zip(elicited, reference, strict=True)]
    mine, ref = Dist.stack(elicited, dims), Dist.stack(theirs, dims)
    if source == "elicited":
        return mine
    if source == "reference_class":
        return ref
    if pool.method == "linear":
        return LinearPool(mine, ref, [pool.weight] * len(elicited))
    pooled = [e if r is None else log_linear_pool(e, r, pool.weight)
              for e, r in zip(elicited, reference, strict=True)]
    return Dist.stack(pooled, dims)


def resolved_priors(config: QuestionConfig) -> Priors:
    """Every prior of the question, after ``prior_source``.

    Under ``prior_source: reference_class`` the base rates and the effects of the
    variables linked to a reference-class feature come from
    ``reference_priors.yaml``; under ``both`` they pool that and the elicited prior
    by ``prior_pool.method`` of ``model.yaml``: ``log_linear``, again a Beta and a
    Normal (:func:`log_linear_pool`); ``linear``, the mixture ``(1-w) f_e + w f_r`` of
    each base rate and each effect (:class:`forecast.prior.LinearPool`). An entry the
    reference class does not inform keeps its elicited prior under every source.
    """
    where = config.directory / "evidence.yaml"
    question = config.directory / "question.yaml"
    state = [probability_prior(v.prior, where=f"{where}: variables[{v.id}].prior.elicited")
             for v in config.evidence.variables]
    base = [probability_prior(o.baseline, where=f"{question}: outcomes[{o.id}].baseline.elicited")
            for o in config.question.outcomes]
    effect = [effect_prior(v.effect, where=f"{where}: variables[{v.id}].effect.elicited")
              for v in config.evidence.variables]
    ref_base: list[Dist | None] = [None] * len(base)
    ref_effect: list[Dist | None] = [None] * len(effect)
    if config.prior_source != "elicited":
        linked = config.linked
        ref_base = [_given(linked.baseline.dist)] * len(base)
        ref_effect = [_given(linked.effects[v].dist) if v in linked.effects else None
                      for v in config.variables]
    return Priors(
        p_state=Dist.stack(state, ("evidence",)),
        p_base=_in_force(config, base, ref_base, ("base",)),
        effect_mu=_in_force(config, effect, ref_effect, ("evidence",)),
        effect_sd=_given(config.model.effect_pooling.dist),
    )
