"""News contributions: each news item's Shapley credit (order-free), as a waterfall from no news."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.engine import Forecast, reweight
from forecast.ledger import NewsItem, evidence_from
from forecast.tables import outcome_labels


def contributions(forecast: Forecast, items: Sequence[NewsItem], *,
                  credit: pd.DataFrame | None = None) -> pd.DataFrame:
    """The news credited by Shapley values (:mod:`forecast.attribution`), as a waterfall.

    Step 0 is the forecast with no news; then one step per item, grouped by
    thread (or by the variable it bears on), groups in order of the size of
    their credit, each step's move its Shapley credit. The steps add up exactly
    to the forecast given all the news, and no item's credit depends on its
    date or the order of recording (the date-ordered waterfall this replaces
    did: the same evidence got different credit when dates changed).

    Returns
    -------
    pandas.DataFrame
        One row per (step, outcome): ``step, item, date, headline, bears_on, group,
        group_label, outcome, label, before, after, change_pp, lower, upper, khat,
        trusted``. Step 0 has ``item="prior"``; its ``before`` equals its ``after``;
        ``lower``/``upper`` are given for step 0 and the last step. ``credit`` is
        :func:`forecast.attribution.shapley` of this forecast, when already computed.
    """
    from forecast.attribution import shapley

    config = forecast.config
    table = shapley(forecast, items) if credit is None else credit
    labels = outcome_labels(forecast)
    khat = forecast.khat
    trusted = bool(khat is None or khat <= config.model.fast_path.khat_max)
    shown = [o for o in config.headline_outcomes]
    none = reweight(config, forecast.fit, evidence_from(config, []), forecast.as_of)
    start = {k: e for k, e in none.probabilities().items()}
    final = forecast.probabilities()
    order: list[str] = []
    if not table.empty:
        size = table.assign(a=table["item_pp"].abs(), g=table["group_pp"].abs())
        groups = size.groupby("group")["g"].sum().sort_values(ascending=False).index
        for group in groups:
            members = size[size["group"] == group].groupby("item")["a"].sum()
            order += list(members.sort_values(ascending=False, kind="stable").index)
    rows = []
    running = {o: start[o].mean for o in shown}
    for o in shown:
        rows.append({"step": 0, "item": "prior", "date": None, "headline": "Before any news",
                     "bears_on": "", "group": "", "group_label": "", "outcome": o,
                     "label": labels[o], "before": running[o], "after": running[o],
                     "change_pp": 0.0, "lower": start[o].lower, "upper": start[o].upper,
                     "khat": khat, "trusted": trusted})
    by_item = table.set_index(["item", "outcome"]) if not table.empty else None
    for step, item_id in enumerate(order, start=1):
        for o in shown:
            r = by_item.loc[(item_id, o)]
            before = running[o]
            after = before + r["item_pp"] / 100
            last = step == len(order)
            rows.append({"step": step, "item": item_id, "date": r["date"],
                         "headline": r["headline"], "bears_on": r["bears_on"],
                         "group": r["group"], "group_label": r["group_label"], "outcome": o,
                         "label": labels[o], "before": before,
                         "after": final[o].mean if last else after,
                         "change_pp": r["item_pp"],
                         "lower": final[o].lower if last else np.nan,
                         "upper": final[o].upper if last else np.nan,
                         "khat": khat, "trusted": trusted})
            running[o] = after
    return pd.DataFrame(rows)
