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
# what the news did to each evidence variable, and whether the computation can be trusted
# (the exact engine that produced the forecast, cross-checked by a NUTS fit of the same
# model and news).

# %% tags=["parameters"]
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"
seed = 20261125
draws = 1500

# %%
# Seed: the forecast's draws (the exact engine's prior draws, or NUTS's chains, stored and
# reused) and the independent prior draws of the priors-only forecast come from `seed`.
from forecast.config import load_question
from forecast.engine import compute, prior_forecast
from forecast.ledger import load_ledger

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
items = load_ledger(config)
posterior = compute(config, items, out=out_dir, allow_reweight=False)
prior = prior_forecast(config, seed=seed)
n_draws = posterior.fit.shape[0] * posterior.fit.shape[1]
print(f"seed {seed}; {n_draws:,} draws behind the forecast (path: {posterior.path}"
      + (f", stored fit {posterior.fit.file.name})" if posterior.fit.file.is_file() else ")")
      + f"; {len(items)} news items")

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
from forecast.display import show, show_ledger
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
def _width_word(r):
    now, before = round(100 * (r.upper - r.lower)), round(100 * (r.prior_upper - r.prior_lower))
    return "narrower" if now < before else "wider" if now > before else "as wide"


moved = wide.assign(size=wide["change_pp"].abs()).sort_values("size", ascending=False)
widened = [r.label for r in wide.iloc[:len(config.bases)].itertuples()
           if _width_word(r) == "wider"]
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
        f"before it "
        f"({_width_word(r)})."
        for r in wide.iloc[:len(config.bases)].itertuples())
    + (f" The news has widened the interval{'s' if len(widened) > 1 else ''} of "
       f"{' and '.join(widened)}: it made states "
       "whose effects are themselves uncertain more likely (lethal escalation and a new "
       "agreement, below), so more of the priors' uncertainty about those effects now "
       "reaches the forecast. " if widened else " ")
    + "What is left uncertain is mostly the priors' own uncertainty about the effects and "
      "baselines, which news of this kind can only partly resolve (notebook 04 says which "
      "inputs matter most).")

# %% [markdown]
# ## The news and what it did to each evidence variable
#
# The ledger as the model reads it: each item's stated likelihood ratio, its Admiralty
# code, and the log likelihood ratio it enters with after its credibility discount and
# its cluster or thread (a repeat of one origin enters with 0 and is not counted).

# %%
from forecast.tables import evidence_table

show_ledger(config, items)

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
# ## Can the numbers be trusted?
#
# The forecast passes the gate in the question's `model.yaml` before it is briefed. Which
# checks apply depends on how it was computed: the **exact** engine (independent prior
# draws weighted by the exact likelihood of the news) is checked by the Pareto k-hat of
# its weights, their effective sample size and the Monte Carlo error of the headline
# means; a **NUTS** posterior (sampled chains) by R-hat, bulk and tail ESS, divergences and
# the same Monte Carlo error.

# %%
diagnostics = posterior.fit.diagnostics
gate = config.model.gate
sampled_here = posterior.fit.file.is_file()  # a stored NUTS fit, with chains to diagnose
mcse_max = diagnostics.get("mcse_max", max(e.mcse for e in posterior.probabilities().values()))


def _check(name, value, shown, threshold, ok):
    return {"check": name, "value": shown, "threshold": threshold, "ok": bool(ok)}


def sampler_checks(d):
    """The NUTS gate of model.yaml, check by check."""
    return [
        _check("R-hat, worst quantity", d["r_hat_max"], fmt.number(d["r_hat_max"], 3),
               f"≤ {fmt.number(gate.r_hat_max, 2)}", d["r_hat_max"] <= gate.r_hat_max),
        _check("Bulk ESS, headline probabilities", d["ess_bulk_min"],
               fmt.count(d["ess_bulk_min"]), f"≥ {fmt.count(gate.ess_bulk_min)}",
               d["ess_bulk_min"] >= gate.ess_bulk_min),
        _check("Tail ESS, headline probabilities", d["ess_tail_min"],
               fmt.count(d["ess_tail_min"]), f"≥ {fmt.count(gate.ess_tail_min)}",
               d["ess_tail_min"] >= gate.ess_tail_min),
        _check("Divergent transitions", d["divergences"], fmt.count(d["divergences"]),
               f"≤ {gate.divergences_max}", d["divergences"] <= gate.divergences_max),
        _check("MCSE of the headline means", d["mcse_max"], fmt.number(d["mcse_max"], 4),
               f"≤ {fmt.number(gate.mcse_max, 4)}", d["mcse_max"] <= gate.mcse_max),
    ]


if sampled_here:
    engine_name, rows = "NUTS", sampler_checks(diagnostics)
else:
    khat_max = config.model.fast_path.khat_max
    ess = diagnostics.get("ess_bulk_min", float("nan"))
    engine_name, rows = "exact", [
        _check("Pareto k-hat of the weights", posterior.khat, fmt.number(posterior.khat, 2),
               f"≤ {fmt.number(khat_max, 1)}", posterior.khat <= khat_max),
        _check("Effective sample size of the weights", ess, fmt.count(ess),
               f"≥ {fmt.count(gate.ess_bulk_min)}", ess >= gate.ess_bulk_min),
        _check("MCSE of the headline means", mcse_max, fmt.number(mcse_max, 4),
               f"≤ {fmt.number(gate.mcse_max, 4)}", mcse_max <= gate.mcse_max),
    ]
checks = pd.DataFrame(rows).assign(result=lambda t: t["ok"].map({True: "pass", False: "FAIL"}))
show(checks, columns=["check", "value", "threshold", "result"],
     names={"check": "Check", "value": "This forecast", "threshold": "Gate (model.yaml)",
            "result": "Result"},
     caption=f"The briefed forecast ({engine_name} engine, path {posterior.path}): gate "
             f"{'PASSED' if diagnostics['passed'] else 'FAILED'}")

# %%
Markdown(
    (f"**The briefed forecast passes its gate** ({engine_name} engine). "
     if diagnostics["passed"] else
     f"**The briefed forecast FAILS its gate: {'; '.join(diagnostics['failures'])}. Do not "
     f"brief these numbers.** ")
    + f"The largest Monte Carlo error of a headline probability is {fmt.number(mcse_max, 4)}: "
      f"the percentages above are good to about ±{fmt.number(200 * mcse_max, 1)} points "
      f"(two MCSE), "
    + ("far inside their credible intervals." if 2 * mcse_max < 0.01 else
       "which matters when reading them to the point."))

# %% [markdown]
# ### The sampler's diagnostics (NUTS)
#
# The same model sampled with NUTS: the briefed forecast itself when it was sampled, and
# otherwise an independent cross-check of the exact engine, stored so that later runs reuse
# it. Its chains are held to the sampler gate of `model.yaml`; where the two engines agree
# within their Monte Carlo error, neither has gone wrong.

# %%
if sampled_here:
    sampled = posterior
else:  # the exact engine keeps no chains: sample the same model and news once, as a check
    sampled = compute(config, items, out=out_dir, seed=seed, engine="nuts",
                      allow_reweight=False)
nuts_diagnostics = sampled.fit.diagnostics
nuts_checks = pd.DataFrame(sampler_checks(nuts_diagnostics)).assign(
    result=lambda t: t["ok"].map({True: "pass", False: "FAIL"}))
show(nuts_checks, columns=["check", "value", "threshold", "result"],
     names={"check": "Check", "value": "NUTS fit", "threshold": "Gate (model.yaml)",
            "result": "Result"},
     caption=f"NUTS ({sampled.path}, {sampled.fit.file.name}): gate "
             f"{'PASSED' if nuts_diagnostics['passed'] else 'FAILED'}")

# %%
from forecast.tables import diagnostics_table

per_variable = diagnostics_table(nuts_diagnostics)
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

# %% [markdown]
# Those numbers summarise the chains; the rank plots look at the chains themselves. Each
# chain's draws of a headline probability are ranked among all chains' draws: if every
# chain samples the same posterior, each chain's ranks are uniform and its line (its
# ranks' ECDF minus the uniform CDF) stays near the zero line. ArviZ's multi-chain test
# gives each panel a p-value; a panel says DISAGREE, in red, when it falls below 0.01.
# Lines wandering apart, one chain far above the rest, mean the chains found different
# answers, whatever R-hat says.

# %%
from forecast.store import open_tree
from forecast.tables import outcome_labels

names = outcome_labels(sampled)
charts.plot_ranks(open_tree(sampled.fit.file),
                  labels={o: names[o] for o in config.headline_outcomes},
                  footer_text=charts.theme.footer_text(sampled))

# %%
worst = per_variable.sort_values("ess_bulk_min").iloc[0]
exact_p, nuts_p = posterior.probabilities(), sampled.probabilities()
gaps = {b: abs(exact_p[b].mean - nuts_p[b].mean) for b in config.bases}
joint_se = {b: (exact_p[b].mcse ** 2 + nuts_p[b].mcse ** 2) ** 0.5 for b in config.bases}
z = {b: gaps[b] / joint_se[b] for b in config.bases}
agree = all(z[b] <= 2 for b in config.bases)
z_worst = max(z, key=z.get)
base_names = {o.id: o.name for o in config.question.outcomes}
Markdown(
    ("**The NUTS fit passes the sampler gate.** " if nuts_diagnostics["passed"] else
     f"**The NUTS fit FAILS the sampler gate: {'; '.join(nuts_diagnostics['failures'])}.** ")
    + f"Its smallest bulk ESS of any quantity is {fmt.count(worst['ess_bulk_min'])} "
      f"({worst['variable']}) and its worst R-hat "
      f"{fmt.number(per_variable['r_hat_max'].max(), 3)}. "
    + ("" if sampled is posterior else
       "Against the exact engine: "
       + "; ".join(f"{base_names[b]} {fmt.pct(exact_p[b].mean)} (exact) and "
                   f"{fmt.pct(nuts_p[b].mean)} (NUTS), {fmt.number(100 * gaps[b], 1)} points "
                   f"apart ({fmt.number(z[b], 1)} joint standard errors)" for b in config.bases)
       + (": within twice their joint Monte Carlo error, so the two engines agree."
          if agree else
          f". The gap on {base_names[z_worst]} is more than chance alone usually gives "
          f"(over twice the joint Monte Carlo error), so a small systematic difference "
          f"between the engines cannot be ruled out and is worth checking in the library; "
          f"at {fmt.number(100 * gaps[z_worst], 1)} points it is far inside the "
          f"{fmt.number(100 * (exact_p[z_worst].upper - exact_p[z_worst].lower), 0)}-point "
          f"90% interval"
          + (" and does not change the estimative word."
             if all(fmt.estimative_word(exact_p[b].mean) == fmt.estimative_word(nuts_p[b].mean)
                    for b in config.bases) else
             ", but it changes an estimative word: resolve it before briefing."))))

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
