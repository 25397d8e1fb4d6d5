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
# Seed: the forecast's fit (stored, or sampled with this seed) and the sensitivity
# analysis's fresh prior draws, where the fit's draws cannot carry a case, use `seed`.
from forecast.config import load_question
from forecast.engine import compute
from forecast.ledger import load_ledger

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
items = load_ledger(config)
forecast = compute(config, items, out=out_dir, seed=seed)
sampler = config.model.sampler
print(f"seed {seed}; {sampler.chains} chains x {sampler.draws} draws; path: {forecast.path}; "
      f"{len(items)} news items")

# %%
from IPython.display import Markdown

from forecast import analysis, charts, fmt
from forecast.charts.theme import footer_text
from forecast.display import show

footer = footer_text(forecast)
names = {o.id: o.name for o in config.question.outcomes}
names.update(all=config.wording.all, any=config.wording.any)
variable_label = {v.id: v.label for v in config.evidence.variables}
forecast

# %% [markdown]
# ## Scenarios
#
# The named combinations of the question's `scenarios.yaml` (each with its rationale),
# then each variable set to true and to false on its own. A scenario is an intervention,
# `do(S = x)`: the parameters keep their posterior, the variables not named stay uncertain.
# Read a scenario as "if we knew this for certain", not as a forecast of that world.

# %%
import pandas as pd


def _sets(fix):
    return "; ".join(f"{variable_label[v]}: {'yes' if x else 'no'}" for v, x in fix.items())


show(pd.DataFrame([{"scenario": s.name, "sets": _sets(s.set), "rationale": s.rationale}
                   for s in config.scenarios]),
     names={"scenario": "Scenario", "sets": "Sets", "rationale": "Rationale"},
     caption="The named scenarios of scenarios.yaml")

# %%
scenario_table = analysis.scenarios(forecast, config.interventions())
outcomes = config.headline_outcomes
by_scenario = scenario_table.pivot(index="scenario", columns="outcome", values="p").loc[
    scenario_table["scenario"].unique()]
by_scenario = by_scenario.rename(columns=lambda o: f"p_keep_{o}").reset_index()
show(by_scenario, columns=["scenario", *[f"p_keep_{o}" for o in outcomes]],
     names={"scenario": "Scenario", **{f"p_keep_{o}": names[o] for o in outcomes}},
     caption=f"{config.wording.probability} under each scenario (posterior mean)")

# %% [markdown]
# The heat map shows the same table: each cell the probability under the scenario with its
# ICD 203 word and its change from the baseline (first row) in points, coloured blue for
# up and vermillion for down. Read down a column to see which settled facts would move
# that outcome most, and compare the named scenarios with the one-at-a-time rows to see
# which variable drives each.

# %%
charts.plot_scenarios(scenario_table, footer_text=footer)

# %%
joint = config.headline_outcomes[2] if len(config.bases) > 1 else config.bases[0]
named = scenario_table[(scenario_table["kind"] == "combination")
                       & (scenario_table["outcome"] == joint)]
single = scenario_table[(scenario_table["kind"] == "one at a time")
                        & (scenario_table["outcome"] == joint)]
hi, lo = named.loc[named["p"].idxmax()], named.loc[named["p"].idxmin()]
driver = single.loc[single["change_pp"].abs().idxmax()]
Markdown(
    f"For **{names[joint]}** (now {fmt.pct(scenario_table.loc[scenario_table['kind'] == 'baseline'].set_index('outcome').loc[joint, 'p'])}), "
    f"the named scenarios range from {fmt.pct(lo['p'])} ({lo['scenario']}) to "
    f"{fmt.pct(hi['p'])} ({hi['scenario']}). Of the single facts, "
    f"**{driver['scenario']}** moves it most ({fmt.pp(driver['change_pp'])}).")

# %% [markdown]
# ## Sensitivity: a tornado by importance reweighting
#
# Each input is pushed to the ends of its interval and the posterior draws reweighted.
# Where their Pareto k-hat exceeds the fast-path threshold, the case is recomputed from
# fresh draws of the changed prior weighted by the news (`method`: `importance`); a row
# neither path can carry is flagged and not used (its changes show as –). The table lists
# every input for both bases kept, largest swing first.

# %%
sensitivity_table = analysis.sensitivity(config, items, forecast=forecast, out=out_dir,
                                         fallback_seed=seed)
tornado = analysis.tornado_table(sensitivity_table, joint)
show(tornado, columns=["label", "low_setting", "low_pp", "high_setting", "high_pp",
                       "swing_pp", "khat"],
     names={"label": "Input", "low_setting": "Low end", "low_pp": "Change at low end",
            "high_setting": "High end", "high_pp": "Change at high end",
            "swing_pp": "Swing", "khat": "Pareto k-hat"},
     caption=f"Sensitivity of {names[joint]} ({fmt.pct(tornado['baseline'].iloc[0])}) to "
             f"each input")

# %% [markdown]
# The tornado draws the largest swings: for each input, the solid bar is the change in
# the probability with the input at the high end of its interval, the hatched bar at the
# low end, inputs ordered by the total swing. Read the top rows as the judgements the
# forecast rests on: those are the numbers to argue about, source and revisit first.

# %%
charts.plot_tornado(sensitivity_table, outcome=joint, footer_text=footer)

# %%
trusted = tornado[tornado["trusted"]]
top3 = trusted.head(3)
untrusted = tornado[~tornado["trusted"]]
priors_rows = trusted[~trusted["parameter"].str.startswith("news[")]
news_rows = trusted[trusted["parameter"].str.startswith("news[")]
Markdown(
    f"The three largest swings for {names[joint]}: "
    + "; ".join(f"{r.label} ({fmt.number(r.swing_pp, 1)} points between "
                f"{r.low_setting} and {r.high_setting})" for r in top3.itertuples())
    + f". The largest swing from any single news item is "
      f"{fmt.number(news_rows['swing_pp'].max(), 1) if len(news_rows) else '–'} points, from "
      f"any prior {fmt.number(priors_rows['swing_pp'].max(), 1) if len(priors_rows) else '–'}"
      f" points: "
    + ("the forecast rests more on the priors than on any one report."
       if len(news_rows) == 0 or priors_rows["swing_pp"].max() > news_rows["swing_pp"].max()
       else "a single report's stated ratio matters as much as the priors.")
    + (f" {len(untrusted)} input(s) could not be carried by either importance path and are "
       f"not used: {', '.join(untrusted['label'])}." if len(untrusted) else
       " Every input's change could be computed reliably (Pareto k-hat within the threshold)."))

# %% [markdown]
# ## Power-scaling prior sensitivity (ArviZ `psense`)
#
# Each prior (and all of them together, and the likelihood of the news) is raised to a
# power slightly above and below 1, and the resulting change in each headline probability
# measured (Kallioinen et al., 2024). A value of 0.05 or more flags a component the
# posterior is sensitive to.

# %%
psense_table = analysis.power_scaling(forecast)
wide_psense = psense_table.pivot(index=["component", "label"], columns="outcome",
                                 values="sensitivity").reset_index()
order = list(dict.fromkeys(psense_table["component"]))
wide_psense = wide_psense.set_index("component").loc[order].reset_index()
flags = psense_table.groupby("component")["flagged"].any()
threshold = float(psense_table["threshold"].iloc[0])
show(wide_psense.assign(
         **{o: wide_psense[o].map(lambda x: fmt.number(x, 3)) for o in outcomes},
         flagged=wide_psense["component"].map(flags).map({True: "yes", False: "no"})),
     columns=["label", *outcomes, "flagged"],
     names={"label": "Component", **{o: names[o] for o in outcomes},
            "flagged": f"≥ {fmt.number(threshold, 2)}?"},
     caption="Power-scaling sensitivity of each headline probability")

# %%
by_component = psense_table.groupby("component")["sensitivity"].max()
all_priors = by_component.get("all priors", float("nan"))
likelihood = by_component.get("likelihood", float("nan"))
single = by_component.drop(["all priors", "likelihood"], errors="ignore")
single_flagged = single[single >= threshold]
n_items = len(forecast.evidence.counted)
if all_priors >= threshold and likelihood < threshold:
    verdict = (
        f"**All priors together** are flagged (up to {fmt.number(all_priors, 3)}, above "
        f"{fmt.number(threshold, 2)}) while the likelihood of the news is not (at most "
        f"{fmt.number(likelihood, 3)}). In the terms of Kallioinen et al. this is a strong "
        f"prior with a weak likelihood, not a prior-data conflict: the {n_items} counted news "
        f"items are discounted reports with likelihood ratios near 1, so they move the "
        f"posterior only a little, and the posterior is mostly the prior. With no news at all "
        f"the prior *is* the posterior and this check would flag it by construction. It is "
        f"expected here, not a defect, but it says the forecast's numbers are the analysts' "
        f"judgements more than the evidence's: the tornado above, not the news, says where "
        f"they should be argued.")
elif all_priors >= threshold and likelihood >= threshold:
    verdict = (
        f"Both **all priors** ({fmt.number(all_priors, 3)}) and the **likelihood** "
        f"({fmt.number(likelihood, 3)}) are flagged: the news pulls against the priors (a "
        f"possible prior-data conflict). Check the flagged priors against the news that bears "
        f"on them before briefing.")
elif likelihood >= threshold:
    verdict = (f"The likelihood is flagged ({fmt.number(likelihood, 3)}) but the priors are "
               f"not: the news, not the priors, drives the forecast.")
else:
    verdict = "No component reaches the threshold: the forecast is robust to small changes " \
              "in any prior or in the weight of the news."
Markdown(
    verdict + " "
    + (f"Individually, {', '.join(single_flagged.index)} reach the threshold."
       if len(single_flagged) else
       f"No single prior reaches the threshold (the largest, {single.idxmax()}, is "
       f"{fmt.number(single.max(), 3)}): no one prior dominates; it is their joint weight."))

# %% [markdown]
# ## Value of information
#
# For each evidence variable: the expected absolute change in each outcome's probability
# from learning whether the state is true, averaged over the posterior (with its 90%
# interval over draws). The scenario probabilities behind it are in the scenario table
# above; here only what learning the answer is worth.

# %%
voi_table = analysis.value_of_information(forecast)
voi_view = voi_table.assign(
    voi_interval=[f"{fmt.number(lo, 1)}–{fmt.number(hi, 1)} pp"
                  for lo, hi in zip(voi_table["voi_lower_pp"], voi_table["voi_upper_pp"])])
show(voi_view, columns=["label", "outcome_label", "voi_pp", "voi_interval"],
     names={"label": "Evidence variable", "outcome_label": "Outcome",
            "voi_pp": "Expected shift", "voi_interval": "90% interval over draws"},
     caption="Value of information: expected change from learning each variable's state")

# %% [markdown]
# The bar chart ranks the variables by that expected shift, one bar per base, whiskers the
# 90% interval over draws. Read the longest bars as the questions worth collecting on: a
# report that settles them would move the forecast most.

# %%
charts.plot_voi(voi_table, footer_text=footer, mass=config.model.credible_mass,
                probability=config.wording.probability)

# %%
best = voi_table[voi_table["outcome"].isin(config.bases)].sort_values("voi_pp",
                                                                     ascending=False)
lead = best.groupby("outcome").head(1).set_index("outcome")
Markdown(
    " ".join(f"For {names[b]}, learning **{lead.loc[b, 'label']}** would move it most: by "
             f"{fmt.number(lead.loc[b, 'voi_pp'], 1)} points on average (to "
             f"{fmt.pct(lead.loc[b, 'p_if_true'])} if true, {fmt.pct(lead.loc[b, 'p_if_false'])}"
             f" if false; now {fmt.pct(lead.loc[b, 'p_state'])} likely)."
             for b in config.bases if b in lead.index))

# %% [markdown]
# ## What each news item did
#
# The news credited by Shapley values: each group of dependent reports (a thread, or the
# items bearing on one variable) gets its average marginal contribution over every order
# of the groups, so the credits add up exactly to the move from no news to all the news
# and do not depend on the order in which items were recorded.

# %%
from forecast.attribution import group_credits, shapley

credits = group_credits(shapley(forecast, items))
show(credits[credits["outcome"].isin(config.bases)],
     columns=["label", "group_label", "group_pp", "n_items"],
     names={"label": "Outcome", "group_label": "News group", "group_pp": "Shapley credit",
            "n_items": "Items"},
     caption="Each group's share of the move since the priors, per base")

# %% [markdown]
# The waterfall shows the same credit item by item, one panel per base: the grey bar is
# the forecast with no news, each following bar one item's move (blue up, vermillion
# down, in points), the black bar the forecast given all of it. Read the long bars as the
# reports that carry the forecast; a hatched bar would be a move whose reweighting is not
# trusted.

# %%
contribution_table = analysis.contributions(forecast, items)
charts.plot_contributions(contribution_table, footer_text=footer,
                          xlabel=config.wording.probability)

# %% [markdown]
# ## Key judgements
#
# The briefing paragraph the library writes from these numbers (the same as notebook 03's).

# %%
from forecast.findings import key_judgements

key_judgements(forecast, items)

# %%
from importlib.metadata import version

for package in ("forecast", "pymc", "arviz", "numpy", "pandas"):
    print(f"{package:10} {version(package)}")
