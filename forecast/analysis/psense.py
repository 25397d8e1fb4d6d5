"""Power scaling: ArviZ's prior/likelihood sensitivity (``psense``) of a stored fit."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from forecast.config import QuestionConfig
from forecast.elicit import resolved_priors
from forecast.engine import Forecast
from forecast.exact import Params, log_likelihood
from forecast.tables import outcome_labels


def _log_prior_tree(tree, config: QuestionConfig):
    """A DataTree with the fit's posterior plus ``log_prior`` and ``log_likelihood`` groups."""
    import xarray as xr

    post = tree["posterior"].to_dataset()
    priors = resolved_priors(config)
    def logpdf(slot: str, dim: str):
        # entries on the last axis: a linear pool's mixture density included
        x = post[slot].transpose(..., dim)
        return xr.apply_ufunc(priors[slot].logpdf, x)

    log_prior = xr.Dataset({
        "p_state": logpdf("p_state", "evidence"),
        "p_base": logpdf("p_base", "base"),
        "effect_mu": logpdf("effect_mu", "evidence"),
        "effect_sd": xr.apply_ufunc(priors.effect_sd.logpdf, post["effect_sd"]),
        "effect_z": xr.apply_ufunc(stats.norm.logpdf, post["effect_z"]),
    })
    shape = post.sizes["chain"], post.sizes["draw"]
    attrs = tree.attrs
    params = Params(*(np.asarray(post[n].values, float).reshape(-1, *post[n].shape[2:])
                      for n in ("p_state", "p_base", "beta")),
                    coupling=float(attrs.get("forecast_outcome_dependence", 0.0)))
    u = np.asarray(json.loads(attrs["forecast_state_loglr"]), float)
    v = np.asarray(json.loads(attrs["forecast_outcome_loglr"]), float)
    loglik = log_likelihood(params, u, v).reshape(shape)
    log_lik = xr.Dataset({"news": (("chain", "draw"), loglik)},
                         coords={"chain": post["chain"], "draw": post["draw"]})
    return xr.DataTree.from_dict({"posterior": post, "log_prior": log_prior,
                                  "log_likelihood": log_lik})


def power_scaling(forecast: Forecast, *, threshold: float = 0.05,
                  alphas: tuple[float, float] = (0.99, 1.01)) -> pd.DataFrame:
    """ArviZ power-scaling sensitivity of the headline probabilities, prior by prior.

    The stored fit is opened (:func:`forecast.store.open_tree`) and given a
    ``log_prior`` group (each prior's log density per draw, from
    :func:`forecast.elicit.resolved_priors` with scipy) and a ``log_likelihood``
    group (the exact log likelihood of the fit's news from
    :func:`forecast.exact.log_likelihood`). ``arviz_stats.psense`` then
    power-scales one prior at a time (``group_var_names``/``group_coords``), all
    priors together, and the likelihood (Kallioinen et al., 2024). A value at or
    above ``threshold`` (0.05, the paper's) flags a prior that dominates.

    The diagnostic concerns the stored fit, i.e. the news the fit was made from;
    for a reweighted forecast that may differ from ``forecast.evidence``.

    Returns
    -------
    pandas.DataFrame
        One row per (component, outcome): ``component, kind, label, outcome,
        sensitivity, threshold, flagged``; ``component`` is ``p_state[<var>]``,
        ``p_base[<base>]``, ``effect[<var>]``, ``effect_sd``, ``all priors`` or
        ``likelihood``.

    Raises
    ------
    ValueError
        If the forecast was not made from a stored fit (e.g. prior draws).
    """
    from arviz_stats import psense

    from forecast.store import open_tree

    path = forecast.fit.file
    if not path.is_file():
        raise ValueError(f"power scaling needs a stored fit; {path} is not one")
    config = forecast.config
    tree = _log_prior_tree(open_tree(path), config)
    components: list[tuple[str, str, str, dict[str, Any]]] = []
    for o in config.question.outcomes:
        components.append((f"p_base[{o.id}]", "baseline P(keep)", f"Baseline: {o.name}",
                           {"group": "prior", "group_var_names": "p_base",
                            "group_coords": {"base": o.id}}))
    for v in config.evidence.variables:
        components.append((f"p_state[{v.id}]", "P(state true)", f"P: {v.label}",
                           {"group": "prior", "group_var_names": "p_state",
                            "group_coords": {"evidence": v.id}}))
        components.append((f"effect[{v.id}]", "odds ratio on keeping", f"Effect: {v.label}",
                           {"group": "prior", "group_var_names": "effect_mu",
                            "group_coords": {"evidence": v.id}}))
    components.append(("effect_sd", "pooling scale", "Effect differs between bases",
                       {"group": "prior", "group_var_names": "effect_sd"}))
    components.append(("all priors", "all priors", "Every prior together", {"group": "prior"}))
    components.append(("likelihood", "likelihood", "The news (likelihood)",
                       {"group": "likelihood"}))
    labels = outcome_labels(forecast)
    rows = []
    flat = float(np.ptp(tree["log_likelihood"]["news"].values)) < 1e-12
    for name, kind, label, kwargs in components:
        if name == "likelihood" and flat:
            # No news (or only neutral items): scaling a constant likelihood changes
            # nothing, exactly; ArviZ cannot fit its tails to a constant.
            values = dict.fromkeys([*config.bases, "all", "any"], 0.0)
        else:
            ds = psense(tree, var_names=["p_keep", "p_all", "p_any"], alphas=alphas, **kwargs)
            values = {b: float(ds["p_keep"].sel(base=b)) for b in config.bases}
            values["all"] = float(ds["p_all"])
            values["any"] = float(ds["p_any"])
        for outcome, value in values.items():
            if outcome not in config.headline_outcomes:
                continue
            rows.append({"component": name, "kind": kind, "label": label, "outcome": outcome,
                         "outcome_label": labels[outcome], "sensitivity": value,
                         "threshold": threshold, "flagged": bool(value >= threshold)})
    return pd.DataFrame(rows)
