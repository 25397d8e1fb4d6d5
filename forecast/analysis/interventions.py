"""Scenarios: P(keep) when evidence variables are set to true or false (``do(S_k = x)``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from forecast.analysis._common import _estimate_row, _per_draw
from forecast.config import QuestionConfig
from forecast.engine import Forecast
from forecast.exact import enumerate_states
from forecast.tables import estimative_word, outcome_labels

#: An intervention: ``{variable id: 0 or 1}``.
Intervention = Mapping[str, int]


def _fix_indices(config: QuestionConfig, intervention: Intervention) -> dict[int, int]:
    variables = config.variables
    fix = {}
    for var, value in intervention.items():
        if var not in variables:
            raise ValueError(f"unknown evidence variable {var!r}; allowed: {', '.join(variables)}")
        if value not in (0, 1):
            raise ValueError(f"{var}: an intervention sets a variable to 0 or 1 (got {value!r})")
        fix[variables.index(var)] = int(value)
    return fix


def _describe(intervention: Intervention) -> str:
    return ", ".join(f"{k}={v}" for k, v in intervention.items()) or "none"



def one_at_a_time(config: QuestionConfig) -> dict[str, dict[str, int]]:
    """Every evidence variable set to true, then to false, one at a time.

    Returns
    -------
    dict
        ``{"<label>: yes": {var: 1}, "<label>: no": {var: 0}, ...}`` in the order of
        ``evidence.yaml``.
    """
    out: dict[str, dict[str, int]] = {}
    for v in config.evidence.variables:
        out[f"{v.label}: yes"] = {v.id: 1}
        out[f"{v.label}: no"] = {v.id: 0}
    return out


def scenarios(
    forecast: Forecast,
    interventions: Mapping[str, Intervention] | None = None,
    *,
    include_one_at_a_time: bool = True,
) -> pd.DataFrame:
    """P(keep) for each base, all and any under interventions on evidence variables.

    The baseline, "Now (no intervention)", comes first, then the named ``interventions``
    (combinations), then every variable set to 1 and to 0 one at a time. Each
    value is exact per draw (:func:`forecast.exact.enumerate_states` with ``fix``,
    under the forecast's news) and summarised by :meth:`Forecast.estimate`, so
    PSIS weights of a reweighted forecast are honoured. The parameters'
    posterior is kept: a scenario is ``do(S_k = x)``, a hypothetical, not news.

    Parameters
    ----------
    forecast
        The forecast to explore.
    interventions
        Named combinations, e.g. ``{"Russia extradites Assad": {"assad_extradition": 1}}``.
    include_one_at_a_time
        Add every variable set to 1 and to 0 on its own (:func:`one_at_a_time`).

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, outcome): ``scenario, kind, intervention, outcome,
        label, p, lower, upper, mcse, ess, change_pp, word``; ``change_pp`` is the
        difference from the baseline in percentage points.
    """
    config = forecast.config
    plan: list[tuple[str, str, Intervention]] = [("Now (no intervention)", "baseline", {})]
    plan += [(name, "combination", dict(fix)) for name, fix in (interventions or {}).items()]
    if include_one_at_a_time:
        plan += [(name, "one at a time", fix) for name, fix in one_at_a_time(config).items()]
    labels = outcome_labels(forecast)
    ev = forecast.evidence
    rows = []
    baseline: dict[str, float] = {}
    for name, kind, intervention in plan:
        fix = _fix_indices(config, intervention)
        values = (forecast.values if not fix else
                  enumerate_states(forecast.fit.params, *ev.per_draw(forecast.fit.params.n),
                                   fix=fix))
        for outcome, draws in _per_draw(values, config).items():
            est = forecast.estimate(draws)
            if kind == "baseline":
                baseline[outcome] = est.mean
            rows.append({
                "scenario": name,
                "kind": kind,
                "intervention": _describe(intervention),
                "outcome": outcome,
                "label": labels[outcome],
                **_estimate_row(est),
                "change_pp": 100 * (est.mean - baseline[outcome]),
                "word": estimative_word(min(max(est.mean, 0.0), 1.0)),
            })
    return pd.DataFrame(rows)
