"""Scenarios, sensitivity, value of information and news contributions, as tidy tables.

One job: the "what if" analyses of a :class:`~forecast.engine.Forecast`, each
computed exactly per parameter draw by :func:`forecast.exact.enumerate_states`
and summarised with the forecast's own estimator (so PSIS weights are honoured):

``scenarios`` (:mod:`~forecast.analysis.interventions`)
    P(keep) when evidence variables are set to true or false (``do(S_k = x)``).
``sensitivity`` (:mod:`~forecast.analysis.tornado`)
    A tornado table: each prior pushed to the ends of its elicited interval
    (:mod:`~forecast.analysis.prior_shifts`) and each news item's likelihood ratio
    to the ends of its interval, by importance reweighting of the existing draws
    (:mod:`~forecast.analysis.prior_ratio`), with the Pareto k-hat of every row.
``power_scaling`` (:mod:`~forecast.analysis.psense`)
    ArviZ's power-scaling prior/likelihood sensitivity (``psense``) of a stored fit.
``value_of_information`` (:mod:`~forecast.analysis.voi`)
    The expected absolute change in P(keep) from learning each variable's state.
``contributions`` (:mod:`~forecast.analysis.waterfall`)
    Each news item's Shapley credit (order-free), as a waterfall from no news.
``compare_prior_sources`` (:mod:`~forecast.analysis.prior_sources`)
    The forecast with its base rates and linked effects from the elicited
    intervals, the reference class, or both pooled (``prior_source``).
``prior_densities`` (:mod:`~forecast.analysis.densities`)
    Each prior in force as a density on a grid, for the priors chart.

Every function returns a pandas DataFrame with one row per (row label, outcome).
Every name is re-exported here (``from forecast.analysis import scenarios``); no
submodule is named after a function, so ``forecast.analysis.<function>`` is always
the function.
"""

from __future__ import annotations

from forecast.analysis.densities import prior_densities
from forecast.analysis.interventions import Intervention, one_at_a_time, scenarios
from forecast.analysis.prior_ratio import effect_log_density, log_prior_ratio
from forecast.analysis.prior_shifts import shifted_priors
from forecast.analysis.prior_sources import SOURCE_LABELS, compare_prior_sources, linked_prior_table
from forecast.analysis.psense import power_scaling
from forecast.analysis.tornado import sensitivity, tornado_table
from forecast.analysis.voi import value_of_information
from forecast.analysis.waterfall import contributions

__all__ = [
    "SOURCE_LABELS",
    "Intervention",
    "compare_prior_sources",
    "contributions",
    "effect_log_density",
    "linked_prior_table",
    "log_prior_ratio",
    "one_at_a_time",
    "power_scaling",
    "prior_densities",
    "scenarios",
    "sensitivity",
    "shifted_priors",
    "tornado_table",
    "value_of_information",
]
