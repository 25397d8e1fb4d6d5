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
# # 02 · The outside view: what history says
#
# Before the news of this one case, how often have patrons kept foreign bases for five
# years after a shock like the fall of their client? A Bayesian logistic regression on the
# historical reference class (`priors/reference_class/cases.csv`), with the patron's
# intercept partially pooled, back-tested by leave-one-out against the base rate and a
# coin flip, then applied to the Syria question with its uncertain features integrated out.

# %% tags=["parameters"]
cases_path = "../priors/reference_class/cases.csv"
seed = 20261125
draws = 1000
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"

# %%
# Seed cell: the sampler, the new-patron draws and the pairing of draws use this seed.
import numpy as np
from IPython.display import display

rng = np.random.default_rng(seed)

# %%
from forecast import reference
from forecast.charts.outside_view import plot_coefficients, plot_reliability
from forecast.config import load_question
from forecast.engine import compute, prior_forecast
from forecast.ledger import load_ledger

settings = reference.load_settings().with_sampler(draws=draws, seed=seed)
cases = reference.load_cases(cases_path)
print(reference.case_summary(cases))

# %% [markdown]
# ## The data

# %%
cases.drop(columns=["line"])

# %%
reference.patron_table(cases).round(2)

# %% [markdown]
# ## The fit
#
# The convergence gate (R-hat ≤ 1.01, no divergences, bulk ESS) is printed first: if it
# fails, nothing below should be trusted.

# %%
fit = reference.fit_reference(cases, settings)
{k: v for k, v in fit.diagnostics.items() if k != "per_variable"}

# %%
fit.coefficients()

# %%
fit.intercepts()

# %%
plot_coefficients(fit.coefficients(),
                  footer_text=f"{len(cases)} cases | seed {seed} | {draws} draws x "
                              f"{settings.sampler.chains} chains")

# %% [markdown]
# ## The backtest: leave-one-out
#
# Each case is forecast by a model that has not seen it (PSIS-LOO; exact refits where the
# Pareto k is above the threshold of `model.yaml`). The base rate is left-one-out too.
# Brier: lower is better (0.25 for a coin flip). Log score: higher is better (−0.693 for
# a coin flip).

# %%
bt = reference.backtest(fit)
display(bt.scores)

# %%
display(bt.calibration)

# %%
plot_reliability(bt.calibration, base_rate=float(cases["retained_5y"].mean()),
                 mass=settings.credible_mass,
                 footer_text=f"{len(cases)} cases, leave-one-out | seed {seed}")

# %%
bt.pointwise.sort_values("p_loo")

# %% [markdown]
# ## The Syria question as a case
#
# The question's `reference_case.yaml` codes the fixed features with their rationale; the
# three uncertain ones come from the question's evidence variables, once under their priors
# and once under the news so far, and are integrated out over their eight combinations.

# %%
config = load_question(question_dir)
posterior = compute(config, load_ledger(config), out=out_dir, seed=seed)
prior = prior_forecast(config, seed=seed)
syria_prior = reference.question_case(config, prior, fit=fit)
syria_now = reference.question_case(config, posterior, fit=fit)
display(syria_now.features)

# %%
display(syria_now.combinations)

# %%
display(syria_prior.comparison)  # under the priors alone
display(syria_now.comparison)  # under the news so far

# %%
print(syria_now.note)

# %% [markdown]
# ## From history to the model's priors
#
# The same fit can supply the question model's priors directly: its base rate (the case
# with every evidence state false) and the effects of the three linked variables, each
# converted from five-year retention to the question's horizon at a constant hazard
# (`forecast/reference_priors.py` documents the steps). `forecast reference link` writes
# them to the question's `reference_priors.yaml`; `prior_source` in `model.yaml` picks
# `elicited`, `reference_class` or `both` (a log-linear pool). Here the derivation is
# attached in memory and the three forecasts compared, before and after the news.

# %%
from forecast import reference_priors
from forecast.analysis import compare_prior_sources, linked_prior_table
from forecast.charts import plot_prior_sources

linked_config = reference_priors.attach(config, reference_priors.derive(config, fit))
linked_prior_table(linked_config).round(3)

# %%
by_source = compare_prior_sources(linked_config, load_ledger(config), out=out_dir, seed=seed)
by_source.pivot_table(index=["outcome", "stage"], columns="source", values="p",
                      sort=False).round(3)

# %%
plot_prior_sources(by_source, xlabel=config.wording.axis, mass=config.model.credible_mass,
                   title="Where the priors come from: analysts, history, or both",
                   footer_text=f"{config.question.title} | posterior by importance sampling "
                               f"(k-hat ≤ {by_source['khat'].max():.2f})")

# %%
from importlib.metadata import version

for package in ("forecast", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats",
                "pymc-extras", "preliz", "numpy", "pandas"):
    print(f"{package:12} {version(package)}")
