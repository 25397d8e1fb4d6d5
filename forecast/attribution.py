"""Who moved the forecast: news credit by Shapley values, free of the items' order.

One job: split the change from the no-news forecast to the forecast given all
the news among the news, so that the credits sum exactly to the total change
and do not depend on the order (or dates) in which items were recorded.

The players are the groups of dependent reports: a thread (``thread`` on the
item, one storyline whose reports are combined as such, see
:mod:`forecast.ledger`) or, for items outside any thread, the variable or base
they bear on. The value of a set of groups is P(keep) given only their items;
each group's Shapley value (Shapley, 1953) is its average marginal
contribution over every order of the groups::

    phi_g = sum_{S without g} |S|! (G - |S| - 1)! / G! * (v(S + g) - v(S))

Within a group the credit is split by each counted item's share of the group's
entered log likelihood ratio magnitude (a repeat of one origin, not counted,
gets none). A date-ordered waterfall (the rule this replaces) credited the
same item differently when it arrived earlier or later.

Every value is computed on the forecast's own draws, weighted exactly by the
coalition's likelihood (see :func:`shapley`), and the credits add up exactly to
the move from no news to the forecast itself.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.engine import Forecast, reweight
from forecast.exact import enumerate_states, log_likelihood
from forecast.ledger import NewsItem, evidence_from, items_as_of
from forecast.tables import outcome_labels

#: Above this many groups the 2**G coalitions are too many to enumerate.
MAX_GROUPS = 14


def group_of(item: NewsItem) -> str:
    """The player an item belongs to: its thread, else the variable or base it bears on."""
    thread = getattr(item, "thread", None)
    return f"thread:{thread}" if thread else f"variable:{item.bears_on}"


def group_label(config, group: str) -> str:
    """A readable name of a group (``thread:basing-negotiation`` -> its description)."""
    kind, _, name = group.partition(":")
    if kind == "thread":
        threads = getattr(config, "threads", None)
        spec = threads.get(name) if threads is not None else None
        return spec.label if spec is not None and getattr(spec, "label", None) else name
    names = {o.id: o.name for o in config.question.outcomes}
    names.update({v.id: v.label for v in config.evidence.variables})
    return f"news on {names.get(name, name)}"


def shapley(forecast: Forecast, items: Sequence[NewsItem], *, draws: int = 2_000
            ) -> pd.DataFrame:
    """Each group's and each item's Shapley credit for the move from no news, per outcome.

    The ``2**G`` coalitions are evaluated on the first ``draws`` of the forecast's
    draws (each coalition's news added group by group, every group's per-draw log
    ratios computed once), weighted exactly by the coalition's likelihood; the
    Monte Carlo residual against the full draws' total move is then shared out in
    proportion to the credits' sizes, so the credits sum exactly to the
    forecast's move from no news.

    Returns
    -------
    pandas.DataFrame
        One row per (item, outcome): ``group, group_label, item, date, headline,
        bears_on, outcome, label, group_pp, item_pp, share, no_news, with_news``.
        ``item_pp`` sums over items (and ``group_pp`` over groups) exactly to
        ``100 * (with_news - no_news)``.

    Examples
    --------
    >>> table = shapley(forecast, items)                        # doctest: +SKIP
    >>> table.groupby("outcome")["item_pp"].sum()               # doctest: +SKIP
    """
    config = forecast.config
    known = items_as_of(list(items), forecast.as_of)
    groups: dict[str, list[NewsItem]] = {}
    for item in sorted(known, key=lambda i: i.id):
        groups.setdefault(group_of(item), []).append(item)
    names = sorted(groups)
    g = len(names)
    if g > MAX_GROUPS:
        raise ValueError(f"{g} groups of news: Shapley credit enumerates 2**{g} sets; "
                         f"group the items into threads (at most {MAX_GROUPS} groups)")
    shown = config.headline_outcomes
    fit = forecast.fit
    n = fit.params.n
    m = min(n, int(draws))
    params = fit.params.take(slice(0, m))
    base = log_likelihood(params, fit.state_loglr, fit.outcome_loglr)
    parts = []
    for name in names:
        u, v = evidence_from(config, groups[name]).per_draw(n)
        parts.append((np.asarray(u)[:m], np.asarray(v)[:m]))
    value: dict[frozenset, dict[str, float]] = {}
    for r in range(g + 1):
        for subset in itertools.combinations(range(g), r):
            u = sum((parts[j][0] for j in subset), np.zeros((m, len(config.variables))))
            v = sum((parts[j][1] for j in subset), np.zeros((m, len(config.bases))))
            value[frozenset(subset)] = _weighted(config, params, u, v, base)
    credit = shapley_values(value, names, shown)
    none = reweight(config, fit, evidence_from(config, []), forecast.as_of).probabilities()
    full = forecast.probabilities()
    for outcome in shown:  # share the Monte Carlo residual: the credits add up exactly
        residual = (full[outcome].mean - none[outcome].mean) - sum(
            credit[name][outcome] for name in names)
        sizes = np.array([abs(credit[name][outcome]) for name in names])
        share = sizes / sizes.sum() if sizes.sum() > 0 else np.full(g, 1.0 / max(g, 1))
        for name, f in zip(names, share, strict=True):
            credit[name][outcome] += residual * f
    evidence = evidence_from(config, known)
    labels = outcome_labels(forecast)
    rows = []
    for name in names:
        members = groups[name]
        size = {i.id: abs(evidence.entered[i.id]) for i in members}
        total = sum(size.values())
        for item in members:
            share = size[item.id] / total if total > 0 else 1.0 / len(members)
            for outcome in shown:
                rows.append({
                    "group": name, "group_label": group_label(config, name),
                    "item": item.id, "date": item.date, "headline": item.headline,
                    "bears_on": item.bears_on, "outcome": outcome, "label": labels[outcome],
                    "group_pp": 100 * credit[name][outcome],
                    "item_pp": 100 * credit[name][outcome] * share, "share": share,
                    "no_news": none[outcome].mean, "with_news": full[outcome].mean,
                })
    columns = ["group", "group_label", "item", "date", "headline", "bears_on", "outcome",
               "label", "group_pp", "item_pp", "share", "no_news", "with_news"]
    return pd.DataFrame(rows, columns=columns)


def _weighted(config, params, u, v, base) -> dict[str, float]:
    """P(keep), both and either under news ``(u, v)``: draws weighted by the likelihood ratio."""
    values = enumerate_states(params, u, v)
    lw = values.loglik - base
    w = np.exp(lw - lw.max())
    w /= w.sum()
    out = {b: float(w @ values.p_keep[:, i]) for i, b in enumerate(config.bases)}
    out.update(all=float(w @ values.p_all), any=float(w @ values.p_any))
    return out


def group_credits(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (group, outcome) of :func:`shapley`, largest moves first."""
    if table.empty:
        return table.loc[:, ["group", "group_label", "outcome", "label", "group_pp"]]
    out = (table.drop_duplicates(["group", "outcome"])
           .loc[:, ["group", "group_label", "outcome", "label", "group_pp"]]
           .assign(n_items=lambda t: t["group"].map(table.drop_duplicates("item")
                                                     .groupby("group").size())))
    order = out.assign(size=np.abs(out["group_pp"])).sort_values(
        ["outcome", "size"], ascending=[True, False])
    return order.drop(columns="size").reset_index(drop=True)


def shapley_values(value: dict[frozenset, dict[str, float]], names: list[str],
                   shown: list[str]) -> dict[str, dict[str, float]]:
    """Shapley's credit of each player from the value of every coalition (Shapley 1953).

    ``value[frozenset(js)][k]``: outcome ``k`` with the players of index ``js`` present;
    player ``j``'s credit is the weighted mean of ``value[S | {j}] - value[S]`` over the
    coalitions ``S`` without it, the weight ``|S|! (g - |S| - 1)! / g!``.
    """
    g = len(names)
    credit = {name: dict.fromkeys(shown, 0.0) for name in names}
    for j, name in enumerate(names):
        others = [k for k in range(g) if k != j]
        for r in range(g):
            w = math.factorial(r) * math.factorial(g - r - 1) / math.factorial(g)
            for subset in itertools.combinations(others, r):
                s = frozenset(subset)
                for outcome in shown:
                    credit[name][outcome] += w * (value[s | {j}][outcome] - value[s][outcome])
    return credit
