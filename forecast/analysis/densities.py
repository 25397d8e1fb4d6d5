"""Each prior in force as a density on a grid, for the priors chart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.config import QuestionConfig
from forecast.elicit import prior_interval, prior_origins, resolved_priors
from forecast.prior import LinearPool


def prior_densities(config: QuestionConfig, points: int = 241) -> pd.DataFrame:
    """Each prior in force (after ``prior_source``) as a density on a grid, for the priors chart.

    Probabilities (evidence states and baselines) on ``[0, 1]``; effects as the
    density of the log odds ratio, reported against the odds ratio.

    Returns
    -------
    pandas.DataFrame
        ``parameter, kind, label, origin, x, density, density_elicited,
        density_reference, lower, upper, mass``: ``origin`` says where the prior in force
        comes from (:func:`forecast.elicit.prior_origins`); ``lower, upper`` are its
        interval (:func:`forecast.elicit.prior_interval`: the elicited one where the
        prior is elicited, else its central ``credible_mass`` interval); for a linear
        pool ``density_elicited`` and ``density_reference`` are its two weighted
        components, which add up to ``density`` (NaN for any other prior).
    """
    priors = resolved_priors(config)
    origins = prior_origins(config)
    rows = []

    def add(parameter, kind, label, origin, slot, j, x, t, bounds):
        prior = priors[slot].entry(j)
        dens = np.exp(prior.logpdf(t))
        parts = [np.full(t.size, np.nan)] * 2
        if isinstance(prior, LinearPool) and prior.mixed():
            parts = [w * np.exp(c.logpdf(t)) for w, c in prior.components()]
        lo, hi, m = bounds
        rows.extend({"parameter": parameter, "kind": kind, "label": label, "origin": origin,
                     "x": xi, "density": di, "density_elicited": ei, "density_reference": ri,
                     "lower": lo, "upper": hi, "mass": m}
                    for xi, di, ei, ri in zip(x, dens, *parts, strict=True))

    x = np.linspace(0.0005, 0.9995, points)
    for j, o in enumerate(config.question.outcomes):
        add(f"p_base[{o.id}]", "baseline P(keep)", o.name, origins["p_base"][j], "p_base", j,
            x, x, prior_interval(config, "p_base", j, o.baseline.elicited, priors=priors))
    for k, v in enumerate(config.evidence.variables):
        add(f"p_state[{v.id}]", "P(state true)", v.label, "elicited", "p_state", k, x, x,
            prior_interval(config, "p_state", k, v.prior.elicited, priors=priors))
    for k, v in enumerate(config.evidence.variables):
        lo, hi = priors.effect_mu.quantiles(k, [0.0005, 0.9995])
        t = np.linspace(lo, hi, points)
        add(f"effect[{v.id}]", "odds ratio on keeping", v.label, origins["effect_mu"][k],
            "effect_mu", k, np.exp(t), t,
            prior_interval(config, "effect_mu", k, v.effect.elicited, priors=priors))
    return pd.DataFrame(rows)
