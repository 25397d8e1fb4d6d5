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
# Seed: the sampler (or the stored fit made with this seed) and the prior draws use `seed`.
from forecast.config import load_question
from forecast.engine import compute, prior_forecast
from forecast.ledger import load_ledger

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
items = load_ledger(config)
posterior = compute(config, items, out=out_dir, allow_reweight=False)
prior = prior_forecast(config, seed=seed)
sampler = config.model.sampler
print(f"seed {seed}; {sampler.chains} chains x {sampler.draws} draws; {len(items)} news items")
print(f"path: {posterior.path} (fit {posterior.fit.path.name})")

# %% [markdown]
# ## The headline: prior beside posterior
#
# For each base, both, and at least one: P(keep) before any news (the priors alone, from
# notebook 01) and given every item of the ledger, with the posterior's 90% interval and
# Monte Carlo error. The change column is what the news did; the interval is how much the
# number still rests on the priors' uncertainty.

# %%
import pandas as pd
from IPython.display import Markdown

from forecast import fmt
from forecast.display import show
from forecast.tables import headline_table

table = headline_table(posterior, prior=prior)
wide = table[table["stage"] == "posterior"].merge(
    table.loc[table["stage"] == "prior", ["outcome", "p", "lower", "upper"]].rename(
        columns={"p": "prior", "lower": "prior_lower", "upper": "prior_upper"}),
    on="outcome")
wide["change_pp"] = 100 * (wide["p"] - wide["prior"])
show(wide, columns=["label", "prior", "p", "lower", "upper", "change_pp", "mcse", "word"],
     names={"label": "Outcome", "prior": "Before any news",
            "p": f"Given the news: {config.wording.probability}"},
     caption=f"{config.question.title}: as of {posterior.as_of}, horizon "
             f"{config.question.horizon} (interval: the posterior's)")

# %% [markdown]
# The chart draws both stages per outcome: the grey dot and bar are the prior mean and 90%
# interval, the blue ones the posterior, labelled with its probability and ICD 203 word;
# the dotted line marks 50%. Read the shift from grey to blue as what the news did, and the
# length of the blue bar as what is still uncertain.

# %%
from forecast import charts

charts.plot_headline(table, title=config.question.title, mass=config.model.credible_mass,
                     xlabel=config.wording.axis, footer_text=charts.theme.footer_text(posterior))

# %%
moved = wide.assign(size=wide["change_pp"].abs()).sort_values("size", ascending=False)
first = moved.iloc[0]
Markdown(
    f"Given {len(items)} news items, the largest move is for {first['label']}: "
    f"{fmt.pct(first['prior'])} to {fmt.pct(first['p'])} ({fmt.pp(first['change_pp'])}, now "
    f"{first['word']}). "
    + " ".join(f"{r.label}: {fmt.pct(r.prior)} to {fmt.pct(r.p)} ({fmt.pp(r.change_pp)})."
               for r in moved.iloc[1:].itertuples())
    + " " + " ".join(
        f"The 90% interval of {r.label} is {fmt.number(100 * (r.upper - r.lower), 0)} points "
        f"wide given the news against {fmt.number(100 * (r.prior_upper - r.prior_lower), 0)} "
        f"before it ({'narrower' if r.upper - r.lower < r.prior_upper - r.prior_lower else 'no narrower'})."
        for r in wide.iloc[:len(config.bases)].itertuples())
    + " What is left uncertain is mostly the priors' own uncertainty about the effects and "
      "baselines, which the news can only partly resolve (notebook 04 says which inputs "
      "matter most).")

# %% [markdown]
# ## The news and what it did to each evidence variable
#
# The ledger as the model reads it: each item's stated likelihood ratio, its Admiralty
# code, and the log likelihood ratio it enters with after its credibility discount and
# its cluster or thread (a repeat of one origin enters with 0 and is not counted).

# %%
from forecast.tables import evidence_table, ledger_table

ledger = ledger_table(config, items)
show(ledger.assign(lr=ledger["lr"].map(lambda v: v if isinstance(v, str) else fmt.ratio(v)),
                   counted=ledger["counted"].map({True: "yes", False: "no"})),
     columns=["date", "headline", "reliability", "bears_on", "lr", "entered", "counted"],
     names={"date": "Date", "headline": "Headline", "entered": "log LR entered",
            "counted": "Counted"},
     caption=f"The news ledger ({len(ledger)} items)")

# %% [markdown]
# Each evidence variable before and after the news: its prior P(state true), its
# posterior P(state true) with the 90% interval, and the total log likelihood ratio the
# news put on it (positive: the news makes the state more likely). Read the change column
# for what the news did; a variable with no news keeps its prior up to sampling noise.

# %%
evidence = evidence_table(posterior)
before = prior.state_probabilities()
evidence["prior"] = [before[v].mean for v in evidence["variable"]]
evidence["change_pp"] = 100 * (evidence["p"] - evidence["prior"])
show(evidence, columns=["label", "prior", "p", "lower", "upper", "change_pp", "news_log_lr"],
     names={"label": "Evidence variable", "prior": "Prior P(state)",
            "p": "Posterior P(state)"},
     caption="What the news did to each evidence variable")

# %%
ranked = evidence.assign(size=evidence["change_pp"].abs()).sort_values("size", ascending=False)
top = ranked.iloc[0]
quiet = ranked[ranked["news_log_lr"].abs() < 1e-12]["label"].tolist()
Markdown(
    f"The news moved **{top['label']}** most: from {fmt.pct(top['prior'])} to "
    f"{fmt.pct(top['p'])} ({fmt.pp(top['change_pp'])}, total log LR "
    f"{fmt.number(top['news_log_lr'], 2)}). "
    + " ".join(f"{r.label}: {fmt.pct(r.prior)} to {fmt.pct(r.p)} ({fmt.pp(r.change_pp)})."
               for r in ranked.iloc[1:].itertuples())
    + (f" No news bears on {', '.join(quiet)}." if quiet else ""))

# %% [markdown]
# ## Convergence diagnostics
#
# The gate in the question's `model.yaml`: R-hat, bulk and tail ESS of the headline
# probabilities, divergences, and the MCSE of the headline means. A fit that fails it
# must not be briefed; the table says which checks pass.

# %%
diagnostics = posterior.fit.diagnostics
gate = config.model.gate
checks = pd.DataFrame([
    {"check": "R-hat, worst quantity", "value": fmt.number(diagnostics["r_hat_max"], 3),
     "threshold": f"≤ {fmt.number(gate.r_hat_max, 2)}",
     "ok": diagnostics["r_hat_max"] <= gate.r_hat_max},
    {"check": "Bulk ESS, headline probabilities", "value": fmt.count(diagnostics["ess_bulk_min"]),
     "threshold": f"≥ {fmt.count(gate.ess_bulk_min)}",
     "ok": diagnostics["ess_bulk_min"] >= gate.ess_bulk_min},
    {"check": "Tail ESS, headline probabilities", "value": fmt.count(diagnostics["ess_tail_min"]),
     "threshold": f"≥ {fmt.count(gate.ess_tail_min)}",
     "ok": diagnostics["ess_tail_min"] >= gate.ess_tail_min},
    {"check": "Divergent transitions", "value": fmt.count(diagnostics["divergences"]),
     "threshold": f"≤ {gate.divergences_max}",
     "ok": diagnostics["divergences"] <= gate.divergences_max},
    {"check": "MCSE of the headline means", "value": fmt.number(diagnostics["mcse_max"], 4),
     "threshold": f"≤ {fmt.number(gate.mcse_max, 4)}",
     "ok": diagnostics["mcse_max"] <= gate.mcse_max},
]).assign(result=lambda t: t["ok"].map({True: "pass", False: "FAIL"}))
show(checks, columns=["check", "value", "threshold", "result"],
     names={"check": "Check", "value": "This fit", "threshold": "Gate (model.yaml)",
            "result": "Result"},
     caption=f"Convergence gate: {'PASSED' if diagnostics['passed'] else 'FAILED'}")

# %%
from forecast.tables import diagnostics_table

per_variable = diagnostics_table(diagnostics)
show(per_variable, names={"variable": "Quantity"},
     caption="Per sampled quantity: worst R-hat, smallest bulk and tail ESS, largest MCSE "
             "(headline quantities only)")

# %% [markdown]
# The chart plots each quantity's smallest bulk ESS (blue dot) and tail ESS (orange
# diamond) on a log scale against the gate's thresholds (dashed and dotted lines), with
# its worst R-hat written at the right, in red if above the gate. Every marker to the
# right of its line and every R-hat in black means the draws are enough and the chains
# agree.

# %%
charts.plot_diagnostics(per_variable, gate=gate)

# %%
worst = per_variable.sort_values("ess_bulk_min").iloc[0]
Markdown(
    (f"**The fit passes its gate.** " if diagnostics["passed"] else
     f"**The fit FAILS its gate: {'; '.join(diagnostics['failures'])}. Do not brief these "
     f"numbers.** ")
    + f"The smallest bulk ESS of any quantity is {fmt.count(worst['ess_bulk_min'])} "
      f"({worst['variable']}), the worst R-hat {fmt.number(per_variable['r_hat_max'].max(), 3)}"
      f" and the largest MCSE of a headline mean {fmt.number(diagnostics['mcse_max'], 4)}: "
      f"the headline percentages carry a Monte Carlo error of about "
      f"±{fmt.number(200 * diagnostics['mcse_max'], 1)} points (two MCSE), "
      + ("far below their credible intervals." if 2 * diagnostics["mcse_max"] < 0.01 else
         "to be kept in mind when reading them to the point."))

# %% [markdown]
# ## Key judgements
#
# The briefing paragraph the library writes from these numbers: the estimative word and
# probability per base, what moved the forecast since the priors (Shapley credit, free of
# the order of the news), and what would change it most. Its "since the priors" moves are
# measured on the posterior's own draws reweighted to no news, not on the independent
# prior draws of the headline table, so the two can differ by a few tenths of a point
# (Monte Carlo error of the two sets of draws).

# %%
from forecast.findings import key_judgements

forecast = posterior
key_judgements(forecast, items)

# %%
from forecast.store import package_versions

for package, version in package_versions().items():
    print(f"{package:16} {version}")
