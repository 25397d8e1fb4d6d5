"""Proper scoring rules and calibration tables for probabilities of 0/1 outcomes.

One job: the Brier and log scores, a table of each forecaster's scores, an equal-width
calibration table with Jeffreys intervals, and the class's base rates, computed here
only: Laplace's rule (:func:`laplace_rate`, and leave-one-out, :func:`loo_base_rate`)
and the Kaplan-Meier rate of the dated class (:func:`kaplan_meier`). Shared by both
backtests (:mod:`forecast.reference_backtest`, :mod:`forecast.hazard_backtest`) and
the score's comparison forecaster (:mod:`forecast.scoring`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from forecast.reference_data import end_month, loss_month

if TYPE_CHECKING:
    import pandas as pd

    from forecast.reference_data import OutcomeKind


def brier_score(p, y) -> float:
    """Mean squared error of probabilities ``p`` for 0/1 outcomes ``y`` (lower is better)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean((p - y) ** 2))


def log_score(p, y) -> float:
    """Mean natural log of the probability given to what happened (higher is better; <= 0)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(divide="ignore"):
        return float(np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


def laplace_rate(kept, n):
    """Laplace's rule ``(k + 1) / (n + 2)``: the posterior mean of a rate under a
    uniform Beta(1, 1) prior after ``k`` of ``n`` kept; never exactly 0 or 1."""
    return (np.asarray(kept, dtype=float) + 1.0) / (np.asarray(n, dtype=float) + 2.0)


def loo_base_rate(y) -> np.ndarray:
    """Leave-one-out base rate: for case i, :func:`laplace_rate` of the *other* cases,
    so that case i never informs its own forecast."""
    y = np.asarray(y, dtype=float)
    return laplace_rate(y.sum() - y, y.size - 1)


def score_table(y, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    """Brier and log score of each forecaster's probabilities for outcomes ``y``."""
    import pandas as pd

    y = np.asarray(y, dtype=float)
    return pd.DataFrame([
        {"forecaster": name, "brier": brier_score(p, y), "log_score": log_score(p, y),
         "n_cases": int(y.size)}
        for name, p in forecasts.items()
    ])


def calibration_table(p, y, *, bins: int = 5, mass: float = 0.9) -> pd.DataFrame:
    """Equal-width bins of predicted probability: mean predicted, observed frequency, count.

    ``observed_lower``/``observed_upper`` are the Jeffreys ``mass`` interval of the
    observed frequency (Beta(k + 1/2, n - k + 1/2) quantiles), which shows how little
    a bin of a few cases says. Empty bins are kept (count 0, NaN means) so every
    table has the same rows.
    """
    import pandas as pd

    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    from scipy.stats import beta as beta_dist

    tail = (1 - mass) / 2
    rows = []
    for b in range(bins):
        m = which == b
        n, k = int(m.sum()), float(y[m].sum())
        lo, hi = (beta_dist.ppf([tail, 1 - tail], k + 0.5, n - k + 0.5) if n
                  else (float("nan"), float("nan")))
        rows.append({
            "bin": f"{edges[b]:.0%}-{edges[b + 1]:.0%}",
            "bin_lower": edges[b],
            "bin_upper": edges[b + 1],
            "mean_predicted": float(p[m].mean()) if n else float("nan"),
            "observed_frequency": k / n if n else float("nan"),
            "count": n,
            "observed_lower": float(lo),
            "observed_upper": float(hi),
        })
    return pd.DataFrame(rows)


def kaplan_meier(cases: pd.DataFrame, years: float, *, outcome: OutcomeKind = "facility"
                 ) -> float:
    """The Kaplan-Meier estimate of P(not lost within ``years`` of the start).

    The product over loss times ``t <= years`` of ``1 - d_t / n_t`` (Kaplan & Meier 1958,
    *JASA* 53), in months; censored cases count as at risk up to their censoring
    month. No horizon conversion is needed: the curve is read at the horizon.
    """
    loss = loss_month(cases, outcome) - cases["start"].to_numpy(dtype=float)
    end = end_month(cases, outcome) - cases["start"].to_numpy(dtype=float)
    lost = ~np.isnan(loss)
    s = 1.0
    for t in np.unique(end[lost & (end <= 12 * years)]):
        at_risk = np.sum(end >= t)
        s *= 1.0 - np.sum(lost & (end == t)) / at_risk
    return float(s)
