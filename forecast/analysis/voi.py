"""Value of information: what learning each evidence variable's state would be worth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.analysis._common import _per_draw
from forecast.engine import Forecast
from forecast.exact import enumerate_states
from forecast.tables import outcome_labels


def value_of_information(forecast: Forecast) -> pd.DataFrame:
    """What learning each evidence variable's state would be worth, three ways.

    ``voi_pp``, the **expected absolute shift** of P(keep), per draw ``theta``
    (preposterior analysis) and averaged over the posterior::

        shift_k(theta) = P(S_k=1) |P(keep|S_k=1) - P(keep)| + P(S_k=0) |P(keep|S_k=0) - P(keep)|

    ``mutual_information_bits``: the mutual information between the state and the
    outcome under the forecast's joint distribution (Netica's "sensitivity to
    findings"): how many bits learning the state tells about the outcome.
    ``brier_reduction``: the expected fall in the forecast's Brier score (scored on
    the outcome, expected under the forecast's own beliefs) from learning the state,
    ``P(S=1) (p1 - p)^2 + P(S=0) (p0 - p)^2`` with ``p1, p0, p`` the forecast's
    P(keep) given the state true, false and unknown. Every probability is given the
    news, computed exactly by enumeration; ``p_if_true``/``p_if_false`` are the
    scenario probabilities of the two answers (``do(S = x)``, averaged over the draws)
    and ``p_given_true``/``p_given_false`` the forecast were the state learnt to be
    true or false (conditioning, which also reweights the draws: what learning means).

    Returns
    -------
    pandas.DataFrame
        One row per (variable, outcome): ``variable, label, outcome, outcome_label,
        p_state, p_if_true, p_if_false, voi_pp, voi_lower_pp, voi_upper_pp, voi_mcse_pp,
        p_given_true, p_given_false, mutual_information_bits, brier_reduction``.
    """
    config = forecast.config
    ev = forecast.evidence
    params = forecast.fit.params
    now = _per_draw(forecast.values, config)
    labels = outcome_labels(forecast)
    rows = []
    for k, spec in enumerate(config.evidence.variables):
        q = forecast.values.p_state[:, k]
        yes = _per_draw(enumerate_states(params, *ev.per_draw(params.n), fix={k: 1}),
                        config)
        no = _per_draw(enumerate_states(params, *ev.per_draw(params.n), fix={k: 0}),
                       config)
        w = forecast.weights
        w = np.full(q.size, 1.0 / q.size) if w is None else w / w.sum()
        q_bar = float(w @ q)
        for outcome, p in now.items():
            voi = q * np.abs(yes[outcome] - p) + (1 - q) * np.abs(no[outcome] - p)
            est = forecast.estimate(voi)
            # the forecast's joint of (state, outcome): posterior means of the draws' joints
            both = float(w @ (q * yes[outcome]))
            kept = float(w @ p)
            p1 = both / q_bar if q_bar > 0 else np.nan
            p0 = (kept - both) / (1 - q_bar) if q_bar < 1 else np.nan
            rows_mi = _mutual_information(q_bar, p1, p0)
            brier = (q_bar * (p1 - kept) ** 2 + (1 - q_bar) * (p0 - kept) ** 2
                     if np.isfinite(p1) and np.isfinite(p0) else 0.0)
            rows.append({
                "variable": spec.id,
                "label": spec.label,
                "outcome": outcome,
                "outcome_label": labels[outcome],
                "p_state": forecast.estimate(q).mean,
                "p_if_true": forecast.estimate(yes[outcome]).mean,
                "p_if_false": forecast.estimate(no[outcome]).mean,
                "voi_pp": 100 * est.mean,
                "voi_lower_pp": 100 * est.lower,
                "voi_upper_pp": 100 * est.upper,
                "voi_mcse_pp": 100 * est.mcse,
                "p_given_true": float(p1), "p_given_false": float(p0),
                "mutual_information_bits": rows_mi,
                "brier_reduction": float(brier),
            })
    return pd.DataFrame(rows)


def _entropy(p: float) -> float:
    """Binary entropy in bits (0 at 0 and 1)."""
    if not 0 < p < 1:
        return 0.0
    return float(-(p * math.log2(p) + (1 - p) * math.log2(1 - p)))


def _mutual_information(q: float, p1: float, p0: float) -> float:
    """I(S; keep) in bits for P(S=1) = q, P(keep|S=1) = p1, P(keep|S=0) = p0."""
    if not (np.isfinite(p1) and np.isfinite(p0)):
        return 0.0
    p = q * p1 + (1 - q) * p0
    return max(0.0, _entropy(p) - q * _entropy(p1) - (1 - q) * _entropy(p0))
