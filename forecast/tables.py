"""Tidy tables from forecasts: what charts, notebooks and the CLI show.

One job: turn :class:`~forecast.engine.Forecast` objects into pandas DataFrames
with one row per quantity. Charts take these tables, never raw draws.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecast.engine import Forecast
from forecast.fmt import ICD203, estimative_word  # noqa: F401  (re-exported)


def outcome_labels(forecast: Forecast) -> dict[str, str]:
    """Display names of the outcomes and of ``all`` / ``any``."""
    config = forecast.config
    names = {o.id: o.name for o in config.question.outcomes}
    names["all"] = config.wording.all
    names["any"] = config.wording.any
    return names


def headline_table(forecast: Forecast, prior: Forecast | None = None) -> pd.DataFrame:
    """P(keep) per base, both and either, with interval, MCSE and estimative word.

    A question with one outcome has no "both" or "either" rows: they would repeat it.

    Parameters
    ----------
    forecast
        The posterior forecast.
    prior
        Optionally the forecast before any news; its rows get ``stage="prior"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``stage, outcome, label, p, lower, upper, mcse, ess, word``.
    """
    rows = []
    labels = outcome_labels(forecast)
    shown = forecast.config.headline_outcomes
    own = "prior" if forecast.path == "prior" else "posterior"  # a prior-only forecast
    for stage, fc in (("prior", prior), (own, forecast)):
        if fc is None:
            continue
        for outcome, est in fc.probabilities().items():
            if outcome not in shown:
                continue
            rows.append(
                {
                    "stage": stage,
                    "outcome": outcome,
                    "label": labels[outcome],
                    "p": est.mean,
                    "lower": est.lower,
                    "upper": est.upper,
                    "mcse": est.mcse,
                    "ess": est.ess,
                    "word": estimative_word(est.mean),
                }
            )
    return pd.DataFrame(rows)


def evidence_table(forecast: Forecast) -> pd.DataFrame:
    """Each evidence variable: its posterior probability and the news weighing on it."""
    rows = []
    for k, (var, est) in enumerate(forecast.state_probabilities().items()):
        spec = forecast.config.evidence.variables[k]
        rows.append(
            {
                "variable": var,
                "label": spec.label,
                "p": est.mean,
                "lower": est.lower,
                "upper": est.upper,
                "news_log_lr": float(forecast.evidence.state_loglr[k]),
            }
        )
    return pd.DataFrame(rows)


def prior_table(config) -> pd.DataFrame:
    """Every prior in force (after ``prior_source``): its interval, its distribution, and why.

    Under ``prior_source: elicited`` each row is what was elicited and the
    distribution it became. Under ``reference_class`` the base rates and linked
    effects are the reference-class priors (``reference_priors.yaml``), and under
    ``both`` their pool by ``prior_pool`` of ``model.yaml``, a Beta/Normal
    (``log_linear``) or a two-component mixture (``linear``); such a row's interval is
    the central ``credible_mass`` interval of the prior in force
    (:func:`forecast.elicit.prior_interval`).

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``parameter, kind, label, origin, lower, upper, mass,
        dist, kwargs, prior_mean, rationale, source``. For effects, ``lower``/``upper``
        are odds ratios and ``prior_mean`` is the odds ratio at the prior median;
        ``origin`` is ``elicited``, ``reference class`` or ``pooled (<rule>)``.
    """
    from forecast.elicit import POOL_LABELS, prior_interval, prior_origins, resolved_priors
    from forecast.prior import LinearPool

    priors = resolved_priors(config)
    origins = prior_origins(config)
    pool = config.model.prior_pool
    rows = []

    def kwargs_text(prior) -> str:
        """A scalar prior's parameters; a pool's as ``1-w x (...) + w x (...)``."""
        parts = [", ".join(f"{k}={float(v):.3g}" for k, v in c.parameters.items())
                 for _, c in prior.components()]
        if not isinstance(prior, LinearPool):
            return parts[0]
        w = float(prior.weight)
        return f"{1 - w:.2g} x ({parts[0]}) + {w:.2g} x ({parts[1]})"

    def add(parameter, kind, label, spec, slot, j, origin, linked=None):
        prior = priors[slot].entry(j)
        lower, upper, mass = prior_interval(config, slot, j, spec.elicited, priors=priors)
        if origin == "elicited" and spec.elicited is None:
            lower = upper = mass = np.nan  # given as a distribution: nothing was elicited
        if slot == "effect_mu":
            centre = float(np.exp(prior.quantiles(0, [0.5])[0]))
        else:
            centre = prior.mean()
        mixed = isinstance(prior, LinearPool) and origin != "elicited"
        rationale, source = spec.rationale, spec.source
        if origin == "reference class":
            rationale, source = linked.rationale, "reference class (reference_priors.yaml)"
        elif origin != "elicited":
            rationale = (f"{POOL_LABELS[pool.method]} of the analysts' prior (weight "
                         f"{1 - pool.weight:g}) and the reference class's (weight "
                         f"{pool.weight:g}): {pool.rationale} Analysts: {spec.rationale} "
                         f"History: {linked.rationale}")
            source = f"{spec.source}; reference class (reference_priors.yaml)"
        rows.append({
            "parameter": parameter,
            "kind": kind,
            "label": label,
            "origin": origin,
            "lower": lower,
            "upper": upper,
            "mass": mass,
            "dist": f"Mixture of 2 {prior.family}" if mixed else prior.family,
            "kwargs": kwargs_text(prior if mixed else prior.components()[0][1]),
            "prior_mean": centre,
            "rationale": rationale,
            "source": source,
        })

    linked = config.linked
    for j, o in enumerate(config.question.outcomes):
        add(f"p_base[{o.id}]", "baseline P(keep)", o.name, o.baseline, "p_base", j,
            origins["p_base"][j], linked.baseline if linked is not None else None)
    for k, v in enumerate(config.evidence.variables):
        add(f"p_state[{v.id}]", "P(state true)", v.label, v.prior, "p_state", k, "elicited")
        add(f"effect[{v.id}]", "odds ratio on keeping", v.label, v.effect, "effect_mu", k,
            origins["effect_mu"][k],
            linked.effects.get(v.id) if linked is not None else None)
    return pd.DataFrame(rows)


def ledger_table(config, items) -> pd.DataFrame:
    """The news ledger: each item's credibility, thread and the log ratio it enters with.

    ``log_lr`` is the item's log ratio alone (credibility-mixed, at its midpoint);
    ``entered`` what it adds after clusters and its thread's dependence (0 for a
    repeat its cluster does not count, and for a retracted item); ``counted`` is False
    for such a repeat and for a retracted item; ``url`` is empty for an item recorded
    without one. A retraction (:class:`forecast.ledger.Retraction`) is a row of its own
    on its date, ``kind`` ``retraction``: its ``headline`` says which item it withdraws
    and why, ``retracts`` names it, and the item's own row gives the date in
    ``retracted``. Both stay shown: the ledger is append-only.
    """
    from forecast.ledger import evidence_from, item_credibility, item_loglr

    evidence = evidence_from(config, items)
    rows = []
    for item in sorted(items, key=lambda i: (i.date, i.id)):
        lr = item.lr if isinstance(item.lr, float) else f"{item.lr.lower:g}–{item.lr.upper:g}"
        r = item.retraction
        rows.append({
            "date": item.date,
            "id": item.id,
            "headline": item.headline,
            "source": item.source,
            "url": item.url or "",
            "reliability": item.reliability,
            "bears_on": item.bears_on,
            "thread": item.thread or "",
            "lr": lr,
            "credibility": item_credibility(config, item.reliability),
            "log_lr": evidence.item_loglr.get(item.id, item_loglr(config, item)),
            "entered": evidence.entered.get(item.id, 0.0),
            "cluster": item.cluster or "",
            "counted": item.id in evidence.counted,
            "kind": "item",
            "retracts": "",
            "retracted": "" if r is None else r.date.isoformat(),
        })
        if r is not None:
            rows.append({
                "date": r.date, "id": r.id,
                "headline": f"RETRACTED {item.id} ({item.headline}): {r.reason}",
                "source": r.source, "url": r.url or "", "reliability": "",
                "bears_on": item.bears_on, "thread": "", "lr": "",
                "credibility": float("nan"), "log_lr": 0.0, "entered": 0.0,
                "cluster": "", "counted": False, "kind": "retraction",
                "retracts": item.id, "retracted": "",
            })
    columns = ["date", "id", "headline", "source", "url", "reliability", "bears_on", "thread",
               "lr", "credibility", "log_lr", "entered", "cluster", "counted", "kind",
               "retracts", "retracted"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["date", "id"], kind="stable").reset_index(drop=True)


#: A ledger whose newest entry was entered more than this many days before the as-of
#: date says so: the chart's :data:`forecast.charts.history.STALE_DAYS` (a test keeps
#: them equal; this module does not import matplotlib).
STALE_DAYS = 60

#: How the two layers of the history are named in tables, the CLI and the report.
ISSUED = "issued forecasts (the record: what was said on the day, never rewritten)"
RECONSTRUCTION = ("reconstruction (today's priors and model on the items dated by each "
                  "day: not what was said then)")


def stale_since(items, as_of: dt.date, days: int = STALE_DAYS) -> dt.date | None:
    """The day the newest ledger entry was entered, when that is more than ``days`` before
    ``as_of`` ("no news recorded since ..."); None when recent, or when nothing is stamped.

    Entries are the items and their retractions (:func:`forecast.ledger.ledger_entries`),
    by their ``recorded`` stamps (:func:`forecast.record.last_item`).
    """
    from forecast.ledger import ledger_entries
    from forecast.record import last_item

    last = last_item(ledger_entries(list(items)))
    if last is None or last.recorded is None:
        return None
    day = last.recorded.date()
    return day if (as_of - day).days > days else None


def history_layers(history: pd.DataFrame, record: pd.DataFrame | None = None) -> pd.DataFrame:
    """The record and the reconstruction in one tidy table, told apart by ``layer``.

    Parameters
    ----------
    history
        :func:`forecast.news.history` (the reconstruction).
    record
        :func:`forecast.record.record_table` (the issued forecasts), or None.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer`` (``issued`` or ``reconstruction``), ``entry`` (an issued
        forecast's line in the record, from 1; empty for the reconstruction), ``date`` (an issued
        forecast's as-of date; a reconstruction step's ledger date, None for the
        priors), ``issued`` (when it was issued, UTC; empty for the reconstruction),
        ``outcome``, ``p``, ``lower``, ``upper``, ``n_items`` and ``items`` (an issued
        forecast: the last ledger entry it saw; a step: the items dated that day, then any
        retracted that day as ``retracted: id``). The issued rows come first, oldest
        first.
    """
    columns = ["layer", "entry", "date", "issued", "outcome", "p", "lower", "upper", "n_items",
               "items"]
    parts = []
    if record is not None and not record.empty:
        parts.append(pd.DataFrame({
            "layer": "issued", "entry": record["entry"], "date": record["as_of"],
            "issued": record["issued"],
            "outcome": record["outcome"], "p": record["p"], "lower": record["lower"],
            "upper": record["upper"], "n_items": record["n_items"],
            "items": [i or "" for i in record["last_item"]]}))
    if not history.empty:
        gone = history["retracted"] if "retracted" in history else pd.Series("", history.index)
        items = [", ".join([*(n.split(",") if n else []),
                            *(f"retracted: {g}" for g in (r.split(",") if r else []))])
                 for n, r in zip(history["new_items"].fillna(""), gone.fillna(""),
                                 strict=True)]
        parts.append(pd.DataFrame({
            "layer": "reconstruction", "entry": pd.NA, "date": history["date"],
            "issued": pd.NaT,
            "outcome": history["outcome"], "p": history["p"], "lower": history["lower"],
            "upper": history["upper"], "n_items": history["n_items"], "items": items}))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def diagnostics_table(diagnostics: dict, forecast: Forecast | None = None) -> pd.DataFrame:
    """Per sampled variable: worst R-hat, bulk and tail ESS, and MCSE of headline means.

    For the exact engine (``forecast`` given, ``engine == "exact"``) there are no chains:
    one row per headline probability with its effective number of weighted draws (in
    both ESS columns), its MCSE and the weights' Pareto k-hat (``pareto_khat``); R-hat
    is NaN.
    """
    columns = ["variable", "r_hat_max", "ess_bulk_min", "ess_tail_min", "mcse_max"]
    if forecast is not None and forecast.engine == "exact":
        rows = [{"variable": f"P({k})" if k in ("all", "any") else f"p_keep[{k}]",
                 "r_hat_max": np.nan, "ess_bulk_min": e.ess, "ess_tail_min": e.ess,
                 "mcse_max": e.mcse, "pareto_khat": float(forecast.khat or 0.0)}
                for k, e in forecast.probabilities().items()
                if k in forecast.config.headline_outcomes]
        return pd.DataFrame(rows, columns=[*columns, "pareto_khat"])
    rows = [
        {"variable": name, **values}
        for name, values in diagnostics.get("per_variable", {}).items()
    ]
    return pd.DataFrame(rows, columns=columns)
