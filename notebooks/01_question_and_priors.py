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
# # 01 · The question and its priors
#
# What is forecast, how it resolves, and what the analysts believed before any news:
# every prior, the distribution PreliZ made of it, and the forecast those priors imply
# (the prior predictive P(keep)). Every number comes from the files in `question_dir`.

# %% tags=["parameters"]
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"
seed = 20261125
draws = 1500

# %%
# Seed cell: every random draw below is made from this seed, through the library.
import numpy as np

rng = np.random.default_rng(seed)

# %%
from forecast.config import load_question
from forecast.engine import prior_forecast
from forecast.tables import headline_table, prior_table
from forecast import charts

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
q = config.question
print(q.question)
print(f"Horizon: {q.horizon}   Created: {q.created}")
print(q.resolution_notes)

# %% [markdown]
# ## Outcomes and their resolution criteria

# %%
import pandas as pd

pd.DataFrame([{"id": o.id, "name": o.name, "resolution": o.resolution} for o in q.outcomes])

# %% [markdown]
# ## The priors, as elicited and as distributions
#
# Intervals are "90% sure it lies between lower and upper"; PreliZ turns each into the
# maximum-entropy Beta (probabilities) or Normal on the log scale (odds ratios).

# %%
priors = prior_table(config)
priors[["parameter", "lower", "upper", "mass", "dist", "kwargs", "prior_mean", "source"]]

# %%
charts.plot_priors(priors, config=config)

# %% [markdown]
# ## The prior predictive: what the priors alone say

# %%
prior = prior_forecast(config, seed=seed)
table = headline_table(prior)
table[["label", "p", "lower", "upper", "mcse", "word"]]

# %%
charts.plot_headline(table, title="Before any news: the priors' forecast",
                     mass=config.model.credible_mass, xlabel=config.wording.axis)

# %%
from forecast.store import package_versions

print(package_versions())
