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
    names = {o.id: o.name for o in forecast.config.question.outcomes}
    names["all"] = "All bases kept" if len(names) > 2 else "Both bases kept"
    names["any"] = "At least one base kept"
    return names


def headline_table(forecast: Forecast, prior: Forecast | None = None) -> pd.DataFrame:
    """P(keep) per base, both and either, with interval, MCSE and estimative word.

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
    for stage, fc in (("prior", prior), ("posterior", forecast)):
        if fc is None:
            continue
        for outcome, est in fc.probabilities().items():
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
