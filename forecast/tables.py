"""Tidy tables from forecasts: what charts, notebooks and the CLI show.

One job: turn :class:`~forecast.engine.Forecast` objects into pandas DataFrames
with one row per quantity. Charts take these tables, never raw draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.engine import Forecast

#: ICD 203 estimative language: (upper bound of the band, word).
ICD203 = (
    (0.05, "almost no chance"),
    (0.20, "very unlikely"),
    (0.45, "unlikely"),
    (0.55, "roughly even chance"),
    (0.80, "likely"),
    (0.95, "very likely"),
    (1.00, "almost certain"),
)


def estimative_word(p: float) -> str:
    """The ICD 203 word for a probability, e.g. 0.62 -> "likely"."""
    if not 0.0 <= p <= 1.0 or np.isnan(p):
        raise ValueError(f"not a probability: {p}")
    for upper, word in ICD203:
        if p <= upper:
            return word
    return ICD203[-1][1]


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
    for stage, fc in (("prior", prior), ("posterior", forecast)):
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
    """The news ledger with each item's weight and the log ratio it contributes.

    ``counted`` is False for an item whose cluster is represented by a stronger item;
    ``url`` is empty for an item recorded without one.
    """
    from forecast.ledger import evidence_from, item_weight

    evidence = evidence_from(config, items)
    rows = []
    for item in sorted(items, key=lambda i: (i.date, i.id)):
        lr = item.lr if isinstance(item.lr, float) else f"{item.lr.lower:g}-{item.lr.upper:g}"
        rows.append({
            "date": item.date,
            "id": item.id,
            "headline": item.headline,
            "source": item.source,
            "url": item.url or "",
            "reliability": item.reliability,
            "bears_on": item.bears_on,
            "lr": lr,
            "weight": item_weight(config, item.reliability),
            "log_lr": evidence.item_loglr[item.id],
            "cluster": item.cluster or "",
            "counted": item.id in evidence.counted,
        })
    return pd.DataFrame(rows)


def diagnostics_table(diagnostics: dict) -> pd.DataFrame:
    """Per sampled variable: worst R-hat, bulk and tail ESS, and MCSE of headline means."""
    rows = [
        {"variable": name, **values}
        for name, values in diagnostics.get("per_variable", {}).items()
    ]
    return pd.DataFrame(rows, columns=["variable", "r_hat_max", "ess_bulk_min", "ess_tail_min",
                                       "mcse_max"])
