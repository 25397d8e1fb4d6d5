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
# # 03 · The posterior and its diagnostics
#
# The forecast given every news item in the ledger, how far it moved from the priors,
# what the news did to each evidence variable, and whether the sampler can be trusted.

# %% tags=["parameters"]
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"
seed = 20261125
draws = 1500

# %%
# Seed cell: the sampler and the prior draws use this seed.
import numpy as np

rng = np.random.default_rng(seed)

# %%
from forecast.config import load_question
from forecast.engine import compute, prior_forecast
from forecast.ledger import load_ledger
from forecast.tables import diagnostics_table, evidence_table, headline_table, ledger_table
from forecast import charts

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
items = load_ledger(config)
posterior = compute(config, items, out=out_dir, allow_reweight=False)
prior = prior_forecast(config, seed=seed)
print(f"path: {posterior.path}; fit: {posterior.fit.path}")

# %% [markdown]
# ## The headline: prior beside posterior

# %%
table = headline_table(posterior, prior=prior)
table[["stage", "label", "p", "lower", "upper", "mcse", "word"]]

# %%
charts.plot_headline(table, title=config.question.title, mass=config.model.credible_mass,
                     xlabel=config.wording.axis, footer_text=charts.theme.footer_text(posterior))

# %% [markdown]
# ## What the news did to each evidence variable

# %%
ledger_table(config, items)

# %%
evidence_table(posterior)

# %% [markdown]
# ## Convergence diagnostics
#
# R-hat <= 1.01, bulk ESS >= 1000 for the headline probabilities, no divergences,
# MCSE <= 0.005: the gate in `model.yaml`.

# %%
diagnostics = posterior.fit.diagnostics
print("gate passed:", diagnostics["passed"], diagnostics["failures"])
diagnostics_table(diagnostics)

# %%
charts.plot_diagnostics(diagnostics_table(diagnostics), gate=config.model.gate)

# %%
from forecast.store import package_versions

print(package_versions())
