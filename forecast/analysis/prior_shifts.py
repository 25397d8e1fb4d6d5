"""Every prior in force pushed to the low and to the high end of its interval."""

from __future__ import annotations

import math
from typing import Any

from scipy import stats
from scipy.special import expit, logit

from forecast.config import Interval, ProbabilityInterval, ProbabilityPrior, QuestionConfig
from forecast.elicit import POOL_LABELS, prior_origins, probability_prior, resolved_priors
from forecast.prior import Dist, LinearPool, SlotPrior


def _shifted_beta(elicited: Interval | None, prior: Dist, mass: float, end: str
                  ) -> tuple[Dist, str]:
    """A Beta centred (on the logit scale) at one end of an interval, same width.

    The interval is ``elicited`` when the prior in force is the elicited one, else the
    central ``mass`` interval of the scalar Beta ``prior`` (a reference-class or pooled
    prior).
    """
    if elicited is not None:
        lo, hi, mass = elicited.lower, elicited.upper, elicited.mass
    else:
        lo, hi = prior.quantiles(0, [(1 - mass) / 2, (1 + mass) / 2])
    a, b = float(logit(lo)), float(logit(hi))
    half = (b - a) / 2
    centre = a if end == "low" else b
    interval = ProbabilityInterval(lower=float(expit(centre - half)),
                                   upper=float(expit(centre + half)), mass=mass)
    shifted = probability_prior(ProbabilityPrior(elicited=interval, rationale="sensitivity"))
    return shifted, f"centred at {lo if end == 'low' else hi:.3g}"


def _shifted_normal(prior: Dist, mass: float, end: str) -> Dist:
    """A scalar Normal with its mean moved to one end of its central ``mass`` interval."""
    z = stats.norm.ppf(0.5 + mass / 2)
    mu, sigma = float(prior.parameters["mu"]), float(prior.parameters["sigma"])
    return Dist("Normal", {"mu": mu + (-z if end == "low" else z) * sigma, "sigma": sigma})


def _put(slot: SlotPrior, j: int, entry: SlotPrior) -> SlotPrior:
    """``slot`` with entry ``j`` replaced by the scalar prior ``entry``."""
    if isinstance(slot, LinearPool):
        return LinearPool(_put(slot.elicited, j, entry.elicited),
                          _put(slot.reference, j, entry.reference), slot.weight)
    return slot.with_entry(j, **{k: float(v) for k, v in entry.parameters.items()})


def _plain(entry: SlotPrior) -> Dist:
    """A scalar entry as one distribution (a pool whose components agree is its component)."""
    return entry.elicited if isinstance(entry, LinearPool) else entry


def _like(current: SlotPrior, entry: SlotPrior) -> SlotPrior:
    """``entry`` in the form of ``current``: a pool of two equal components if it is a pool."""
    if isinstance(entry, LinearPool) or not isinstance(current, LinearPool):
        return entry
    return LinearPool(entry, entry, current.weight)


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
        ``parameter, kind, label, end, setting``, ``priors`` (every prior, one changed:
        a :class:`forecast.prior.Priors`) and ``prior`` (the changed entry, a scalar
        :class:`forecast.prior.Dist` or :class:`forecast.prior.LinearPool`; None for the
        pool weight).
    """
    old = resolved_priors(config)
    mass = config.model.credible_mass
    origins = prior_origins(config)
    out = []

    def row(parameter, kind, label, end, setting, priors, prior) -> None:
        out.append({"parameter": parameter, "kind": kind, "label": label, "end": end,
                    "setting": setting, "priors": priors, "prior": prior})

    for j, o in enumerate(config.question.outcomes):
        current = old.p_base.entry(j)
        pooled = isinstance(current, LinearPool) and bool(current.mixed())
        own = o.baseline.elicited if origins["p_base"][j] == "elicited" or pooled else None
        for end in ("low", "high"):
            if pooled:
                mine, text = _shifted_beta(own, current.elicited, mass, end)
                theirs, text_ref = _shifted_beta(None, current.reference, mass, end)
                entry: SlotPrior = LinearPool(mine, theirs, current.weight)
                text = f"analysts' {text}, history's {text_ref}"
            else:
                entry, text = _shifted_beta(own, _plain(current), mass, end)
            row(f"p_base[{o.id}]", "baseline P(keep)", f"Baseline: {o.name}", end, text,
                old.replace(p_base=_put(old.p_base, j, _like(current, entry))), entry)
    for k, v in enumerate(config.evidence.variables):
        for end in ("low", "high"):
            entry, text = _shifted_beta(v.prior.elicited, old.p_state.entry(k), mass, end)
            row(f"p_state[{v.id}]", "P(state true)", f"P: {v.label}", end, text,
                old.replace(p_state=_put(old.p_state, k, entry)), entry)
        current = old.effect_mu.entry(k)
        pooled = isinstance(current, LinearPool) and bool(current.mixed())
        elicited_mass = v.effect.elicited.mass if v.effect.elicited is not None else mass
        own_mass = elicited_mass if origins["effect_mu"][k] == "elicited" or pooled else mass
        for end in ("low", "high"):
            if pooled:
                mine = _shifted_normal(current.elicited, own_mass, end)
                theirs = _shifted_normal(current.reference, mass, end)
                entry = LinearPool(mine, theirs, current.weight)
                text = (f"odds ratio centred at {math.exp(mine.mean()):.3g} (analysts), "
                        f"{math.exp(theirs.mean()):.3g} (history)")
            else:
                entry = _shifted_normal(_plain(current), own_mass, end)
                text = f"odds ratio centred at {math.exp(entry.mean()):.3g}"
            row(f"effect[{v.id}]", "odds ratio on keeping", f"Effect: {v.label}", end, text,
                old.replace(effect_mu=_put(old.effect_mu, k, _like(current, entry))), entry)
    f = config.model.sensitivity.pooling_scale_factor
    for end, factor in (("low", 1 / f), ("high", f)):
        sigma = float(old.effect_sd.parameters["sigma"]) * factor
        scale = Dist("HalfNormal", {"sigma": sigma})
        row("effect_sd", "pooling scale", "Effect differs between bases", end,
            f"HalfNormal sigma {sigma:.3g}", old.replace(effect_sd=scale), scale)
    if config.prior_source == "both":
        pool = config.model.prior_pool
        for end, source, weight, who in (("low", "elicited", 0.0, "the analysts alone"),
                                         ("high", "reference_class", 1.0, "history alone")):
            row("pool_weight", "pool weight", f"Weight on history ({POOL_LABELS[pool.method]})",
                end, f"w {weight:g}, {who} (model.yaml: {pool.weight:g})",
                resolved_priors(config.with_prior_source(source)), None)
    return out
