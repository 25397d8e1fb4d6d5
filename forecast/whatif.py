"""The live what-if: the forecast under changed priors, dependences, news and scenario.

One job: the update function behind notebook 04's what-if panel. Every slider and
switch of the panel is an argument here: the ends of any elicited interval, each
thread's dependence, the bases' outcome dependence, news items left out, and a
scenario (evidence states set by intervention). The forecast is recomputed by the
exact engine on ``draws`` prior draws (fast enough to follow a slider), nothing
is written, and the question's files are untouched.

Examples
--------
>>> result = what_if(config, items, intervals={"p_state[basing_agreement]": (0.3, 0.7)},
...                  dependence={"basing-negotiation": 0.3}, leave_out={"2025-10-15-x"})
...                                                           # doctest: +SKIP
>>> result.table                                              # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import pandas as pd

from forecast.config import QuestionConfig
from forecast.engine import Forecast, exact_forecast
from forecast.exact import enumerate_states
from forecast.ledger import NewsItem
from forecast.tables import headline_table


@dataclass(frozen=True)
class WhatIf:
    """The recomputed forecast and its headline table."""

    forecast: Forecast
    table: pd.DataFrame


def _with_interval(config: QuestionConfig, key: str, ends: tuple[float, float]
                   ) -> QuestionConfig:
    """The config with one elicited interval's ends replaced (``p_state[v]``, ``effect[v]``,
    ``p_base[b]``)."""
    kind, _, name = key.rstrip("]").partition("[")
    lo, hi = (float(x) for x in ends)
    if not lo < hi:
        raise ValueError(f"{key}: the low end must be below the high end (got {lo}, {hi})")

    def moved(prior):
        if prior.elicited is None:
            raise ValueError(f"{key}: its prior is given as a distribution, not an interval")
        e = prior.elicited
        return prior.model_copy(update={"elicited": e.model_copy(update={"lower": lo,
                                                                           "upper": hi})})

    if kind == "p_base":
        outcomes = [o.model_copy(update={"baseline": moved(o.baseline)}) if o.id == name else o
                    for o in config.question.outcomes]
        if outcomes == list(config.question.outcomes) and name not in config.bases:
            raise ValueError(f"{key}: no such outcome; allowed: {', '.join(config.bases)}")
        return config.model_copy(update={"question": config.question.model_copy(
            update={"outcomes": outcomes})})
    if kind not in ("p_state", "effect") or name not in config.variables:
        raise ValueError(f"{key}: not an elicited prior of this question (p_state[v], "
                         f"effect[v] or p_base[b])")
    field = "prior" if kind == "p_state" else "effect"
    variables = [v.model_copy(update={field: moved(getattr(v, field))}) if v.id == name else v
                 for v in config.evidence.variables]
    return config.model_copy(update={"evidence": config.evidence.model_copy(
        update={"variables": variables})})


def what_if(config: QuestionConfig, items: list[NewsItem], *,
            intervals: Mapping[str, tuple[float, float]] | None = None,
            dependence: Mapping[str, float] | None = None,
            outcome_dependence: float | None = None,
            leave_out: Collection[str] = (),
            scenario: Mapping[str, int] | None = None,
            draws: int = 10_000, seed: int | None = None) -> WhatIf:
    """The forecast with the panel's changes, and its headline table.

    Parameters
    ----------
    config, items
        The question and its ledger.
    intervals
        ``{"p_state[v]" | "effect[v]" | "p_base[b]": (lower, upper)}``: elicited
        intervals with other ends (same mass).
    dependence
        ``{thread: rho}``.
    outcome_dependence
        lambda for the bases (``outcome_dependence`` in ``model.yaml``).
    leave_out
        Ids of news items to leave out.
    scenario
        ``{variable: 0 or 1}``: states set by intervention (``do``), as in
        :func:`forecast.analysis.scenarios`.
    draws, seed
        The exact engine's draws for the recomputation and their seed.

    Returns
    -------
    WhatIf
    """
    for key, ends in (intervals or {}).items():
        config = _with_interval(config, key, ends)
    config = config.with_dependence(dict(dependence or {}))
    if outcome_dependence is not None:
        dep = config.model.outcome_dependence.model_copy(
            update={"value": float(outcome_dependence)})
        config = config.model_copy(update={"model": config.model.model_copy(
            update={"outcome_dependence": dep})})
    unknown = set(leave_out) - {i.id for i in items}
    if unknown:
        raise ValueError(f"leave_out: no such news items: {', '.join(sorted(unknown))}")
    kept = [i for i in items if i.id not in set(leave_out)]
    fc = exact_forecast(config, kept, seed=seed, n=draws)
    if scenario:
        fix = {config.variables.index(v): int(x) for v, x in scenario.items()}
        fc = copy.copy(fc)
        fc.values = enumerate_states(fc.fit.params, *fc.evidence.per_draw(fc.fit.params.n),
                                     fix=fix)
    return WhatIf(fc, headline_table(fc))
