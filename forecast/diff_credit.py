"""Who moved the forecast between two issued forecasts: Shapley credit of the news.

One job: ``forecast diff``'s attribution. The ledger as each issued forecast saw it is
rebuilt from today's ledger by the entries' ``recorded`` stamps; the news that changed
between them (items that arrived, items withdrawn) are the players of a Shapley game
whose value is the forecast under today's priors and model, every set weighted exactly
on the draws of one forecast. What the news cannot explain (changed priors, code,
Monte Carlo error) is reported beside it, not split.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from forecast.attribution import MAX_GROUPS, group_of, shapley_values
from forecast.config import QuestionConfig
from forecast.engine import compute, reweight
from forecast.ledger import LedgerError, NewsItem, evidence_from, items_as_of, ledger_at
from forecast.record import JOINT, _issued


def diff_attribution(
    config: QuestionConfig,
    items: list[NewsItem],
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    out: str | Path = "out",
    seed: int | None = None,
    engine: str | None = None,
) -> dict[str, Any]:
    """Who moved the forecast between two issued forecasts (record entries): Shapley credit.

    The ledger as each forecast saw it is rebuilt from today's ledger ``items`` by the
    entries' ``recorded`` stamps (:func:`forecast.ledger.ledger_at`) and their as-of
    dates. The players are the news that changed between them: the items counting in
    the later forecast and not in the earlier, grouped as
    :func:`forecast.attribution.shapley` groups them (a thread, else the variable or
    base), and each item withdrawn (retracted) between them. The value of a set of
    players is P(keep) under **today's** priors and model given the earlier forecast's
    items changed by those players, every set weighted exactly on the draws of one
    forecast; each player's Shapley value is its average marginal move over every
    order (Shapley, 1953), and within a group the credit is split by each item's share
    of the group's entered log ratio. The credits add up exactly to ``news_pp``, the
    move the news made under today's model; ``other_pp`` is the rest of the issued
    change (changed priors, code or package versions, and Monte Carlo error), which
    news credit cannot split.

    Returns
    -------
    dict
        ``players`` (one per group or withdrawn item: ``player``, ``items``,
        ``pp`` per outcome), ``items`` (one per item: ``id``, ``change``
        (``arrived`` or ``retracted``), ``player``, ``pp`` per outcome), ``news_pp``,
        ``issued_pp`` and ``other_pp`` per outcome, ``seen`` (how many items today's
        ledger says each forecast counted, beside what each recorded) and ``model``
        (what the credits are computed under).
    """
    before = items_as_of(ledger_at(items, _issued(old)), dt.date.fromisoformat(old["as_of"]))
    later = ledger_at(items, _issued(new))
    as_of = dt.date.fromisoformat(new["as_of"])
    after = items_as_of(later, as_of)
    was, now = {i.id: i for i in before}, {i.id: i for i in after}
    arrived = [now[k] for k in sorted(set(now) - set(was))]
    gone = [was[k] for k in sorted(set(was) - set(now))]
    players: dict[str, list[NewsItem]] = {}
    for item in arrived:
        players.setdefault(group_of(item), []).append(item)
    for item in gone:
        players[f"retraction:{item.id}"] = [item]
    names = sorted(players)
    if len(names) > MAX_GROUPS:
        raise LedgerError(f"{len(names)} groups of news changed between the two forecasts: "
                          f"Shapley credit enumerates 2**{len(names)} sets (at most "
                          f"{MAX_GROUPS}); diff forecasts closer in time")
    fc = compute(config, later, out=out, as_of=as_of, seed=seed, engine=engine)
    keys = {b: b for b in config.bases} | {JOINT[k]: k for k in ("both", "either")}
    shown = [k for k in config.headline_outcomes if k in keys]

    def value(subset: frozenset) -> dict[str, float]:
        chosen = [players[names[j]] for j in subset]
        add = {i.id for group in chosen for i in group if i.id in now}
        drop = {i.id for group in chosen for i in group if i.id not in now}
        known = [i for i in before if i.id not in drop] + [now[k] for k in sorted(add)]
        probs = reweight(config, fc.fit, evidence_from(config, known), as_of).probabilities()
        return {k: probs[k].mean for k in shown}

    g = len(names)
    values = {frozenset(s): value(frozenset(s)) for r in range(g + 1)
              for s in itertools.combinations(range(g), r)}
    credit = shapley_values(values, names, shown)
    entered = evidence_from(config, after).entered
    rows = []
    for name in names:
        members = players[name]
        size = {i.id: abs(entered.get(i.id, 0.0)) for i in members}
        total = sum(size.values())
        for item in members:
            share = size[item.id] / total if total > 0 else 1.0 / len(members)
            rows.append({"id": item.id, "change": "arrived" if item.id in now else "retracted",
                         "player": name, "date": item.date.isoformat(),
                         "headline": item.headline, "bears_on": item.bears_on,
                         "pp": {k: 100 * credit[name][k] * share for k in shown}})
    full, empty = values[frozenset(range(g))], values[frozenset()]
    recorded = {k: (new[group][key]["p"] - old[group][key]["p"])
                for k, (group, key) in {**{b: ("bases", b) for b in config.bases},
                                        "all": ("joint", "both"),
                                        "any": ("joint", "either")}.items()
                if key in old[group] and key in new[group] and k in shown}
    news = {k: 100 * (full[k] - empty[k]) for k in shown}
    return {
        "model": (f"today's priors and model ({fc.engine} engine, as of {as_of}); the "
                  "credits add up to news_pp"),
        "players": [{"player": name, "items": [i.id for i in players[name]],
                     "pp": {k: 100 * credit[name][k] for k in shown}} for name in names],
        "items": rows,
        "news_pp": news,
        "issued_pp": {k: 100 * v for k, v in recorded.items()},
        "other_pp": {k: 100 * v - news[k] for k, v in recorded.items()},
        "seen": {"from": [len(before), old["ledger"]["items"]],
                 "to": [len(after), new["ledger"]["items"]]},
    }
