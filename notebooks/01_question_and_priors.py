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
# (the prior predictive P(keep)). Every number comes from the files in `question_dir`;
# the news and what it did are in notebooks 03 to 05.

# %% tags=["parameters"]
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"
seed = 20261125
draws = 1500

# %%
# Seed: the prior predictive below is drawn by the library from `seed`: as many independent
# prior draws as the exact engine uses (engine.draws in model.yaml), or, under a NUTS
# default, as the sampler keeps (chains x draws); nothing here is random outside the library.
from forecast.config import load_question

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
sampler, engine = config.model.sampler, config.model.engine
n_prior = engine.draws if engine.default == "exact" else sampler.chains * sampler.draws
print(f"Question {config.id}: seed {seed}, {n_prior:,} independent prior draws "
      f"({engine.default} engine)")

# %% [markdown]
# ## The question and how it resolves
#
# The question as asked, its horizon, and the resolution criteria in full: a forecast is
# only as good as the definition of what counts as "kept". Note in particular that a
# presence kept by force, or a withdrawal announced but not finished, resolves as kept.

# %%
from IPython.display import Markdown

q = config.question
criteria = "\n".join(f"- **{o.name}** (`{o.id}`): {o.resolution}" for o in q.outcomes)
Markdown(f"**{q.question}**\n\nHorizon: **{q.horizon}** · question created {q.created}\n\n"
         f"{q.resolution_notes}\n\n**Outcomes and their resolution criteria**\n\n{criteria}")

# %% [markdown]
# ## The priors, as elicited and as distributions
#
# Each prior was elicited as an interval, "90% sure it lies between lower and upper", and
# PreliZ turned it into the maximum-entropy distribution with that mass in that interval:
# a Beta for a probability (a base's baseline, or the chance an evidence state comes true)
# and a Normal on the log scale for an odds ratio (what the state would do to the odds of
# keeping a base). The first table gives the numbers; the second the reason and source of
# each, in full.

# %%
import pandas as pd

from forecast import fmt
from forecast.display import show
from forecast.tables import prior_table

priors = prior_table(config)
is_ratio = priors["dist"] != "Beta"


def _value(x, ratio):
    return fmt.ratio(x) if ratio else fmt.pct(x)


def _interval(lo, hi, ratio):
    return f"{fmt.ratio(lo)}–{fmt.ratio(hi)}" if ratio else fmt.interval(lo, hi)


prior_view = pd.DataFrame({
    "parameter": [f"{label} ({kind})" for label, kind in zip(priors["label"], priors["kind"],
                                                                   strict=True)],
    "elicited": [_interval(lo, hi, r) for lo, hi, r in
                 zip(priors["lower"], priors["upper"], is_ratio, strict=True)],
    "mass": [fmt.pct(m) for m in priors["mass"]],
    "distribution": [f"{d}({kw})" + (" on log OR" if r else "")
                     for d, kw, r in zip(priors["dist"], priors["kwargs"], is_ratio,
                                          strict=True)],
    "centre": [_value(c, r) for c, r in zip(priors["prior_mean"], is_ratio, strict=True)],
})
show(prior_view, names={"parameter": "Prior", "elicited": "Elicited interval",
                        "mass": "Mass", "distribution": "Distribution",
                        "centre": "Prior centre (mean of Beta / median OR)"},
     caption="Every prior of the question: probabilities as percentages, effects as odds "
             "ratios (below 1 lowers the odds of keeping)")

# %%
show(priors.assign(parameter=prior_view["parameter"]),
     columns=["parameter", "rationale", "source"],
     names={"parameter": "Prior", "rationale": "Rationale", "source": "Source"},
     caption="Why each prior is what it is")

# %%
import numpy as np

effects = priors[is_ratio].assign(log_or=lambda t: np.log(t["prior_mean"]))
states = priors[priors["parameter"].str.startswith("p_state")]
bases = priors[priors["parameter"].str.startswith("p_base")]


def _listing(rows, value):
    parts = [f"{r.label} ({value(r)})" for r in rows.itertuples()]
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 2 else parts) or "none"


raise_odds = effects[effects["log_or"] > 0].sort_values("log_or", ascending=False)
lower_odds = effects[effects["log_or"] < 0].sort_values("log_or")
likely = states.sort_values("prior_mean", ascending=False)
Markdown(
    f"**What to take from the priors.** With every evidence state false, the analysts put "
    f"the baselines at {_listing(bases, lambda r: fmt.pct(r.prior_mean))}. They expect "
    f"{_listing(raise_odds, lambda r: 'median OR ' + fmt.ratio(r.prior_mean))} to raise the "
    f"odds of keeping the bases, and "
    f"{_listing(lower_odds, lambda r: 'median OR ' + fmt.ratio(r.prior_mean))} to lower "
    f"them. Before any news, the states judged most and least likely by the horizon are "
    f"{likely.iloc[0]['label']} ({fmt.pct(likely.iloc[0]['prior_mean'])}) and "
    f"{likely.iloc[-1]['label']} ({fmt.pct(likely.iloc[-1]['prior_mean'])}).")

# %% [markdown]
# ### The priors as curves
#
# The chart draws every prior's density. Left: the probabilities, the two baselines in
# orange and the chance of each evidence state in blue, on 0–100%. Right: the effects as
# odds ratios on a log scale, the vertical line at 1 meaning "no effect"; a curve to the
# left of it lowers the odds of keeping the bases, to the right raises them. The black bar
# under each curve is the elicited 90% interval. Read the width of a curve as how unsure
# the analysts were: a narrow curve is a strong prior that news will move little, a wide
# one leaves room for the news to decide.

# %%
from forecast import charts

charts.plot_priors(priors, config=config)

# %% [markdown]
# ## The prior predictive: what the priors alone say
#
# The forecast implied by the priors alone, before any news: for each base, both, and at
# least one, the mean P(keep) over independent prior draws, its 90% interval (how far
# P(keep) ranges across the priors' uncertainty) and its Monte Carlo standard error. The
# interval, not the mean, says how much the number rests on contestable judgements. The
# last column is the estimative word of ICD 203, the US intelligence community's standard
# vocabulary for likelihood (unlikely 20–45%, roughly even chance 45–55%, likely 55–80%,
# very likely 80–95%, and so on), used throughout the briefing.

# %%
from forecast.engine import prior_forecast
from forecast.tables import headline_table

prior = prior_forecast(config, seed=seed)
# headline_table names the rows of a lone forecast "posterior"; these are prior draws.
table = headline_table(prior).assign(stage="prior")
show(table, columns=["label", "p", "lower", "upper", "mcse", "word"],
     names={"label": "Outcome", "p": config.wording.probability},
     caption=f"Before any news: the priors' forecast for {q.horizon}")

# %% [markdown]
# The chart shows the same numbers: one dot per outcome at the prior mean, its bar the
# 90% interval, with the ICD 203 estimative word beside it; the dotted line marks 50%.
# Read the overlap of the bars with 50% as how far the priors are from settling the
# question either way.

# %%
charts.plot_headline(table, title="Before any news: the priors' forecast",
                     mass=config.model.credible_mass, xlabel=config.wording.axis)

# %%
probs = prior.probabilities()
width = {b: 100 * (probs[b].upper - probs[b].lower) for b in config.bases}
widest = max(width, key=width.get)
open_question = [o.name for o in q.outcomes if probs[o.id].lower < 0.5 < probs[o.id].upper]
Markdown(
    (f"The 90% intervals of the bases are {'both' if len(width) == 2 else 'all'} about "
     f"{fmt.number(max(width.values()), 0)} points wide (the widest, "
     if fmt.number(min(width.values()), 0) == fmt.number(max(width.values()), 0) else
     f"The 90% intervals of the bases are {fmt.number(min(width.values()), 0)} to "
     f"{fmt.number(max(width.values()), 0)} points wide (the widest, ")
    + f"{dict((o.id, o.name) for o in q.outcomes)[widest]}, runs "
    f"{fmt.interval(probs[widest].lower, probs[widest].upper)}). "
    + (f"For {' and '.join(open_question)} the interval straddles 50%: the priors alone do "
       f"not settle the question either way, and the news (notebook 03) has room to move it. "
       if open_question else "No base's interval straddles 50%: the priors alone already "
       "lean one way. ")
    + f"The Monte Carlo error is at most {fmt.number(max(e.mcse for e in probs.values()), 4)}, "
      f"negligible beside those widths.")

# %% [markdown]
# ## Key judgements
#
# The briefing paragraph the library writes from these numbers: here the priors alone, as
# of the question's creation and with no news (notebook 03 gives the judgements given the
# news).

# %%
from forecast.findings import key_judgements

forecast, items = prior, []  # the priors' forecast, before any news item
key_judgements(forecast, items)

# %%
from forecast.store import package_versions

for package, version in package_versions().items():
    print(f"{package:16} {version}")
