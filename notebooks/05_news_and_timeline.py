# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · News and the forecast's timeline
#
# How a news item is recorded and what it does, then how the forecast moved as news came
# in. The walk-through writes to a scratch copy of the question, never to its real ledger.

# %% tags=["parameters"]
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"
seed = 20261125
draws = 1500

# %%
# Seed cell: the sampler uses this seed; the update path itself draws nothing at random.
import numpy as np

rng = np.random.default_rng(seed)

# %%
import tempfile

from forecast.config import load_question
from forecast.ledger import load_ledger
from forecast.news import history, scratch_copy, update
from forecast.tables import ledger_table
from forecast import charts

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
ledger_table(config, load_ledger(config))

# %% [markdown]
# ## Recording an item
#
# A hypothetical report, for illustration: a Russian statement that talks on the bases
# have resumed. It bears on `basing_agreement`; a report like this is about twice as
# likely if an agreement is coming than if not, and the source is usually reliable (B2).

# %%
scratch = scratch_copy(config, tempfile.mkdtemp())
result = update(
    scratch,
    {
        "id": "example-talks-resume",
        "date": str(max([i.date for i in load_ledger(config)], default=config.question.created)),
        "headline": "Example: Moscow says talks on the bases have resumed",
        "source": "example wire report",
        "reliability": "B2",
        "bears_on": "basing_agreement",
        "lr": {"lower": 1.5, "upper": 3.0},
        "notes": "illustration only; not in the real ledger",
    },
    out=out_dir,
    seed=seed,
)
print(f"path: {result.after.path} (Pareto k-hat {result.after.khat})")
result.contributions()

# %% [markdown]
# ## The forecast's history
#
# Recomputed from the ledger with only the items known on each date.

# %%
timeline = history(config, out=out_dir, seed=seed)
timeline

# %%
charts.plot_history(timeline, ledger=ledger_table(config, load_ledger(config)), config=config,
                    as_of=result.after.as_of)

# %%
from forecast.store import package_versions

print(package_versions())
