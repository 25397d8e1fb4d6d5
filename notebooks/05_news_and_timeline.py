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
# # 05 · News and the forecast's timeline
#
# How a news item is recorded and what it does, then how the forecast moved as news came
# in. The walk-through writes to a scratch copy of the question in a temporary folder,
# removed at the end of its cell, never to the real ledger.

# %% tags=["parameters"]
question_dir = "../priors/russia_syria_bases"
out_dir = "../out"  # the results root, where stored fits are found and reused
draws = 1500
seed = 20261125

# %%
# Seed: every computation below (the forecast, the example update, the timeline) is given
# `seed`; the forecast's draws (the exact engine's prior draws, or NUTS's chains) are
# stored and reused. This notebook starts from the news, so the forecast comes later.
from forecast.config import load_question
from forecast.ledger import load_ledger

config = load_question(question_dir).with_sampler(draws=draws, seed=seed)
items = load_ledger(config)
dates = sorted(i.date for i in items)
print(f"seed {seed}; {len(items)} news items in the ledger of {config.id}"
      + (f", dated {dates[0]} to {dates[-1]}" if dates else ""))

# %% [markdown]
# ## The ledger
#
# Every item recorded so far, in date order: its Admiralty code (source reliability A–F,
# information credibility 1–6), the variable or base it bears on, the likelihood ratio the
# analyst stated, and the log ratio it enters the model with after its credibility
# discount and its cluster or thread. A repeat of one origin is not counted.

# %%
from IPython.display import Markdown, display

from forecast import fmt
from forecast.display import show, show_ledger
from forecast.tables import ledger_table

ledger = ledger_table(config, items)
show_ledger(config, items,
            caption=f"The news ledger of {config.id} ({len(ledger)} items)")

# %% [markdown]
# ## Recording an item
#
# A hypothetical report, for illustration: a Russian statement that talks on the bases
# have resumed. It bears on `basing_agreement`; a report like this is about twice as
# likely if an agreement is coming than if not (a ratio between 1.5 and 3), and the
# source is usually reliable (B2). The update records it in a scratch copy of the
# question, then computes the forecast before and after it: by reweighting the stored fit
# (the fast path) while its Pareto k-hat stays within the threshold, or by the exact
# engine. The scratch copy gets its own results folder (seeded with the real forecast's
# stored fit, if it has one: same inputs, so it is reused rather than refitted); the whole
# temporary folder is deleted when the cell ends.

# %%
import shutil
import tempfile
from pathlib import Path

from forecast.engine import compute
from forecast.news import scratch_copy, update
from forecast.store import fits_dir

# The forecast of the real ledger: its stored fit, if it has one, seeds the scratch copy.
forecast = compute(config, items, out=out_dir, seed=seed, allow_reweight=False)
n_draws = forecast.fit.shape[0] * forecast.fit.shape[1]
print(f"{n_draws:,} draws behind the forecast of the real ledger (path: {forecast.path})")
example = {
    "id": "example-talks-resume",
    "date": str(max([i.date for i in items], default=config.question.created)),
    "headline": "Example: Moscow says talks on the bases have resumed",
    "source": "example wire report",
    "reliability": "B2",
    "bears_on": "basing_agreement",
    "lr": {"lower": 1.5, "upper": 3.0},
    "notes": "illustration only; not in the real ledger",
}
with tempfile.TemporaryDirectory() as tmp:
    scratch = scratch_copy(config, Path(tmp) / "question")
    scratch_out = Path(tmp) / "out"
    if forecast.fit.file.is_file():  # a stored NUTS fit: the scratch copy reuses it
        fits_dir(scratch_out, scratch).mkdir(parents=True)
        shutil.copy2(forecast.fit.file, fits_dir(scratch_out, scratch))
    result = update(scratch, example, out=scratch_out, seed=seed)
    example_moves = result.contributions()
    example_paths = (result.before.path, result.after.path, result.after.khat)
    scratch_ledger = ledger_table(scratch, load_ledger(scratch))
    example_entered = float(scratch_ledger.set_index("id").loc[example["id"], "entered"])
assert not Path(tmp).exists()  # the scratch copy and its results are gone
display(result)  # the item, and the forecast before and after it

# %%
labels = {o.id: o.name for o in config.question.outcomes}
labels.update(all=config.wording.all, any=config.wording.any)
show(example_moves.assign(label=example_moves["outcome"].map(labels)),
     columns=["label", "before", "after", "change_pp", "after_lower", "after_upper"],
     names={"label": "Outcome", "before": "Before the item", "after": "After it",
            "change_pp": "Change"},
     caption="What the example item did (scratch copy)")

# %%
before_path, after_path, khat = example_paths
mid_lr = (example["lr"]["lower"] * example["lr"]["upper"]) ** 0.5
on_variable = ledger[(ledger["bears_on"] == example["bears_on"]) & ledger["thread"].notna()
                     & (ledger["thread"] != "")]
thread_id = on_variable["thread"].value_counts().index[0] if len(on_variable) else None
same_thread = on_variable[on_variable["thread"] == thread_id]
rho = config.threads.dependence(thread_id) if thread_id else float("nan")
lead = example_moves.set_index("outcome").loc[config.bases[0]]
Markdown(
    f"The forecast before the item was computed by the {before_path} path, after it by the "
    f"**{after_path}** path"
    + (f" (Pareto k-hat {fmt.number(khat, 2)}, "
       f"{'within' if khat <= config.model.fast_path.khat_max else 'ABOVE'} the trusted "
       f"{fmt.number(config.model.fast_path.khat_max, 1)})" if khat is not None else "")
    + f". A report about {fmt.number(mid_lr, 1)} times as likely under an agreement (the "
      f"geometric midpoint of its ratio), from a B2 source, moves "
      f"{labels[config.bases[0]]} by {fmt.pp(lead['change_pp'])}: one credible report shifts "
      f"the odds, it does not settle the question. "
    + (f"Set it beside the real ledger: recorded without a thread, it enters alone with a log "
       f"ratio of {fmt.number(example_entered, 2)}, while the {len(same_thread)} real reports "
       f"of the thread '{thread_id}' on the same variable enter together with "
       f"{fmt.number(same_thread['entered'].sum(), 2)}, because that thread's reports are "
       f"judged to repeat one another (dependence {fmt.number(rho, 2)}). Whether a new report "
       f"is filed in an existing thread can matter more than its stated ratio. "
       if len(same_thread) else "")
    + f"The real ledger is unchanged: it still has {len(load_ledger(config))} items.")

# %% [markdown]
# ## The forecast's history: what was said, and the reconstruction
#
# Two different things are called "the forecast's history", and this notebook keeps them
# apart:
#
# - **The record** (`record.jsonl` in the question directory) holds the forecasts actually
#   issued (`forecast run --issue`), each line written once and never rewritten: what was
#   said on the day, with the hash of every input behind it. Only these can be scored as
#   forecasts.
# - **The reconstruction** recomputes every past date with *today's* priors and model from
#   the items dated by then (and not retracted by then). Every point uses the same draws as
#   the forecast of the whole ledger (the exact engine's prior draws, or a NUTS fit),
#   weighted exactly to the items counting then. It shows what the news did under the
#   current model; it is not what anyone said at the time, and scoring it measures
#   hindsight.
#
# The real record is only read here; nothing below writes to it.

# %%
import pandas as pd

from forecast.news import history
from forecast.record import read_record, record_path, record_table
from forecast.tables import history_layers, stale_since

timeline = history(config, out=out_dir, seed=seed)
entries = read_record(config)
layers = history_layers(timeline, record_table(entries))
headline_of = dict(zip(ledger["id"], ledger["headline"], strict=True))


def layer_table(layers, kind):
    """One row per issued forecast, or per reconstruction step, each base's P and interval."""
    rows = []
    part = layers[layers["layer"] == kind]
    keys = ["entry", "issued", "date"] if kind == "issued" else ["date"]
    for _, day in part.groupby(keys, sort=False, dropna=False):
        by = day.set_index("outcome")
        first = day.iloc[0]
        news = [i.strip() for i in str(first["items"]).split(",") if i.strip()]
        rows.append({
            "issued": (f"{first['issued']:%Y-%m-%d %H:%M} UTC" if kind == "issued" else "–"),
            "date": ("priors" if first["date"] is None or pd.isna(first["date"])
                     else str(first["date"])),
            "n_items": int(first["n_items"]),
            **{f"base_{b}": f"{fmt.pct(by.loc[b, 'p'])} "
                            f"({fmt.interval(by.loc[b, 'lower'], by.loc[b, 'upper'])})"
               for b in config.bases},
            "p_keep_all": by.loc["all", "p"] if "all" in by.index else float("nan"),
            "news": "; ".join(headline_of.get(i, i) for i in news) or "–",
        })
    return pd.DataFrame(rows)


columns = {"issued": "Issued", "date": "As of / after", "n_items": "Items counting",
           **{f"base_{b}": f"{labels[b]} (90% interval)" for b in config.bases},
           "p_keep_all": labels["all"], "news": "News (reconstruction) / last entry seen"}
issued_now = layer_table(layers, "issued")
if issued_now.empty:
    display(Markdown(f"**The record: no forecast has been issued yet** for {config.id} "
                     f"(`{record_path(config).name}` is absent or empty). Every number "
                     "below is the reconstruction."))
else:
    display(show(issued_now, columns=list(columns), names=columns,
                 caption=f"THE RECORD: {len(issued_now)} forecast"
                         f"{'s' if len(issued_now) != 1 else ''} issued, as issued"))
steps = layer_table(layers, "reconstruction")
stale = stale_since(items, forecast.as_of)
n_dates = int((steps["date"] != "priors").sum())  # the first row is the priors alone
show(steps, columns=[c for c in columns if c != "issued"], names=columns,
     caption=f"THE RECONSTRUCTION: the priors, then today's model after each of the "
             f"{n_dates} news dates"
             + (f"; no news recorded since {stale}" if stale else ""))

# %% [markdown]
# ### Issuing, retracting and the two layers side by side (scratch copy)
#
# The real record above may be empty; to show the two layers together, the next cell
# works on a scratch copy of the question in a temporary folder (deleted when the cell
# ends; the real ledger and record are never touched). It issues today's forecast,
# records the example report from above and issues again, then **retracts** the example
# (as if it had been shown false) and issues a third time. A retraction is a new ledger
# entry with a reason and a source: the item stays in the file, byte for byte, and from
# the retraction's date on it no longer counts.

# %%
import datetime as dt

from forecast.news import diff_attribution, retract
from forecast.record import issue

with tempfile.TemporaryDirectory() as tmp:
    scratch = scratch_copy(config, Path(tmp) / "question")
    scratch_out = Path(tmp) / "out"
    today = dt.date.today()
    issue(compute(scratch, load_ledger(scratch), out=scratch_out, seed=seed))
    update(scratch, dict(example, date=str(today)), out=scratch_out, seed=seed)
    issue(compute(scratch, load_ledger(scratch), out=scratch_out, seed=seed))
    withdrawn = retract(scratch, {"id": "example-retraction", "date": str(today),
                                  "retracts": example["id"],
                                  "reason": "illustration: the statement was misquoted",
                                  "source": "example correction by the wire"},
                        out=scratch_out, seed=seed)
    issue(withdrawn.after)
    scratch_items = load_ledger(scratch)
    scratch_entries = read_record(scratch)
    scratch_layers = history_layers(history(scratch, out=scratch_out, seed=seed),
                                    record_table(scratch_entries))
    credit = diff_attribution(scratch, scratch_items, scratch_entries[0], scratch_entries[1],
                              out=scratch_out, seed=seed)
    scratch_record_rows = [e["ledger"] for e in scratch_entries]
assert not Path(tmp).exists()
assert record_path(config).exists() == bool(entries)  # the real record: untouched

scratch_issued = layer_table(scratch_layers, "issued")
scratch_steps = layer_table(scratch_layers, "reconstruction")
display(show(scratch_issued, columns=list(columns), names=columns,
             caption="THE RECORD (scratch copy): three forecasts issued today, as issued"))
show(scratch_steps.tail(3), columns=[c for c in columns if c != "issued"], names=columns,
     caption="THE RECONSTRUCTION (scratch copy), its last three steps")

# %%
news_pp = credit["news_pp"][config.bases[0]]
Markdown(
    "Read the two tables differently. The **record** has three rows because three "
    "forecasts were issued; each is frozen as it was issued, and would stay so if a prior "
    "were edited tomorrow. Its second row counts the example report "
    f"({scratch_record_rows[1]['items']} items); its third was issued after the retraction, "
    f"counts {scratch_record_rows[2]['items']} items and names what it no longer counts "
    f"(retracted: {', '.join(scratch_record_rows[2]['retracted']) or 'none'}). The "
    "**reconstruction** has one step per ledger date: the example report and its "
    "retraction share today's date, so today's step shows the ledger without it, and the "
    "report itself is still listed in the ledger with its retraction beside it. Between the "
    f"first two issued forecasts the example report moved {labels[config.bases[0]]} by "
    f"{fmt.pp(news_pp)} (its Shapley credit under today's model, from `forecast diff`); the "
    f"rest of the change, {fmt.pp(credit['other_pp'][config.bases[0]])}, is Monte Carlo "
    "error, since nothing else changed.")

# %% [markdown]
# The chart draws the real question's two layers: the steps are the reconstruction (one
# line per base and for both kept, its band the 90% interval, each dot a date on which news
# arrived, the dotted verticals the news dates, the six largest moves numbered above the
# plot and named, by headline, in the key below it; the last step runs on to the
# forecast's date), and black diamonds, if any, are the forecasts issued into the record.
# Read the slope of the steps as how much each stretch of news mattered under today's
# model, never as what was said then (when the items were entered in the ledger is stated
# below the chart).

# %%
from forecast import charts
from forecast.ledger import ledger_entries
from forecast.record import last_item

newest = last_item(ledger_entries(items))
charts.plot_history(timeline, ledger=ledger, config=config, as_of=forecast.as_of,
                    record=record_table(entries),
                    last_recorded=None if newest is None else newest.recorded)

# %%
def _recorded():
    days = pd.Series([str(i.recorded)[:10] for i in items if i.recorded]).value_counts()
    if days.empty:
        return ""
    days = days.sort_index()
    return (" The items were entered in the ledger on "
            + ", ".join(f"{d} ({n})" for d, n in days.items())
            + ": every step before the last entry date is hindsight, not a forecast issued then.")


def _diluted():
    """Dates where reports bearing directly on a base moved it against their own direction."""
    found = []
    for b in config.bases:
        series = timeline[timeline["outcome"] == b].reset_index(drop=True)
        moves = series.assign(change=100 * series["p"].diff()).dropna(subset=["change"])
        for r in moves.itertuples():
            new = ledger[ledger["id"].isin(str(r.new_items).split(","))]
            if new.empty or not (new["bears_on"] == b).all():
                continue
            direction = new["log_lr"].sum()
            if abs(r.change) >= 1 and direction * r.change < 0:
                t = new["thread"].iloc[0]
                found.append(f"on {r.date}, {labels[b]} moved {fmt.pp(r.change)} on "
                             f"{'reports' if len(new) > 1 else 'a report'} judged to point "
                             f"the other "
                             f"way ({'; '.join(new['headline'])}; thread '{t}')")
    if not found:
        return ""
    return (" A sceptical reader should note one property of threads: "
            + "; ".join(found)
            + ". A thread's reports count together as n / (1 + (n − 1) rho) reports, so a weak "
              "report filed in a thread lowers the weight of the stronger ones already in it; "
              "the ledger's 'log LR entered' is each item's weight given the whole ledger, and "
              "an item that arrived first in its thread counted for more at the time.")


lead = config.bases[0]
path = timeline[timeline["outcome"] == lead].reset_index(drop=True)
jumps = path.assign(change=100 * path["p"].diff()).dropna(subset=["change"])
big = jumps.loc[jumps["change"].abs().idxmax()] if len(jumps) else None
Markdown(
    f"{labels[lead]} went from {fmt.pct(path['p'].iloc[0])} before any news to "
    f"{fmt.pct(path['p'].iloc[-1])} after the last item "
    f"({fmt.pp(100 * (path['p'].iloc[-1] - path['p'].iloc[0]))}), in {len(jumps)} steps "
    f"(one per news date). "
    + (f"Its largest single-day move was on {big['date']} ({fmt.pp(big['change'])}): "
       f"{'; '.join(headline_of.get(i, i) for i in str(big['new_items']).split(',') if i)}."
       if big is not None else "No news has moved it yet.")
    + _recorded() + _diluted())

# %% [markdown]
# ## Key judgements
#
# The briefing paragraph of the real forecast (the example item above is not in it).

# %%
from forecast.findings import key_judgements

key_judgements(forecast, items)

# %%
from forecast.store import package_versions

for package, version in package_versions().items():
    print(f"{package:16} {version}")
