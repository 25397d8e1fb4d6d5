"""Record news and see what it did: ``update`` and ``history``.

One job: the analyst-facing news workflow on top of :mod:`forecast.ledger`
(storage) and :mod:`forecast.engine` (computation). An update validates the item,
computes the forecast before it, appends it atomically, and computes the
forecast after it, by the fast path whenever the reweighting can be trusted.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast import fmt
from forecast.config import QuestionConfig, load_question
from forecast.engine import Forecast, compute, reweight
from forecast.ledger import (
    NewsItem,
    append_item,
    check_item,
    evidence_from,
    item_credibility,
    item_loglr,
    load_ledger,
    parse_item,
    read_ledger,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass(repr=False)
class UpdateResult:
    """The forecast before and after one news item, and the item's own contribution."""

    item: NewsItem
    before: Forecast
    after: Forecast
    ledger: list[NewsItem] = field(default_factory=list)  # the ledger after the item

    def __repr__(self) -> str:
        moves = "; ".join(
            f"{r['outcome']} {fmt.pct(r['before'])} -> {fmt.pct(r['after'])} "
            f"({fmt.pp(r['change_pp'])})" for r in self.contribution_rows())
        return f"<UpdateResult {self.item.id} ({self.after.path}): {moves}>"

    def _repr_html_(self) -> str:
        from html import escape

        names = {o.id: o.name for o in self.after.config.question.outcomes}
        names.update(all=self.after.config.wording.all, any=self.after.config.wording.any)
        rows = "".join(
            f"<tr><td>{escape(names[r['outcome']])}</td><td>{fmt.pct(r['before'])}</td>"
            f"<td>{fmt.pct(r['after'])}</td><td>{fmt.pp(r['change_pp'])}</td>"
            f"<td>{fmt.interval(r['after_lower'], r['after_upper'])}</td></tr>"
            for r in self.contribution_rows())
        item = self.item
        return (f"<p><b>{escape(item.headline)}</b> ({item.date}, {escape(item.source)}, "
                f"{item.reliability}, bears on {escape(item.bears_on)}) · path: "
                f"{escape(self.after.path)}</p><table><tr><th></th><th>before</th>"
                f"<th>after</th><th>change</th><th>interval after</th></tr>{rows}</table>")

    def contributions(self) -> pd.DataFrame:
        """Per base and joint outcome: before, after, change in points and in log-odds."""
        import pandas as pd

        return pd.DataFrame(self.contribution_rows())

    def contribution_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`contributions` (no pandas: the CLI's fast path uses these)."""
        rows = []
        b, a = self.before.probabilities(), self.after.probabilities()
        for key in self.after.config.headline_outcomes:
            rows.append(
                {
                    "outcome": key,
                    "before": b[key].mean,
                    "after": a[key].mean,
                    "change_pp": 100 * (a[key].mean - b[key].mean),
                    "change_logodds": _logit(a[key].mean) - _logit(b[key].mean),
                    "after_lower": a[key].lower,
                    "after_upper": a[key].upper,
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """``forecast run`` keys for the new forecast, plus ``before`` and ``item``."""
        out = self.after.to_dict()
        out["before"] = self.before.to_dict()
        cfg = self.after.config
        item = self.item.model_dump(mode="json", exclude_none=True)
        item["credibility"] = item_credibility(cfg, self.item.reliability)
        item["effective_log_lr"] = self.after.evidence.entered.get(self.item.id, 0.0)
        item["alone_log_lr"] = item_loglr(cfg, self.item)
        item["counted"] = self.item.id in self.after.evidence.counted
        item["contribution"] = {
            row["outcome"]: {"pp": row["change_pp"], "logodds": row["change_logodds"]}
            for row in self.contribution_rows()
        }
        out["item"] = item
        return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _config(question: str | Path | QuestionConfig) -> QuestionConfig:
    return question if isinstance(question, QuestionConfig) else load_question(question)


def scratch_copy(config: QuestionConfig, directory: str | Path) -> QuestionConfig:
    """Copy a question (prior files and ledger) into ``directory`` to experiment safely.

    The copy has the same inputs, so stored fits of the original are reused; sampler
    overrides (:meth:`QuestionConfig.with_sampler`) carry over.
    """
    import shutil

    from forecast.config import LEDGER_FILE, OPTIONAL_FILES, QUESTION_FILES

    target = Path(directory) / config.id
    target.mkdir(parents=True, exist_ok=False)
    for name in (*QUESTION_FILES, *OPTIONAL_FILES, LEDGER_FILE):
        if (config.directory / name).exists():
            shutil.copy2(config.directory / name, target / name)
    copy = load_question(target).with_sampler(**config.model.sampler.model_dump())
    return copy.with_prior_source(config.prior_source)


def update(
    question: str | Path | QuestionConfig,
    item: NewsItem | dict[str, Any],
    *,
    out: str | Path = "out",
    today: dt.date | None = None,
    seed: int | None = None,
    progressbar: bool = False,
    where: str = "item",
    engine: str | None = None,
) -> UpdateResult:
    """Record a news item and return the forecast before and after it.

    Parameters
    ----------
    question
        A question directory (or its loaded config).
    item
        A :class:`~forecast.ledger.NewsItem` or a mapping of its fields.
    out
        Where fits are stored.
    today
        The date the item may not be after (default: the system date).
    where
        How errors name the item (e.g. the file it was read from).
    engine
        ``exact`` or ``nuts`` (default: ``engine.default`` of ``model.yaml``).

    Raises
    ------
    forecast.ledger.LedgerError
        For an invalid item (unknown variable, duplicate id, future date,
        ratio <= 0, malformed code): nothing is written.
    """
    config = _config(question)
    today = today or dt.date.today()
    if not isinstance(item, NewsItem):
        item = parse_item(item, where=where)
    existing, raw = read_ledger(config, today=today)
    check_item(config, item, existing, today=today, where=where)
    before = compute(config, existing, out=out, as_of=today, seed=seed, progressbar=progressbar,
                     engine=engine)
    ledger = append_item(config, item, today=today, known=(existing, raw))
    reuse = [before.fit]  # the fit just used is the natural base for the fast path
    after = compute(config, ledger, out=out, as_of=today, seed=seed, reweight_from=reuse,
                    progressbar=progressbar, engine=engine)
    return UpdateResult(item=ledger[-1], before=before, after=after, ledger=ledger)


def history(
    question: str | Path | QuestionConfig,
    *,
    out: str | Path = "out",
    seed: int | None = None,
    today: dt.date | None = None,
    progressbar: bool = False,
    engine: str | None = None,
) -> pd.DataFrame:
    """The forecast as it stood after each ledger date, from the items known by then.

    Every point comes from the draws of one forecast of the whole ledger (the
    exact engine's prior draws, or the NUTS fit of the whole ledger) weighted
    exactly to the items known then, so the history is the same on every run
    with the same seed whatever else is in the cache; a date whose weights are
    not trusted is computed on its own items.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (date, outcome) with ``p``, ``lower``, ``upper``,
        ``mcse``, ``n_items``, ``new_items`` and ``path``. The first date is
        ``None``: the prior, before any news.
    """
    import pandas as pd

    config = _config(question)
    items = load_ledger(config, today=today)
    full = compute(config, items, out=out, as_of=today, seed=seed, allow_reweight=False,
                   progressbar=progressbar, engine=engine)
    dates: list[dt.date | None] = [None, *sorted({i.date for i in items})]
    rows = []
    for date in dates:
        known = [] if date is None else [i for i in items if i.date <= date]
        new = [] if date is None else sorted(i.id for i in items if i.date == date)
        as_of = date or config.question.created
        if len(known) == len(items):
            fc = full
        else:
            fc = reweight(config, full.fit, evidence_from(config, known), as_of)
            if full.engine == "exact":
                fc.path = "exact"  # the same prior draws, weighted to these items
            if fc.khat > config.model.fast_path.khat_max:
                fc = compute(config, known, out=out, as_of=as_of, seed=seed,
                             allow_reweight=False, progressbar=progressbar, engine=engine)
        for outcome, est in fc.probabilities().items():
            if outcome not in config.headline_outcomes:
                continue
            rows.append(
                {
                    "date": date,
                    "outcome": outcome,
                    "p": est.mean,
                    "lower": est.lower,
                    "upper": est.upper,
                    "mcse": est.mcse,
                    "n_items": len(known),
                    "new_items": ",".join(new),
                    "path": fc.path,
                    "khat": fc.khat,
                }
            )
    return pd.DataFrame(rows)
