"""Record news and see what it did: ``update``, ``retract`` and ``history``.

One job: the analyst-facing news workflow on top of :mod:`forecast.ledger`
(storage) and :mod:`forecast.engine` (computation). An update validates the item,
computes the forecast before it, appends it atomically, and computes the
forecast after it, by the fast path whenever the reweighting can be trusted. A
retraction does the same for a later entry that withdraws an earlier item: the
forecast after it is the forecast without the item's term.
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
    LedgerError,
    NewsItem,
    Retraction,
    append_item,
    append_retraction,
    check_item,
    check_retraction,
    evidence_from,
    item_credibility,
    item_loglr,
    items_as_of,
    ledger_at,
    load_ledger,
    parse_item,
    parse_retraction,
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
    """The package's one own logit, kept because ``forecast update`` is a fast path: importing
    ``scipy.special`` (used everywhere else) would add about 0.13 s to it."""
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


@dataclass(repr=False)
class RetractionResult(UpdateResult):
    """The forecast before and after a retraction; ``item`` is the item it withdrew."""

    retraction: Retraction | None = None

    def __repr__(self) -> str:
        moves = "; ".join(
            f"{r['outcome']} {fmt.pct(r['before'])} -> {fmt.pct(r['after'])} "
            f"({fmt.pp(r['change_pp'])})" for r in self.contribution_rows())
        return (f"<RetractionResult {self.retraction.id} retracts {self.item.id} "
                f"({self.after.path}): {moves}>")

    def _repr_html_(self) -> str:
        from html import escape

        r = self.retraction
        head = (f"<p><b>Retracted</b> {escape(self.item.id)} ({escape(self.item.headline)}) "
                f"as of {r.date}: {escape(r.reason)} ({escape(r.source)})</p>")
        return head + super()._repr_html_().split("</p>", 1)[1]

    def to_dict(self) -> dict[str, Any]:
        """``forecast run`` keys for the new forecast, plus ``before``, ``retraction`` and
        ``item`` (the item withdrawn, as entered)."""
        out = self.after.to_dict()
        out["before"] = self.before.to_dict()
        out["retraction"] = self.retraction.model_dump(mode="json", exclude_none=True)
        out["item"] = self.item.model_dump(mode="json", exclude_none=True)
        out["item"]["contribution"] = {
            row["outcome"]: {"pp": row["change_pp"], "logodds": row["change_logodds"]}
            for row in self.contribution_rows()
        }
        return out


def retract(
    question: str | Path | QuestionConfig,
    retraction: Retraction | dict[str, Any],
    *,
    out: str | Path = "out",
    today: dt.date | None = None,
    seed: int | None = None,
    progressbar: bool = False,
    where: str = "retraction",
    engine: str | None = None,
) -> RetractionResult:
    """Record a retraction of an earlier item and return the forecast before and after it.

    Both forecasts are as of today: a retraction dated in the past stops the item
    counting in the reconstruction from that date on, while forecasts already issued
    stay in the record as they were. The forecast after is computed by the same fast
    path as an update: the exact engine weights the draws it already has without the
    item's term, NUTS reweights the fit just used while its k-hat can be trusted.

    Raises
    ------
    forecast.ledger.LedgerError
        For an invalid retraction (no such earlier item, a retraction retracted, an item
        retracted twice, a date after today or before the item's): nothing is written.
    """
    config = _config(question)
    today = today or dt.date.today()
    if not isinstance(retraction, Retraction):
        retraction = parse_retraction(retraction, where=where)
    existing, raw = read_ledger(config, today=today)
    target = check_retraction(retraction, existing, today=today, where=where)
    before = compute(config, existing, out=out, as_of=today, seed=seed, progressbar=progressbar,
                     engine=engine)
    ledger = append_retraction(config, retraction, today=today, known=(existing, raw))
    after = compute(config, ledger, out=out, as_of=today, seed=seed, reweight_from=[before.fit],
                    progressbar=progressbar, engine=engine)
    withdrawn = next(i for i in ledger if i.id == target.id)
    return RetractionResult(item=withdrawn, before=before, after=after, ledger=ledger,
                            retraction=withdrawn.retraction)


def history(
    question: str | Path | QuestionConfig,
    *,
    out: str | Path = "out",
    seed: int | None = None,
    today: dt.date | None = None,
    progressbar: bool = False,
    engine: str | None = None,
) -> pd.DataFrame:
    """The reconstruction: the forecast after each ledger date, from the items counting then.

    Today's priors and model on the items dated by each day (and not retracted by
    then): not what was issued on the day (that is the record, :mod:`forecast.record`).
    Every point comes from the draws of one forecast of the whole ledger (the
    exact engine's prior draws, or the NUTS fit of the whole ledger) weighted
    exactly to the items counting then, so the history is the same on every run
    with the same seed whatever else is in the cache; a date whose weights are
    not trusted is computed on its own items. A retraction's date is a step of its
    own: from it the retracted item no longer counts.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (date, outcome) with ``p``, ``lower``, ``upper``,
        ``mcse``, ``n_items`` (the items counting), ``new_items``, ``path``, ``khat``,
        ``retracted`` (the items retracted that day, comma-separated) and ``layer``
        (``reconstruction``). The first date is ``None``: the prior, before any news.
    """
    import pandas as pd

    config = _config(question)
    items = load_ledger(config, today=today)
    full = compute(config, items, out=out, as_of=today, seed=seed, allow_reweight=False,
                   progressbar=progressbar, engine=engine)
    withdrawn = [i for i in items if i.retraction is not None]
    dates: list[dt.date | None] = [None, *sorted({i.date for i in items}
                                                 | {i.retraction.date for i in withdrawn})]
    rows = []
    for date in dates:
        known = [] if date is None else items_as_of(items, date)
        new = [] if date is None else sorted(i.id for i in items if i.date == date)
        gone = [] if date is None else sorted(i.id for i in withdrawn
                                              if i.retraction.date == date)
        as_of = date or config.question.created
        if sorted(i.id for i in known) == sorted(full.evidence.item_ids):
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
                    "retracted": ",".join(gone),
                    "layer": "reconstruction",
                }
            )
    return pd.DataFrame(rows)


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
    import itertools

    from forecast.attribution import MAX_GROUPS, group_of, shapley_values
    from forecast.engine import reweight
    from forecast.record import JOINT, _issued

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
