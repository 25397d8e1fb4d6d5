"""Tidy tables from forecasts: what charts, notebooks and the CLI show.

One job: turn :class:`~forecast.engine.Forecast` objects into pandas DataFrames
with one row per quantity. Charts take these tables, never raw draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.engine import Forecast
from forecast.fmt import ICD203, estimative_word  # noqa: F401  (re-exported)


def outcome_labels(forecast: Forecast) -> dict[str, str]:
    """Display names of the outcomes and of ``all`` / ``any``."""
    config = forecast.config
    names = {o.id: o.name for o in config.question.outcomes}
    names["all"] = config.wording.all
    names["any"] = config.wording.any
    return names


def headline_table(forecast: Forecast, prior: Forecast | None = None) -> pd.DataFrame:
    """P(keep) per base, both and either, with interval, MCSE and estimative word.

    A question with one outcome has no "both" or "either" rows: they would repeat it.

    Parameters
    ----------
    forecast
        The posterior forecast.
    prior
        Optionally the forecast before any news; its rows get ``stage="prior"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``stage, outcome, label, p, lower, upper, mcse, ess, word``.
    """
    rows = []
    labels = outcome_labels(forecast)
    shown = forecast.config.headline_outcomes
    own = "prior" if forecast.path == "prior" else "posterior"  # a prior-only forecast
    for stage, fc in (("prior", prior), (own, forecast)):
        if fc is None:
            continue
        for outcome, est in fc.probabilities().items():
            if outcome not in shown:
                continue
            rows.append(
                {
                    "stage": stage,
                    "outcome": outcome,
                    "label": labels[outcome],
                    "p": est.mean,
                    "lower": est.lower,
                    "upper": est.upper,
                    "mcse": est.mcse,
                    "ess": est.ess,
                    "word": estimative_word(est.mean),
                }
            )
    return pd.DataFrame(rows)


def evidence_table(forecast: Forecast) -> pd.DataFrame:
    """Each evidence variable: its posterior probability and the news weighing on it."""
    rows = []
    for k, (var, est) in enumerate(forecast.state_probabilities().items()):
        spec = forecast.config.evidence.variables[k]
        rows.append(
            {
                "variable": var,
                "label": spec.label,
                "p": est.mean,
                "lower": est.lower,
                "upper": est.upper,
                "news_log_lr": float(forecast.evidence.state_loglr[k]),
            }
        )
    return pd.DataFrame(rows)


def prior_table(config) -> pd.DataFrame:
    """Every prior of a question: what was elicited, the distribution it became, and why.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``parameter, kind, label, lower, upper, mass, dist,
        kwargs, prior_mean, rationale, source``. For effects, ``lower``/``upper`` are
        odds ratios and ``prior_mean`` is the odds ratio at the prior median.
    """
    from forecast.elicit import effect_prior, probability_prior

    rows = []

    def add(parameter, kind, label, spec, resolved):
        e = spec.elicited
        kw = resolved["kwargs"]
        if resolved["dist"] == "Beta":
            centre = kw["alpha"] / (kw["alpha"] + kw["beta"])
        else:
            centre = float(np.exp(kw["mu"]))
        rows.append({
            "parameter": parameter,
            "kind": kind,
            "label": label,
            "lower": e.lower if e else np.nan,
            "upper": e.upper if e else np.nan,
            "mass": e.mass if e else np.nan,
            "dist": resolved["dist"],
            "kwargs": ", ".join(f"{k}={v:.3g}" for k, v in kw.items()),
            "prior_mean": centre,
            "rationale": spec.rationale,
            "source": spec.source,
        })

    for o in config.question.outcomes:
        add(f"p_base[{o.id}]", "baseline P(keep)", o.name, o.baseline,
            probability_prior(o.baseline))
    for v in config.evidence.variables:
        add(f"p_state[{v.id}]", "P(state true)", v.label, v.prior, probability_prior(v.prior))
        add(f"effect[{v.id}]", "odds ratio on keeping", v.label, v.effect, effect_prior(v.effect))
    return pd.DataFrame(rows)


def ledger_table(config, items) -> pd.DataFrame:
    """The news ledger: each item's credibility, thread and the log ratio it enters with.

    ``log_lr`` is the item's log ratio alone (credibility-mixed, at its midpoint);
    ``entered`` what it adds after clusters and its thread's dependence (0 for a
    repeat its cluster does not count); ``counted`` is False for such a repeat;
    ``url`` is empty for an item recorded without one.
    """
    from forecast.ledger import evidence_from, item_credibility

    evidence = evidence_from(config, items)
    rows = []
    for item in sorted(items, key=lambda i: (i.date, i.id)):
        lr = item.lr if isinstance(item.lr, float) else f"{item.lr.lower:g}–{item.lr.upper:g}"
        rows.append({
            "date": item.date,
            "id": item.id,
            "headline": item.headline,
            "source": item.source,
            "url": item.url or "",
            "reliability": item.reliability,
            "bears_on": item.bears_on,
            "thread": item.thread or "",
            "lr": lr,
            "credibility": item_credibility(config, item.reliability),
            "log_lr": evidence.item_loglr[item.id],
            "entered": evidence.entered[item.id],
            "cluster": item.cluster or "",
            "counted": item.id in evidence.counted,
        })
    return pd.DataFrame(rows)


def diagnostics_table(diagnostics: dict, forecast: Forecast | None = None) -> pd.DataFrame:
    """Per sampled variable: worst R-hat, bulk and tail ESS, and MCSE of headline means.

    For the exact engine (``forecast`` given, ``engine == "exact"``) there are no chains:
    one row per headline probability with its effective number of weighted draws (in
    both ESS columns), its MCSE and the weights' Pareto k-hat (``pareto_khat``); R-hat
    is NaN.
    """
    columns = ["variable", "r_hat_max", "ess_bulk_min", "ess_tail_min", "mcse_max"]
    if forecast is not None and forecast.engine == "exact":
        rows = [{"variable": f"P({k})" if k in ("all", "any") else f"p_keep[{k}]",
                 "r_hat_max": np.nan, "ess_bulk_min": e.ess, "ess_tail_min": e.ess,
                 "mcse_max": e.mcse, "pareto_khat": float(forecast.khat or 0.0)}
                for k, e in forecast.probabilities().items()
                if k in forecast.config.headline_outcomes]
        return pd.DataFrame(rows, columns=[*columns, "pareto_khat"])
    rows = [
        {"variable": name, **values}
        for name, values in diagnostics.get("per_variable", {}).items()
    ]
    return pd.DataFrame(rows, columns=columns)
