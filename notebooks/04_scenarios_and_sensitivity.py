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
# Seed: the forecast's draws (the exact engine's prior draws, or NUTS's chains, stored and
# reused) and the sensitivity analysis's fresh prior draws, where the forecast's draws
# cannot carry a case, come from `seed`.
from forecast.config import load_question
from forecast.engine import compute
from forecast.ledger import load_ledger

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
items = load_ledger(config)
forecast = compute(config, items, out=out_dir, seed=seed)
n_draws = forecast.fit.shape[0] * forecast.fit.shape[1]
print(f"seed {seed}; {n_draws:,} draws behind the forecast (path: {forecast.path}); "
      f"{len(items)} news items")

# %%
from IPython.display import Markdown, display

from forecast import analysis, charts, fmt
from forecast.charts.theme import footer_text
from forecast.display import show

footer = footer_text(forecast)
names = {o.id: o.name for o in config.question.outcomes}
names.update(all=config.wording.all, any=config.wording.any)
variable_label = {v.id: v.label for v in config.evidence.variables}
display(forecast)  # the forecast analysed below, as the library summarises it

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
baseline = scenario_table[scenario_table["kind"] == "baseline"].set_index("outcome")
driver = single.loc[single["change_pp"].abs().idxmax()]
p_state_now = {v: e.mean for v, e in forecast.state_probabilities().items()}
driver_var = next(v for v, lab in variable_label.items()
                  if driver["scenario"].startswith(f"{lab}:"))
if driver["scenario"].endswith(": no"):
    p_state_now = {v: 1 - p for v, p in p_state_now.items()}
Markdown(
    f"For **{names[joint]}** (now {fmt.pct(baseline.loc[joint, 'p'])}), "
    f"the named scenarios range from {fmt.pct(lo['p'])} ({lo['scenario']}) to "
    f"{fmt.pct(hi['p'])} ({hi['scenario']}). Of the single facts, "
    f"**{driver['scenario']}** moves it most ({fmt.pp(driver['change_pp'])})"
    + (f", but that fact is itself only {fmt.pct(p_state_now[driver_var])} likely given the "
       f"news: a large move that will probably not happen. The value of information below "
       f"weighs each move by how likely it is." if p_state_now[driver_var] < 0.2 else "."))

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
# The swing is a distance between the two ends, so it is shown without a sign.
show(tornado.assign(swing=tornado["swing_pp"].map(lambda x: f"{fmt.number(x, 1)} pp")),
     columns=["label", "low_setting", "low_pp", "high_setting", "high_pp", "swing", "khat"],
     names={"label": "Input", "low_setting": "Low end", "low_pp": "Change at low end",
            "high_setting": "High end", "high_pp": "Change at high end",
            "swing": "Swing", "khat": "Pareto k-hat"},
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
untrusted = tornado[~tornado["trusted"]]
# News-side inputs: an item's ratio, a thread's ratios together, a thread's dependence.
from_news = trusted["parameter"].str.match(r"(news|thread|dependence)\[")
news_top, prior_top = trusted[from_news].head(1), trusted[~from_news].head(1)


def _swing(rows):
    if rows.empty:
        return "none"
    r = rows.iloc[0]
    return (f"{r['label']}, {fmt.number(r['swing_pp'], 1)} points (low end: {r['low_setting']}, "
            f"{fmt.pp(r['low_pp'])}; high end: {r['high_setting']}, {fmt.pp(r['high_pp'])})")


Markdown(
    f"For {names[joint]}, the largest swing from a prior is {_swing(prior_top)}; the largest "
    f"from the news (one item, a thread's items together, or how dependent a thread's "
    f"reports are) is {_swing(news_top)}. The top three inputs are "
    f"{', '.join(trusted.head(3)['label'])}: "
    + ("the forecast rests more on the priors than on any part of the news, so the priors "
       "at the top of the table are the judgements to defend first."
       if news_top.empty or prior_top["swing_pp"].iloc[0] > news_top["swing_pp"].iloc[0]
       else "a judgement about the news (its ratios, or how far a thread's reports repeat "
            "one another) matters more than any prior, so the news records at the top, and "
            "the dependence elicited for their threads, deserve the closest sourcing.")
    + (f" {len(untrusted)} input{'s' if len(untrusted) > 1 else ''} could not be carried by "
       f"either importance path and {'are' if len(untrusted) > 1 else 'is'} not used: "
       f"{', '.join(untrusted['label'])}." if len(untrusted) else
       " Every input's change could be computed reliably (Pareto k-hat within the threshold)."))

# %% [markdown]
# ## Power-scaling prior sensitivity (ArviZ `psense`)
#
# Each prior (and all of them together, and the likelihood of the news) is raised to a
# power slightly above and below 1, and the resulting change in each headline probability
# measured (Kallioinen et al., 2024). A value of 0.05 or more flags a component the
# posterior is sensitive to. It needs the draws of a sampled (NUTS) posterior, so it is
# run on the NUTS fit of the same model and news; how closely that fit matches the exact
# engine's forecast is stated below the table (and checked in notebook 03).

# %%
# Power scaling reweights posterior draws of a sampled fit: the exact engine's weighted prior
# draws have none, so the stored NUTS fit of the same news is used (sampled once if absent).
fitted = forecast if forecast.fit.file.is_file() else compute(
    config, items, out=out_dir, seed=seed, engine="nuts", allow_reweight=False)
psense_table = analysis.power_scaling(fitted)
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
import numpy as np

by_component = psense_table.groupby("component")["sensitivity"].max()
component_label = psense_table.drop_duplicates("component").set_index("component")["label"]
all_priors = by_component.get("all priors", float("nan"))
likelihood = by_component.get("likelihood", float("nan"))
single = by_component.drop(["all priors", "likelihood"], errors="ignore")
single_flagged = single[single >= threshold]
counted = list(fitted.evidence.counted)
entered_by_item = getattr(fitted.evidence, "entered", fitted.evidence.item_loglr)
entered = [abs(entered_by_item.get(i, 0.0)) for i in counted]
typical = float(np.median(entered)) if entered else float("nan")
if all_priors >= threshold and likelihood < threshold:
    verdict = (
        f"**All priors together** are flagged (up to {fmt.number(all_priors, 3)}, above "
        f"{fmt.number(threshold, 2)}) while the likelihood of the news is not (at most "
        f"{fmt.number(likelihood, 3)}). In the terms of Kallioinen et al. this is a strong "
        f"prior with a weak likelihood, not a prior-data conflict: the {len(counted)} counted "
        f"news items are discounted reports whose entered log likelihood ratio is typically "
        f"{fmt.number(typical, 2)} in size (a ratio of about {fmt.ratio(np.exp(typical))}), so "
        f"they move the posterior only a little, and the posterior is mostly the prior. With "
        f"no news at all "
        f"the prior *is* the posterior and this check would flag it by construction. It is "
        f"expected here, not a defect, but it says the forecast's numbers are the analysts' "
        f"judgements more than the evidence's, and the tornado above says which of those "
        f"judgements (priors, or how the news was weighed) matter most.")
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
    + (f"Individually, {', '.join(component_label[c] for c in single_flagged.index)} reach "
       f"the threshold."
       if len(single_flagged) else
       f"No single prior reaches the threshold (the largest, "
       f"{component_label[single.idxmax()]}, is {fmt.number(single.max(), 3)}): no one prior "
       f"dominates; it is their joint weight.")
    + " The NUTS fit used here and the exact engine's forecast differ by at most "
    + fmt.number(100 * max(abs(fitted.probabilities()[b].mean - forecast.probabilities()[b].mean)
                           for b in config.bases), 1)
    + " points on a base.")

# %% [markdown]
# ## Value of information
#
# For each evidence variable: the expected absolute change in each outcome's probability
# from learning whether the state is true, averaged over the posterior (with its 90%
# interval over draws). The scenario probabilities behind it are in the scenario table
# above; here only what learning the answer is worth.

# %%
voi_table = analysis.value_of_information(forecast)
# An expected absolute change: shown without a sign.
voi_view = voi_table.assign(
    shift=voi_table["voi_pp"].map(lambda x: f"{fmt.number(x, 1)} pp"),
    voi_interval=[f"{fmt.number(lo, 1)}–{fmt.number(hi, 1)} pp"
                  for lo, hi in zip(voi_table["voi_lower_pp"], voi_table["voi_upper_pp"],
                                    strict=True)])
show(voi_view, columns=["label", "outcome_label", "shift", "voi_interval"],
     names={"label": "Evidence variable", "outcome_label": "Outcome",
            "shift": "Expected shift", "voi_interval": "90% interval over draws"},
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
# The waterfall shows the same credit thread by thread, one panel per base: the grey bar
# is the forecast with no news, each following bar one thread's (or one variable's
# reports') share of the move (blue up, vermillion down, in points), the black bar the
# forecast given all of it. Read the long bars as the storylines that carry the forecast;
# a hatched bar would be a move whose reweighting is not trusted.

# %%
contribution_table = analysis.contributions(forecast, items)
charts.plot_contributions(contribution_table, footer_text=footer,
                          xlabel=config.wording.probability)

# %%
per_base = credits[credits["outcome"].isin(config.bases)].assign(
    size=lambda t: t["group_pp"].abs()).sort_values("size", ascending=False)


def _top(base, k=3):
    rows = per_base[per_base["outcome"] == base].head(k)
    return ", ".join(f"{r.group_label} ({fmt.pp(r.group_pp)})" for r in rows.itertuples())


signs = per_base.pivot_table(index="group_label", columns="outcome", values="group_pp")
split = [g for g, r in signs.iterrows() if r.min() < -0.5 and r.max() > 0.5]
negotiation = per_base[per_base["group_label"].str.contains("negotiation", case=False)]
Markdown(
    " ".join(f"For **{names[b]}** the threads that moved it most are {_top(b)}."
             for b in config.bases)
    + (f" The same thread can pull the bases apart ({', '.join(split)}): its reports "
       f"favour one base and count against the other, so its credit differs in sign "
       f"between the panels." if split else "")
    + (f" The basing negotiation, with {int(negotiation['n_items'].iloc[0])} items the largest "
       f"thread, earns no more than {fmt.pp(negotiation['group_pp'].abs().max())} on a base: "
       f"its reports are judged to repeat one another (their thread's dependence), so their "
       f"number adds little." if len(negotiation) else "")
    + " The key judgements below name the two largest shares per base; this paragraph "
      "gives the top three.")

# %% [markdown]
# ## A report you could still obtain
#
# Before tasking collection, ask what a report would do. Here: a usually reliable (B1)
# report that a new basing agreement is close, with a ratio of 3 to 8 were it accurate,
# and its opposite (the reciprocal ratio). The table says how far each would move every
# probability and whether the briefed word would change; nothing is recorded.

# %%
from forecast.information import pending_report

pending = pending_report(forecast, items, bears_on="basing_agreement", reliability="B1",
                         lr={"lower": 3.0, "upper": 8.0})
show(pending.assign(word_changes=pending["word_changes"].map({True: "yes", False: "no"}),
                    change_pp=pending["change_pp"].where(pending["scenario"] != "now")),
     columns=["scenario", "label", "p", "change_pp", "word", "word_changes"],
     names={"scenario": "If", "label": "Outcome", "p": config.wording.probability,
            "word_changes": "Word changes"},
     caption="A pending B1 report on a new basing agreement (LR 3–8), and its opposite")

# %% [markdown]
# The same in a chart: for each probability, the black dot is now, the blue arrow where it
# goes if the report arrives and the vermillion one if its opposite does; a probability
# whose estimative word would change is labelled with the new word.

# %%
charts.plot_pending(pending, footer_text=footer, xlabel=config.wording.axis)

# %%
moved = pending[(pending["scenario"] != "now") & pending["word_changes"]]
either = moved["scenario"].nunique() > 1
Markdown("Neither answer would change a briefed word." if moved.empty else
         ("Either answer would change the briefing. " if either else
          "Only one answer would change the briefing. ") + " ".join(
    f"{scenario[0].upper() + scenario[1:]}: "
    + "; ".join(f"{r.label} becomes *{r.word}* ({fmt.pct(r.p)})" for r in group.itertuples())
    + "." for scenario, group in moved.groupby("scenario", sort=False)))

# %% [markdown]
# ## The live what-if panel
#
# Move a prior's interval, a thread's dependence or the bases' linkage, leave news items
# out or set a scenario, and the headline table and chart are recomputed by the exact
# engine on 10,000 draws (the library call `forecast.whatif.what_if`, tested on its own).
# In a live Jupyter session the controls below are interactive; in an executed copy the
# cell shows the forecast at the controls' starting values, which are the question's own.

# %%
import ipywidgets as widgets
from IPython.display import display

from forecast.whatif import what_if

controls = {}
for v in config.evidence.variables:
    e = v.prior.elicited
    controls[f"p_state[{v.id}]"] = widgets.FloatRangeSlider(
        value=(e.lower, e.upper), min=0.005, max=0.995, step=0.005,
        description=f"P: {v.label[:22]}", readout_format=".3f",
        style={"description_width": "14em"}, layout={"width": "40em"})
if config.threads is not None:
    for t in config.threads.threads:
        controls[f"rho[{t.id}]"] = widgets.FloatSlider(
            value=t.dependence.value, min=0.0, max=1.0, step=0.05,
            description=f"rho: {t.label[:22]}", style={"description_width": "14em"},
            layout={"width": "40em"})
controls["outcome_dependence"] = widgets.FloatSlider(
    value=config.model.outcome_dependence.value, min=0.0, max=1.0, step=0.05,
    description="bases linked (lambda)", style={"description_width": "14em"},
    layout={"width": "40em"})
controls["leave_out"] = widgets.SelectMultiple(
    options=[i.id for i in items], description="leave out", rows=6,
    style={"description_width": "14em"}, layout={"width": "40em"})
controls["scenario"] = widgets.Dropdown(
    options=[("none", None), *((name, name) for name in config.interventions())],
    description="scenario", style={"description_width": "14em"})


def redraw(**values):
    """Recompute and show the headline table and chart for the controls' values."""
    intervals = {k: v for k, v in values.items() if k.startswith("p_state[")}
    dependence = {k[4:-1]: v for k, v in values.items() if k.startswith("rho[")}
    scenario = config.interventions().get(values["scenario"]) if values["scenario"] else None
    result = what_if(config, items, intervals=intervals, dependence=dependence,
                     outcome_dependence=values["outcome_dependence"],
                     leave_out=values["leave_out"], scenario=scenario, seed=seed)
    display(show(result.table, columns=["label", "p", "lower", "upper", "word"],
                 names={"label": "Outcome", "p": config.wording.probability}))
    display(charts.plot_headline(result.table, title="What if", xlabel=config.wording.axis,
                                 mass=config.model.credible_mass))


panel = widgets.interactive_output(redraw, controls)
display(widgets.VBox(list(controls.values())), panel)

# %% [markdown]
# The panel's starting view, drawn here as well so that a copy of this notebook read
# without a live kernel shows it: the question's own priors and news, recomputed on the
# panel's 10,000 draws (within a Monte Carlo error of the headline above).

# %%
start = what_if(config, items, seed=seed)
display(show(start.table, columns=["label", "p", "lower", "upper", "word"],
             names={"label": "Outcome", "p": config.wording.probability}))
charts.plot_headline(start.table, title="The what-if panel at its starting values",
                     xlabel=config.wording.axis, mass=config.model.credible_mass)

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
