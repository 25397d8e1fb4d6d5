# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Scenarios, sensitivity and the value of information
#
# What the forecast would be if an evidence variable were settled, how far it moves when
# each prior or news item is pushed to the ends of its interval, and which questions are
# worth answering. Everything is exact per parameter draw and averaged over the posterior.

# %% tags=["parameters"]
question_dir = "../priors/russia_syria_bases"
seed = 20261125
draws = 1500
out_dir = "../out"

# %%
# Seed cell: the sampler and the prior draws use this seed.
import numpy as np

rng = np.random.default_rng(seed)

# %%
from forecast import analysis, charts
from forecast.charts.theme import footer_text
from forecast.config import load_question
from forecast.engine import compute
from forecast.ledger import load_ledger

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
items = load_ledger(config)
forecast = compute(config, items, out=out_dir)
footer = footer_text(forecast)
print(f"path: {forecast.path}; {len(items)} news items")

# %% [markdown]
# ## Scenarios
#
# The named combinations of the question's `scenarios.yaml` (each with its rationale),
# then each variable set to true and to false on its own. A scenario is an intervention,
# `do(S = x)`: the parameters keep their posterior, the variables not named stay uncertain.

# %%
import pandas as pd

pd.DataFrame([{"scenario": s.name, "sets": s.set, "rationale": s.rationale}
              for s in config.scenarios])

# %%
scenario_table = analysis.scenarios(forecast, config.interventions())
scenario_table.pivot(index="scenario", columns="outcome", values="p").loc[
    scenario_table["scenario"].unique()]

# %%
charts.plot_scenarios(scenario_table, footer_text=footer)

# %% [markdown]
# ## Sensitivity: a tornado by importance reweighting
#
# Each input is pushed to the ends of its interval and the posterior draws reweighted.
# Where their Pareto k-hat exceeds the fast-path threshold, the case is recomputed from
# fresh draws of the changed prior weighted by the news (`method`: `importance`); a row
# neither path can carry is flagged and not used.

# %%
sensitivity_table = analysis.sensitivity(config, items, forecast=forecast)
analysis.tornado_table(sensitivity_table, "all")

# %%
charts.plot_tornado(sensitivity_table, outcome="all", footer_text=footer)

# %% [markdown]
# ## Power-scaling prior sensitivity (ArviZ `psense`)
#
# A value of 0.05 or more flags a prior that dominates the posterior.

# %%
psense_table = analysis.power_scaling(forecast)
psense_table.pivot(index="component", columns="outcome", values="sensitivity")

# %% [markdown]
# ## Value of information

# %%
voi_table = analysis.value_of_information(forecast)
voi_table[["label", "outcome", "p_state", "p_if_true", "p_if_false", "voi_pp"]]

# %%
charts.plot_voi(voi_table, footer_text=footer, mass=config.model.credible_mass,
                probability=config.wording.probability)

# %% [markdown]
# ## What each news item did

# %%
contribution_table = analysis.contributions(forecast, items)
charts.plot_contributions(contribution_table, footer_text=footer,
                          xlabel=config.wording.probability)

# %%
from importlib.metadata import version

for package in ("forecast", "pymc", "arviz", "numpy", "pandas"):
    print(package, version(package))
