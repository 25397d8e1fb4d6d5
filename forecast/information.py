"""What a report you could still obtain would do: the value of a pending report.

One job: for a report the analyst could get (what it bears on, its Admiralty
code, its ratio), the forecast if it arrives, if its opposite arrives (the
reciprocal ratio), and whether either would change the briefed estimative word;
and, for each variable or base, the weakest report of a given credibility that
would change a word. Every number is the forecast's own draws weighted exactly
to the ledger plus the hypothetical item (:func:`forecast.engine.reweight`), so
nothing is recorded and nothing is sampled.

Examples
--------
>>> table = pending_report(forecast, items, bears_on="basing_agreement",
...                        reliability="B2", lr=5.0)          # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from forecast import fmt
from forecast.engine import Forecast, fewer_draws, reweight
from forecast.ledger import LRInterval, NewsItem, check_item, evidence_from, items_as_of, parse_item
from forecast.tables import outcome_labels

#: The ratios tried by :func:`word_movers`, from weak to decisive, each way.
RATIOS = (1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)


def _hypothetical(forecast: Forecast, items: Sequence[NewsItem], raw: dict[str, Any]
                  ) -> NewsItem:
    item = parse_item({"id": "pending-report", "date": forecast.as_of.isoformat(),
                       "headline": "a pending report", "source": "pending", **raw},
                      where="pending report")
    check_item(forecast.config, item, {i.id for i in items}, today=dt.date.max,
               where="pending report")
    return item


def _opposite(lr: float | LRInterval) -> float | dict[str, float]:
    if isinstance(lr, LRInterval):
        return {"lower": 1.0 / lr.upper, "upper": 1.0 / lr.lower}
    return 1.0 / lr


def _rows(forecast, fc, scenario, base):
    labels = outcome_labels(forecast)
    out = []
    for key, est in fc.probabilities().items():
        if key not in forecast.config.headline_outcomes:
            continue
        word = fmt.estimative_word(est.mean)
        out.append({"scenario": scenario, "outcome": key, "label": labels[key],
                    "p": est.mean, "lower": est.lower, "upper": est.upper,
                    "change_pp": 100 * (est.mean - base[key][0]), "word": word,
                    "word_changes": word != base[key][1], "khat": fc.khat})
    return out


def pending_report(forecast: Forecast, items: Sequence[NewsItem], *, bears_on: str,
                   reliability: str, lr: float | dict[str, float],
                   thread: str | None = None) -> pd.DataFrame:
    """The forecast now, if a pending report arrives, and if its opposite arrives.

    Parameters
    ----------
    forecast, items
        The forecast and its ledger.
    bears_on, reliability, lr, thread
        The report as it would be recorded (``lr`` as in ``news.yaml``); its
        opposite has the reciprocal ratio (an interval's ends swapped and inverted).

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, outcome): ``scenario`` (``now``, ``if it arrives``,
        ``if its opposite arrives``), ``outcome, label, p, lower, upper, change_pp,
        word, word_changes, khat``.
    """
    known = items_as_of(list(items), forecast.as_of)
    raw = {"bears_on": bears_on, "reliability": reliability, "lr": lr}
    if thread:
        raw["thread"] = thread
    item = _hypothetical(forecast, known, raw)
    config = forecast.config
    base = {k: (e.mean, fmt.estimative_word(e.mean)) for k, e in forecast.probabilities().items()}
    rows = _rows(forecast, forecast, "now", base)
    for scenario, it in (("if it arrives", item),
                         ("if its opposite arrives",
                          item.model_copy(update={"lr": parse_item(
                              {**item.to_yaml_dict(), "lr": _opposite(item.lr)}).lr}))):
        fc = reweight(config, forecast.fit, evidence_from(config, [*known, it]), forecast.as_of)
        rows += _rows(forecast, fc, scenario, base)
    return pd.DataFrame(rows)


def word_movers(forecast: Forecast, items: Sequence[NewsItem], *, reliability: str = "B2",
                ratios: Sequence[float] = RATIOS, draws: int = 8_000) -> pd.DataFrame:
    """For each target, the weakest report of this credibility that changes a briefed word.

    Each evidence variable and base is tried with a report of ratio ``r`` and of
    ratio ``1 / r`` for each ``r`` in ``ratios`` (weakest first); the first that
    changes the estimative word of a base is kept. An exact-engine forecast with
    more draws is recomputed on ``draws`` of them first (about a hundred
    reweightings; a word boundary within a Monte Carlo error of the forecast can
    flip either way, so read a move at the weakest ratio with care).

    Returns
    -------
    pandas.DataFrame
        One row per (target, direction, outcome) that some ratio moves: ``target,
        target_label, direction`` (``for``/``against``), ``lr``, ``outcome, label,
        p_now, p, word_now, word``.
    """
    config = forecast.config
    known = items_as_of(list(items), forecast.as_of)
    forecast = fewer_draws(forecast, known, draws)
    now = forecast.probabilities()
    labels = outcome_labels(forecast)
    names = {v.id: v.label for v in config.evidence.variables}
    names.update({o.id: f"news on {o.name} itself" for o in config.question.outcomes})
    rows = []
    for target in [*config.variables, *config.bases]:
        for direction in ("for", "against"):
            for r in ratios:
                lr = r if direction == "for" else 1.0 / r
                item = _hypothetical(forecast, known, {"bears_on": target,
                                                       "reliability": reliability, "lr": lr})
                fc = reweight(config, forecast.fit, evidence_from(config, [*known, item]),
                              forecast.as_of)
                moved = [(b, e) for b, e in fc.probabilities().items() if b in config.bases
                         and fmt.estimative_word(e.mean) != fmt.estimative_word(now[b].mean)]
                if moved:
                    for b, e in moved:
                        rows.append({"target": target, "target_label": names[target],
                                     "direction": direction, "lr": lr, "outcome": b,
                                     "label": labels[b], "p_now": now[b].mean, "p": e.mean,
                                     "word_now": fmt.estimative_word(now[b].mean),
                                     "word": fmt.estimative_word(e.mean)})
                    break
    return pd.DataFrame(rows, columns=["target", "target_label", "direction", "lr", "outcome",
                                       "label", "p_now", "p", "word_now", "word"])
