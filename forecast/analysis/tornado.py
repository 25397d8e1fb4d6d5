"""Sensitivity: the tornado table, each prior and news item pushed to its ends, by reweighting.

Each prior is pushed to the ends of its interval and each news item's likelihood
ratio to the ends of its interval, by importance reweighting of the existing draws,
with the Pareto k-hat of every row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast.analysis._common import _per_draw
from forecast.analysis.prior_ratio import effect_log_density, log_prior_ratio
from forecast.analysis.prior_shifts import shifted_priors
from forecast.config import QuestionConfig
from forecast.elicit import resolved_priors
from forecast.engine import compute, fewer_draws, importance_forecast
from forecast.exact import Enumerated, enumerate_states, log_likelihood, quantity_name
from forecast.ledger import LR_BOUNDS, LRInterval, NewsItem, evidence_from, items_as_of
from forecast.posterior import Forecast, estimate, psis
from forecast.tables import outcome_labels


def _item_variants(item: NewsItem, factor: float) -> list[tuple[str, float, str]]:
    """The ratios an item is pushed to: its interval's ends, or its value divided and
    multiplied by ``factor`` (``sensitivity.point_lr_factor`` of ``model.yaml``)."""
    lo, hi = LR_BOUNDS
    if isinstance(item.lr, LRInterval):
        return [("low", item.lr.lower, f"LR {item.lr.lower:g} (interval end)"),
                ("high", item.lr.upper, f"LR {item.lr.upper:g} (interval end)")]
    return [("low", max(item.lr / factor, lo), f"LR {item.lr:g} / {factor:g}"),
            ("high", min(item.lr * factor, hi), f"LR {item.lr:g} x {factor:g}")]


def _thread_variants(config: QuestionConfig, known: list[NewsItem]):
    """Sensitivity cases per thread: its dependence at 0 and 1, all its items at their ends.

    Yields ``(case, evidence, items)``; a dependence case changes the question's
    threads, not its items, so it yields ``None`` for them (no fresh-draw fallback).
    """
    threads = sorted({i.thread for i in known if i.thread})
    factor = config.model.sensitivity.point_lr_factor
    for thread in threads:
        spec = config.threads.get(thread) if config.threads is not None else None
        name = spec.label if spec is not None else thread
        now = config.threads.dependence(thread)
        for end, rho in (("low", 0.0), ("high", 1.0)):
            if rho == now:
                continue
            pushed = config.with_dependence({thread: rho})
            yield ({"parameter": f"dependence[{thread}]", "kind": "thread dependence",
                    "label": f"Dependence: {name}", "end": end,
                    "setting": f"rho {rho:g} (elicited {now:g})"},
                   evidence_from(pushed, known), None)
        members = [i for i in known if i.thread == thread]
        for end in ("low", "high"):
            pick = 0 if end == "low" else 1
            changed = [item.model_copy(update={"lr": _item_variants(item, factor)[pick][1]})
                       if item.thread == thread else item for item in known]
            yield ({"parameter": f"thread[{thread}]", "kind": "thread as a whole",
                    "label": f"Thread: {name} ({len(members)} items)", "end": end,
                    "setting": f"every item at the {end} end of its ratio"},
                   evidence_from(config, changed), changed)


def sensitivity(
    config: QuestionConfig,
    items: Sequence[NewsItem],
    *,
    forecast: Forecast | None = None,
    out: str = "out",
    include_items: bool = True,
    khat_max: float | None = None,
    fallback_draws: int = 20_000,
    fallback_seed: int | None = None,
    draws: int = 12_000,
) -> pd.DataFrame:
    """Tornado table: how far each headline probability moves when each input is pushed.

    Each prior is pushed to the low and high end of its interval
    (:func:`shifted_priors`), and each news item's likelihood ratio to the ends
    of its interval (or halved and doubled for a single value). Nothing is
    refitted: the draws of the forecast's fit are importance-reweighted with the
    log ratio ``[log p(news' | theta) - log p(news_fit | theta)] + [log p'(theta) -
    log p(theta)]``, both exact per draw, and Pareto-smoothed (:func:`forecast.engine.psis`)
    (``method == "reweighted"``). Where that reweighting's k-hat exceeds ``khat_max``
    (default ``fast_path.khat_max``) -- typically a tight prior pushed to the end of
    its interval, where the fit has few draws -- the case is computed afresh:
    ``fallback_draws`` independent draws from the changed prior, weighted by the
    exact likelihood of the changed news (:func:`forecast.engine.importance_forecast`,
    ``method == "importance"``). A row that neither path can carry (k-hat still above
    ``khat_max``) is flagged ``trusted=False`` and its ``p`` and ``change_pp`` are
    NaN; the untrusted estimate is kept in ``p_untrusted`` for the record only.

    Parameters
    ----------
    config, items
        The question and its ledger (items after ``forecast.as_of`` are ignored).
    forecast
        The forecast to perturb (default: :func:`forecast.engine.compute` of the items).
    out
        Where fits are stored, when ``forecast`` is not given.
    include_items
        Add rows for the news items' likelihood ratios.
    khat_max
        The trust threshold for the Pareto k-hat.
    fallback_draws, fallback_seed
        Prior draws (0: no fallback) and their seed (default ``sampler.seed``) for
        the cases the reweighting cannot carry.
    draws
        For a forecast of the exact engine with more draws: recompute it on this
        many (the baseline and every row on the same draws).

    Returns
    -------
    pandas.DataFrame
        One row per (parameter, end, outcome): ``parameter, kind, label, end,
        setting, outcome, baseline, p, lower, upper, mcse, change_pp, p_untrusted,
        khat`` (of the path used), ``khat_reweighted, method, ess, trusted``.
    """
    fc = forecast if forecast is not None else compute(config, list(items), out=out)
    # Each row is a difference against the baseline on the same draws (common random
    # numbers), so fewer draws keep its error small: 80-odd rows at 40,000 draws cost
    # most of a minute.
    fc = fewer_draws(fc, items, draws)
    khat_max = config.model.fast_path.khat_max if khat_max is None else khat_max
    fit = fc.fit
    params = fit.params
    base_loglik = log_likelihood(params, fit.state_loglr, fit.outcome_loglr)
    now_loglik = fc.values.loglik
    baseline = {k: e.mean for k, e in fc.probabilities().items()}
    old = resolved_priors(config)
    old_effect = effect_log_density(old, params.beta)
    mass = config.model.credible_mass
    known = sorted(items_as_of(list(items), fc.as_of), key=lambda i: (i.date, i.id))
    seed = config.model.sampler.seed if fallback_seed is None else fallback_seed

    # Each case: its description, the log importance ratio from the fit's draws, the
    # per-draw values under the case's news, and the (news, changed Priors or None) to
    # redo it from fresh prior draws if the fit's draws cannot carry it.
    cases: list[tuple[dict[str, Any], np.ndarray, Enumerated, tuple]] = []
    for case in shifted_priors(config):
        log_ratio = now_loglik - base_loglik + log_prior_ratio(params, old, case["priors"],
                                                                   old_effect)
        cases.append((case, log_ratio, fc.values, (known, case["priors"])))
    if include_items:
        for i, item in enumerate(known):
            for end, lr, text in _item_variants(item, config.model.sensitivity.point_lr_factor):
                changed = [*known[:i], item.model_copy(update={"lr": lr}), *known[i + 1:]]
                ev = evidence_from(config, changed)
                values = enumerate_states(params, *ev.per_draw(params.n))
                case = {"parameter": f"news[{item.id}]", "kind": "news item likelihood ratio",
                        "label": f"News: {item.headline}", "end": end, "setting": text}
                cases.append((case, values.loglik - base_loglik, values, (changed, None)))
        for case, ev, changed in _thread_variants(config, known):
            values = enumerate_states(params, *ev.per_draw(params.n))
            cases.append((case, values.loglik - base_loglik, values, (changed, None)))
    now_dep = config.model.outcome_dependence.value
    if len(config.bases) > 1:
        ev_now = evidence_from(config, known)
        for end, lam in (("low", 0.0), ("high", 1.0)):
            if lam == now_dep:
                continue
            values = enumerate_states(dataclasses.replace(params, coupling=lam),
                                      *ev_now.per_draw(params.n))
            case = {"parameter": "outcome_dependence", "kind": "outcome dependence",
                    "label": "Outcome dependence (one bargain decides both)", "end": end,
                    "setting": f"lambda {lam:g} (elicited {now_dep:g})"}
            cases.append((case, values.loglik - base_loglik, values, (None, None)))

    labels = outcome_labels(fc)
    rows = []
    for case, log_ratio, values, redo in cases:
        log_weights, khat = psis(log_ratio)
        method, khat_reweighted = "reweighted", khat
        weights, shape, ess = np.exp(log_weights), fit.shape, fit.ess_mean
        if khat > khat_max and fallback_draws > 0 and redo[0] is not None:
            # The fit's draws cannot carry this change: draw afresh from the changed prior
            # and weight by the changed news instead (its own k-hat decides trust again).
            news, priors = redo
            alt = importance_forecast(config, news, as_of=fc.as_of, seed=seed, n=fallback_draws,
                                      priors=priors)
            if alt.khat < khat:
                method, khat, values = "importance", alt.khat, alt.values
                weights, shape, ess = alt.weights, alt.fit.shape, alt.fit.ess_mean
        trusted = bool(khat <= khat_max)
        for outcome, draws in _per_draw(values, config).items():
            est = estimate(draws, weights, shape, mass,
                           ess=ess.get(_quantity(outcome)))
            rows.append({
                "parameter": case["parameter"],
                "kind": case["kind"],
                "label": case["label"],
                "end": case["end"],
                "setting": case["setting"],
                "outcome": outcome,
                "outcome_label": labels[outcome],
                "baseline": baseline[outcome],
                "p": est.mean if trusted else np.nan,
                "lower": est.lower if trusted else np.nan,
                "upper": est.upper if trusted else np.nan,
                "mcse": est.mcse if trusted else np.nan,
                "change_pp": 100 * (est.mean - baseline[outcome]) if trusted else np.nan,
                "p_untrusted": np.nan if trusted else est.mean,
                "khat": khat,
                "khat_reweighted": khat_reweighted,
                "method": method,
                "ess": est.ess,
                "trusted": trusted,
            })
    return pd.DataFrame(rows)


def _quantity(outcome: str) -> str:
    if outcome in ("all", "any"):
        return f"p_{outcome}"
    return quantity_name("p_keep", outcome)


def tornado_table(table: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One row per input for one outcome: the low and high ends side by side, by swing.

    Returns
    -------
    pandas.DataFrame
        ``parameter, label, kind, baseline, low_pp, high_pp, low_setting,
        high_setting, swing_pp, khat, trusted, method`` (of the two ends, e.g.
        ``reweighted/importance``), largest swing first; untrusted rows (either end) last.
    """
    sub = table[table["outcome"] == outcome]
    rows = []
    for parameter, group in sub.groupby("parameter", sort=False):
        ends = group.set_index("end")
        low, high = ends.loc["low"], ends.loc["high"]
        trusted = bool(low["trusted"] and high["trusted"])
        swing = abs(high["change_pp"] - low["change_pp"]) if trusted else np.nan
        rows.append({
            "parameter": parameter, "label": low["label"], "kind": low["kind"],
            "baseline": low["baseline"], "low_pp": low["change_pp"], "high_pp": high["change_pp"],
            "low_setting": low["setting"], "high_setting": high["setting"],
            "swing_pp": swing, "khat": max(low["khat"], high["khat"]), "trusted": trusted,
            "method": "/".join(dict.fromkeys((low["method"], high["method"]))),
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["trusted", "swing_pp"], ascending=[False, False],
                           na_position="last").reset_index(drop=True)
