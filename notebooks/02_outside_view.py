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
# How long do patrons keep foreign bases after a shock like the fall of their client? This
# notebook answers from the dated reference class (`priors/reference_class/cases.csv` and
# `events.csv`): each case is coded with only what was known when its episode began, and
# every later fact (a demand to leave, a refused red line, an attack) enters on the date it
# happened. A discrete-time hazard model (`forecast/hazard.py`) turns that into the yearly
# chance of losing the base; it is back-tested as of 0, 1 and 2 years into each episode,
# from what was known then, against the base rate and against the old episode-coded model
# (whose features were coded over the whole episode: hindsight). It is then applied to the
# Syria question, as of its start and as of today, beside the analysts' forecast. "As of the
# start" uses the reference class as it could have been known on the question's creation
# date (no case, exit or event from later), so no hindsight enters there; "as of today" uses
# the class as entered in 2026.

# %% tags=["parameters"]
seed = 20261125
draws = 1500
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"
backtest_refit = True

# %%
# Seed: `seed` and `draws` set the question model's forecast (its stored fit is reused when
# they match one) and the draws of the linked priors. The hazard fit is the one stored
# under out_dir, made with the seed and draws of priors/reference_class/hazard.yaml (fitted
# and stored on the first run only), so this notebook shows the same outside view as
# `forecast charts`. `backtest_refit=False` skips the exact refits of the backtest
# (PSIS only: fast, less trustworthy where the Pareto k is above 0.7).
from forecast.config import load_question
from forecast.reference_store import cached_hazard_fit

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
fit, how = cached_hazard_fit(out_dir)
ref = fit.settings.sampler
print(f"Question model: seed {seed}, {config.model.sampler.chains} chains x {draws} draws")
print(f"Hazard fit ({how}): seed {ref.seed}, {ref.chains} chains x {ref.draws} draws "
      f"(priors/reference_class/hazard.yaml)")
print(f"Backtest: {'exact refits where Pareto k is high' if backtest_refit else 'PSIS only'}")

# %% [markdown]
# ## The data: what was known at the start, and what was dated later
#
# One row per episode in `cases.csv`: the patron, the host, the bases, the shock that began
# the episode and its month, and the two facts known at that moment (a regime change, a
# treaty in force). Everything else is an event in `events.csv` with its month: the first
# demand to leave, a refused red line, the first lethal attack, backing for separatists,
# inducements offered, and the outcome (the exit, the loss of the main facility, or the
# month the case was last checked while still running).

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from forecast import fmt, hazard
from forecast.display import show
from forecast.reference_data import (
    STATIC,
    TIME_VARYING,
    default_path,
    known_at,
    load_reference,
    undated,
)

cases, events = load_reference()
outcome = fit.settings.outcome
window = fit.settings.backtest.window_years
at_start = known_at(cases, 0, outcome=outcome, window_years=window)
n_lost = int((at_start["kept"] == 0).sum())
n_kept = int((at_start["kept"] == 1).sum())
n_open = int(at_start["kept"].isna().sum())
first, last = cases["start_date"].min()[:4], cases["start_date"].max()[:4]
Markdown(
    f"**{len(cases)} episodes and {len(events)} dated or undated events**, from "
    f"{cases['patron'].nunique()} patrons and {cases['shock'].nunique()} shocks, starting "
    f"between {first} and {last}. Counting the loss of the main facility "
    f"(`outcome: {outcome}` in `hazard.yaml`), {n_lost} were lost within {window} years, "
    f"{n_kept} kept that long and {n_open} are still running or were checked before "
    f"{window} years had passed (right-censored: they count for the years they were seen).")

# %%
feature_rows = []
gaps = undated(events)
for f in hazard.FEATURES:
    if f in STATIC:
        with_it, at_0, later = int(cases[f].sum()), int(cases[f].sum()), 0
    else:
        onset = cases[f].to_numpy(dtype=float)
        with_it = int((~np.isnan(onset)).sum())
        at_0 = int((onset <= cases["start"].to_numpy(dtype=float)).sum())
        later = with_it - at_0
    feature_rows.append({"feature": f.replace("_", " "),
                         "known": "at the start" if f in STATIC else "dated event",
                         "cases": with_it, "at_0": at_0, "later": later,
                         "undated": int((gaps["event"] == f).sum())})
show(pd.DataFrame(feature_rows),
     names={"feature": "Feature", "known": "Coded as", "cases": "Cases with it",
            "at_0": "On at the start", "later": "Switched on later", "undated": "Undated"},
     caption="Which facts are known when an episode begins, and which arrive with a date")

# %%
n_later = sum(r["later"] for r in feature_rows)
Markdown(
    f"{n_later} feature onsets come after an episode's start. The old coding counted each "
    f"of them as present for the whole episode, so a case lost after a demand to leave was "
    f"coded 'demand' from day one: the model learned from facts it could not have had. "
    f"Here a fact enters the hazard only from the year after its month. "
    f"{len(gaps)} event{'s have' if len(gaps) != 1 else ' has'} no date a source "
    f"establishes; they are kept in the file and never switch a feature on:")

# %%
show(gaps, names={"case_id": "Case", "event": "Event", "note": "Why undated"},
     caption="Undated events (never used)")

# %%
by_patron = at_start.assign(
    lost=at_start["kept"].eq(0), kept5=at_start["kept"].eq(1), open_=at_start["kept"].isna(),
).groupby("patron").agg(n=("case_id", "size"), lost=("lost", "sum"), kept5=("kept5", "sum"),
                        open_=("open_", "sum"))
years_seen = fit.data.groupby("patron").size().rename("case_years")
by_patron = by_patron.join(years_seen).fillna({"case_years": 0}).sort_values(
    "n", ascending=False).reset_index()
show(by_patron, names={"patron": "Patron", "n": "Cases", "lost": f"Lost < {window} y",
                       "kept5": f"Kept {window} y", "open_": "Censored earlier",
                       "case_years": "Case-years in the fit"},
     caption="Coverage by patron (the Soviet Union and Russia share one intercept, "
             "hazard.yaml: patron_groups)")

# %%
top = by_patron.iloc[0]
small = by_patron[by_patron["n"] <= 2]["patron"].tolist()
Markdown(
    f"{top['patron']} contributes {top['n']} of the {len(cases)} cases "
    f"({fmt.pct(top['n'] / len(cases))}): the outside view is mostly a record of bases "
    f"held by the {top['patron']}. "
    + (f"{' and '.join([', '.join(small[:-1]), small[-1]] if len(small) > 1 else small)} "
       f"{'have' if len(small) > 1 else 'has'} two cases or fewer and borrow"
       f"{'' if len(small) > 1 else 's'} a baseline from the others through the pooled "
       f"patron effect. " if small else "")
    + f"Moscow (Soviet Union and Russia together) has "
      f"{int(by_patron.loc[by_patron['patron'].isin(['Russia', 'Soviet Union']), 'n'].sum())} "
      f"cases.")

# %% [markdown]
# ### How the cases were added
#
# From the data dictionary (`priors/reference_class/DATA_DICTIONARY.md`), quoted as it
# stands, with the limitations it lists: read them before trusting any number below.

# %%
dictionary = default_path("DATA_DICTIONARY.md").read_text(encoding="utf-8")


def _section(text, heading):
    """The body of one '## ' section of a markdown file ('' when absent)."""
    parts = text.split("\n## ")
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        if title.strip().lower().startswith(heading.lower()):
            return body.strip()
    return ""


entered = cases["entered"].value_counts().sort_index()
display(Markdown(
    (_section(dictionary, "How the cases were added") or "_(no such section)_")
    + "\n\n**Entered:** " + ", ".join(f"{fmt.count(n)} on {d}" for d, n in entered.items())))
Markdown("**Known limitations (from the dictionary).**\n\n"
         + (_section(dictionary, "Known limitations") or "_(none listed)_"))

# %% [markdown]
# ## The hazard model
#
# One row per case and episode year at risk (`case_years`); the yearly probability that the
# base is lost in that year is
#
# `logit h = baseline[year band] + patron effect + shock effect + features known at the
# start of the year · beta`,
#
# the patron and the shock partially pooled (cases of one shock share their fate). A case
# leaves the data in the year it is lost; a still-running case counts the years it was
# seen. **A coefficient above 1 raises the yearly odds of LOSS.** The fit is checked
# against the gate of `hazard.yaml` before anything is read.

# %%
gate = fit.settings.gate
d = fit.diagnostics
checks = pd.DataFrame([
    {"check": "R-hat, worst parameter", "value": fmt.number(d["r_hat_max"], 3),
     "threshold": f"≤ {fmt.number(gate.r_hat_max, 2)}", "ok": d["r_hat_max"] <= gate.r_hat_max},
    {"check": "Divergent transitions", "value": fmt.count(d["divergences"]),
     "threshold": f"≤ {gate.divergences_max}", "ok": d["divergences"] <= gate.divergences_max},
    {"check": "Bulk ESS, worst parameter", "value": fmt.count(d["ess_bulk_min"]),
     "threshold": f"≥ {fmt.count(gate.ess_bulk_min)}",
     "ok": d["ess_bulk_min"] >= gate.ess_bulk_min},
]).assign(result=lambda t: t["ok"].map({True: "pass", False: "FAIL"}))
show(checks, columns=["check", "value", "threshold", "result"],
     names={"check": "Check", "value": "This fit", "threshold": "Gate (hazard.yaml)",
            "result": "Result"},
     caption=f"Hazard fit: {d['chains']} chains x {d['draws']} draws, "
             f"{len(fit.data)} case-years")

# %%
Markdown(f"**Gate: {'PASSED' if fit.converged else 'FAILED'}.** "
         + ("Every check is met." if fit.converged else
            "Failures: " + "; ".join(d["failures"]) + ". Do not use the numbers below."))

# %%
coefficients = fit.coefficients()
mass = fit.settings.credible_mass
show(coefficients.assign(
         feature=coefficients["feature"].str.replace("_", " "),
         odds=coefficients["hazard_odds_ratio"].map(fmt.ratio),
         interval=[f"{fmt.ratio(lo)}–{fmt.ratio(hi)}"
                   for lo, hi in zip(coefficients["lower"], coefficients["upper"], strict=True)],
         p_up=coefficients["p_raises_loss"].map(fmt.pct)),
     columns=["feature", "known_at", "odds", "interval", "p_up"],
     names={"feature": "Feature", "known_at": "Known", "odds": "Odds ratio of loss per year",
            "interval": f"{fmt.pct(mass)} interval", "p_up": "P(raises the hazard)"},
     caption="Hazard coefficients: odds ratios of LOSING the base in a year (median)")

# %% [markdown]
# The chart draws them on a log scale. Careful with the direction: unlike the old model's
# chart (odds of keeping), **right of 1 means more losses**; vermillion when the whole
# interval lies above 1 (the feature goes with losing the base), blue when below 1 (with
# keeping it), grey when it includes 1.

# %%
from forecast import charts

charts.plot_coefficients(
    coefficients.rename(columns={"hazard_odds_ratio": "odds_ratio", "lower": "or_lower",
                                 "upper": "or_upper"}),
    higher="lost", mass=mass,
    title="The event-history model: what raises the yearly odds of losing a base",
    footer_text=f"{len(cases)} cases, {len(fit.data)} case-years | seed {ref.seed} | "
                f"{ref.draws} draws x {ref.chains} chains")

# %%
def _listing(rows):
    parts = [f"{r.feature.replace('_', ' ')} (OR {fmt.ratio(r.hazard_odds_ratio)})"
             for r in rows.itertuples()]
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 2 else parts) or "none"


raises = coefficients[coefficients["lower"] > 1]
lowers = coefficients[coefficients["upper"] < 1]
open_ = coefficients[(coefficients["lower"] <= 1) & (coefficients["upper"] >= 1)]
Markdown(
    f"With its {fmt.pct(mass)} interval clear of 1, {_listing(raises)} "
    f"raise{'s' if len(raises) == 1 else ''} the yearly odds of loss and {_listing(lowers)} "
    f"lower{'s' if len(lowers) == 1 else ''} them. "
    f"For {_listing(open_)} the interval includes 1: the cases do not settle the direction. "
    f"These are associations across {len(cases)} cases, not causal effects.")

# %% [markdown]
# ### When bases are lost: the first years
#
# The observed yearly loss rate among cases still at risk, by episode year, beside the
# model's baseline (no feature present, a typical patron and shock).

# %%
from scipy.special import expit

draws_ = fit.draws()
bands = expit(draws_["baseline"])
by_year = fit.data.groupby("year").agg(at_risk=("lost", "size"), lost=("lost", "sum"))
by_year["rate"] = by_year["lost"] / by_year["at_risk"]
by_year["baseline"] = [float(np.median(bands[:, int(fit.settings.band(k))]))
                       for k in by_year.index]
by_year = by_year.reset_index()
show(by_year.head(6).assign(rate=lambda t: t["rate"].map(fmt.pct)),
     names={"year": "Episode year", "at_risk": "Cases at risk", "lost": "Lost that year",
            "rate": "Observed loss rate", "baseline": "Model baseline hazard (median)"},
     caption="Losses are front-loaded: the yearly loss rate by episode year")

# %%
early = int(by_year.loc[by_year["year"] <= 2, "lost"].sum())
total = int(by_year["lost"].sum())
y1, y4 = by_year.iloc[0], by_year[by_year["year"] >= 4]
Markdown(
    f"{early} of the {total} losses ({fmt.pct(early / total)}) fall in the first two years. "
    f"In year 1, {fmt.pct(y1['rate'])} of the cases at risk lost the base; from year 4 on, "
    f"{fmt.pct(y4['lost'].sum() / y4['at_risk'].sum())} a year. A case that survives its "
    f"first years has passed the most dangerous stretch.")

# %% [markdown]
# ## The backtest: as of each origin, without hindsight
#
# Each case is forecast 0, 1 and 2 years into its episode, from what was known then, for
# P(kept to the start + 5 years), by a model that has not seen its shock (leave-one-shock-out
# by PSIS, Pareto-smoothed importance sampling: the full fit's draws reweighted as if the
# shock's cases were left out; where the Pareto k diagnostic is high, above 0.7, that
# shortcut is unreliable and the model is refitted without them). The comparisons: the
# base rate of the other shocks' cases at risk at that origin, and the **old episode-coded
# logistic model** (its leave-one-out forecasts), whose features were coded over the whole
# episode: it knew about demands and attacks that came later, so its score is
# **hindsight**, not a forecast anyone could have made. Brier score (the mean squared error
# of the probability): lower is better (0.25 for a coin flip).

# %%
from forecast.reference_store import cached_hazard_backtest

# stored under out_dir beside the fits, so the chart set and this notebook show one backtest
bt, bt_how = cached_hazard_backtest(out_dir, fit, refit=backtest_refit)
names_f = {"hazard": "Event-history model (as of the origin)",
           "base_rate": "Base rate at the origin",
           "old_model": "Old episode-coded model (HINDSIGHT)"}
scores = bt.scores.assign(forecaster=bt.scores["forecaster"].map(names_f),
                          origin=bt.scores["origin"].map(
                              lambda o: f"{o} year{'s' if o != 1 else ''} in"))
show(scores, columns=["origin", "forecaster", "brier", "log_score", "n_cases"],
     names={"origin": "Origin", "forecaster": "Forecaster", "brier": "Brier",
            "log_score": "Log score", "n_cases": "Cases"},
     caption="As-of-origin scores, whole shock left out (lower Brier, higher log score: better)")

# %%
s = bt.scores.set_index(["origin", "forecaster"])["brier"]
origins = sorted(bt.scores["origin"].unique())
beats = [o for o in origins if s[(o, "hazard")] < s[(o, "base_rate")]]
methods = bt.pointwise.drop_duplicates("shock")["method"].value_counts()
high_k = int((bt.pointwise.drop_duplicates("shock")["pareto_k"]
              > fit.settings.backtest.khat_max).sum())
lines = "\n".join(
    f"- **{o} year{'s' if o != 1 else ''} in**: {fmt.number(s[(o, 'hazard')], 3)} against "
    f"{fmt.number(s[(o, 'base_rate')], 3)} for the base rate"
    + (f" and {fmt.number(s[(o, 'old_model')], 3)} for the old model (hindsight)"
       if (o, "old_model") in s.index else "") for o in origins)
Markdown(
    f"Brier scores:\n\n{lines}\n\nThe event-history model beats the base rate at "
    + (f"all {len(origins)} origins" if len(beats) == len(origins) else
       f"{len(beats)} of the {len(origins)} origins")
    + ", by a modest margin: history, read "
    "honestly, carries little information beyond how often bases were kept. The old "
    "model's better score is what hindsight buys; it is not a benchmark a forecaster "
    "could reach. "
    + (f"{high_k} shock{'s' if high_k != 1 else ''} had a Pareto k above "
       f"{fmt.number(fit.settings.backtest.khat_max, 1)}; "
       + (f"they were refitted exactly ({int(methods.get('refit', 0))} refits)."
          if backtest_refit else
          "this run kept the PSIS values for them (`backtest_refit=False`), so read the "
          "scores as approximate; the full run refits them exactly.")
       if high_k else "No shock needed an exact refit."))

# %% [markdown]
# ### Calibration at each origin
#
# One reliability diagram per origin: each dot is a bin of the model's as-of-origin
# forecasts, its observed frequency against its mean forecast, sized by its count, with the
# 90% interval of the observed frequency; the dashed diagonal is perfect calibration. Each
# panel's box gives its Brier score beside the base rate's.

# %%
from forecast.charts.outside_view import plot_backtest_reliability

plot_backtest_reliability(
    bt.calibration, scores=bt.scores, mass=mass,
    footer_text=f"{len(fit.cases)} cases, each case's shock left out | seed {ref.seed} | "
                f"backtest {bt_how}" + ("" if backtest_refit else " (PSIS only)"))

# %%
cal = bt.calibration[bt.calibration["count"] > 0]
inside = (cal["observed_lower"] <= cal["mean_predicted"]) & (
    cal["mean_predicted"] <= cal["observed_upper"])
missed = cal[~inside]
Markdown(
    f"In {int(inside.sum())} of the {len(cal)} non-empty bins (all origins) the mean forecast "
    f"lies inside the interval of the observed frequency. "
    + ("No bin departs from calibration by more than its few cases allow."
       if missed.empty else
       "Outside it: " + "; ".join(
           f"origin {int(r.origin)}, bin {r.bin} ({fmt.count(r.count)} "
           f"case{'s' if r.count != 1 else ''}: forecast "
           f"{fmt.pct(r.mean_predicted)}, observed {fmt.pct(r.observed_frequency)})"
           for r in missed.itertuples()) + "."))

# %% [markdown]
# ## The Syria case: history as of the start and as of today
#
# The question is coded as a case in `reference_case.yaml`: Russia, from the fall of the
# Assad government, with its start features and the events dated since. The curves are
# history's P(still kept) by years since the shock: as of the start (only the start
# features; every other feature free to switch on at its historical rate), from the
# reference class **as it could have been known on the question's creation date** (the same
# fit the linked priors use: no case, exit or event dated later), and as of today (the
# bases held so far, with the events dated since switched on), from the class as entered
# in 2026, which may know what happened since. The points at the
# question's horizon are the question's own model: the analysts' prior forecast, the pooled
# prior (analysts and history, `prior_source: both`) and the forecast given the news.

# %%
import datetime as dt

from forecast import reference_priors
from forecast.analysis import compare_prior_sources, linked_prior_table
from forecast.charts.survival import plot_survival
from forecast.history_view import survival_table
from forecast.ledger import load_ledger

items = load_ledger(config)
derived = reference_priors.derive(config, fit, seed=seed)
linked_config = reference_priors.attach(config, derived)
by_source = compare_prior_sources(linked_config, items, out=out_dir, seed=seed)
lead = config.bases[0]
names_o = {o.id: o.name for o in config.question.outcomes}
at = by_source[by_source["outcome"] == lead].set_index(["source", "stage"])


def _point(source, stage):
    r = at.loc[(source, stage)]
    return float(r["p"]), float(r["lower"]), float(r["upper"])


points = {f"analysts' prior ({names_o[lead]})": _point("elicited", "prior"),
          f"pooled prior, analysts and history ({names_o[lead]})": _point("both", "prior"),
          f"the forecast given the news, priors {config.prior_source} ({names_o[lead]})":
              _point(config.prior_source, "posterior")}
today = dt.date.today()
table = survival_table(config, fit, today=today, points=points)
curves = table[table["kind"] == "curve"]
h = table.attrs["horizon_years"]
show(table[(table["kind"] == "point") | np.isclose(table["year"], h)],
     columns=["source", "kind", "origin", "date", "p", "lower", "upper"],
     names={"source": "Source", "kind": "Kind", "origin": "Origin (years)", "date": "Date",
            "p": "P(kept)"},
     caption=f"P(kept) at the question's horizon, {config.question.horizon}")

# %%
plot_survival(
    table, mass=mass,
    title=f"{config.question.title}: how long bases last after a shock",
    footer_text=f"hazard model, {len(cases)} cases | seed {ref.seed} | as of {today} | "
                f"horizon {config.question.horizon}")

# %% [markdown]
# ## What history says for Syria's bases, and why it differs from the analysts

# %%
sources = list(dict.fromkeys(curves["source"]))
at_h = {src: curves[(curves["source"] == src)].iloc[
            (curves.loc[curves["source"] == src, "year"] - h).abs().argmin()]
        for src in sources}
start_row, now_row = at_h[sources[0]], at_h[sources[-1]]
linked = linked_prior_table(linked_config)
logor = linked[linked["scale"] == "log odds ratio"]
eff = logor.pivot(index="label", columns="source", values="mean")
lo = logor.pivot(index="label", columns="source", values="lower")
hi = logor.pivot(index="label", columns="source", values="upper")


def _direction(label, source):
    """What a source's 90% interval says of the odds of keeping."""
    if lo.loc[label, source] > 0:
        return "raises the odds of keeping"
    if hi.loc[label, source] < 0:
        return "lowers the odds of keeping"
    return "has no clear direction (its 90% interval includes no effect)"


# Where the rise from "as of the start" to "as of today" comes from: the same class and
# origin with no event since (the years survived alone), and the start curve from the class
# as entered (what the hindsight-free class as of the creation changes).
from forecast.hazard import Profile, survival
from forecast.history_view import as_of_origin
from forecast.reference_priors import as_of_creation, case_coding

coding = case_coding(config)
static = {f: c.value for f, c in coding.start.items()}
no_event = {f: 0 for f in TIME_VARYING}
origin, known = as_of_origin(config, today)
held_only = float(np.mean(survival(fit, Profile(coding.patron, static, no_event),
                                   origin=origin, horizons=[h])))
start_entered = float(np.mean(survival(fit, Profile(coding.patron, static, no_event),
                                       origin=0, horizons=[h])))
on_since = [f.replace("_", " ") for f, v in known.items() if v]
base = derived.baseline
creation_draws = as_of_creation(config, fit).draws()
sd = {k: float(np.median(creation_draws[k])) for k in ("sigma_patron", "sigma_shock")}
analysts = points[next(iter(points))]
width = float(start_row["upper"] - start_row["lower"])
effects_text = "; ".join(
    f"*{label.removeprefix('Effect: ')}*: history {fmt.number(r['reference_class'], 2)}, "
    f"analysts {fmt.number(r['elicited'], 2)}" for label, r in eff.iterrows())
Markdown(
    f"**History's answer.** For a patron in Russia's position, P(the main facility is still "
    f"held on {config.question.horizon}) is {fmt.pct(start_row['p'])} as of the start "
    f"({fmt.interval(start_row['lower'], start_row['upper'])}, {fmt.pct(mass)} interval), "
    f"from the class as known on {config.question.created} (the class as entered in 2026 "
    f"gives {fmt.pct(start_entered)}: what was learnt since changes little),"
    + (f" and {fmt.pct(now_row['p'])} as of today "
       f"({fmt.interval(now_row['lower'], now_row['upper'])}), given that the bases have been "
       f"held for {fmt.number(origin, 0)} years and the events dated since: "
       + ("higher, because the dangerous first years have passed"
          if now_row["p"] > start_row["p"] else
          "no higher, because the events dated since raise the hazard about as much as "
          "surviving the first years lowers it")
       + f" (held so far with no event since, {fmt.pct(held_only)}; "
         f"{' and '.join(on_since) or 'no event'} since bring"
         f"{'s' if len(on_since) == 1 else ''} it to {fmt.pct(now_row['p'])})"
       if len(sources) > 1 else "")
    + f". The analysts' prior forecast for {names_o[lead]} is {fmt.pct(analysts[0])}; pooled "
      f"with history, {fmt.pct(list(points.values())[1][0])}."
    + f"\n\n**How sure.** Not very: the interval as of the start spans "
      f"{fmt.number(100 * width, 0)} points. Syria's is a new shock, so its shared effect is "
      f"drawn from the spread of past shocks (median SD {fmt.number(sd['sigma_shock'], 2)} on "
      f"the log odds, against {fmt.number(sd['sigma_patron'], 2)} between patrons); a shock "
      f"can make every case of it go one way, and the model cannot know in advance which. The "
      f"linked base rate (every evidence variable false, as of creation) is "
      f"{fmt.pct(base.mean)} ({fmt.interval(base.lower, base.upper)})."
    + f"\n\n**Why it differs from the analysts.** The linked log odds ratios of keeping "
      f"(0 is no effect, above 0 favours keeping; history against the analysts) are "
      f"{effects_text}. "
    + " ".join(
        f"*{label.removeprefix('Effect: ')}*: for the analysts it "
        f"{_direction(label, 'elicited')}; in history's cases it "
        f"{_direction(label, 'reference_class')}."
        for label in eff.index)
    + " Where the analysts lean towards pressure (attacks, proxies) pushing Russia out, the "
      "cases show patrons under such pressure leaving about as often as those without it. "
    + f"And losses are front-loaded ({fmt.pct(early / total)} of them in the first two "
      f"years): history's curve falls fastest at the start and flattens, so having held the "
      f"bases this long is itself evidence. These are associations across {len(cases)} "
      f"cases, mostly other patrons' bases, not a causal account of Syria.")

# %%
from importlib.metadata import version

for package in ("forecast", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats",
                "pymc-extras", "preliz", "numpy", "pandas"):
    print(f"{package:12} {version(package)}")
