"""Record news and see what it did: ``update``, ``retract`` and ``history``.

One job: the analyst-facing news workflow on top of :mod:`forecast.ledger`
(storage) and :mod:`forecast.engine` (computation). An update validates the item,
computes the forecast before it, appends it atomically, and computes the
forecast after it, by the fast path whenever the reweighting can be trusted. A
retraction does the same for a later entry that withdraws an earlier item: the
forecast after it is the forecast without the item's term (what each did:
:mod:`forecast.news_result`). Who moved the forecast
between two issued forecasts is :mod:`forecast.diff_credit` (``diff_attribution`` is
importable from here too).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from forecast.config import QuestionConfig, load_question
from forecast.engine import Forecast, compute, reweight
from forecast.ledger import (
    NewsItem,
    Retraction,
    append_item,
    append_retraction,
    check_item,
    check_retraction,
    evidence_from,
    items_as_of,
    load_ledger,
    parse_item,
    parse_retraction,
    read_ledger,
)
from forecast.news_result import RetractionResult, UpdateResult

if TYPE_CHECKING:
    import pandas as pd


class Options(TypedDict, total=False):
    """How :func:`update`, :func:`retract` and :func:`history` compute their forecasts.

    ``out`` is where fits are stored (default ``"out"``); ``today`` the date entries may
    not be after and the forecasts are as of (default: the system date); ``seed`` the
    random seed (default: ``model.yaml``'s); ``progressbar`` whether NUTS shows one
    (default False); ``engine`` ``exact`` or ``nuts`` (default: ``engine.default`` of
    ``model.yaml``).
    """

    out: str | Path
    today: dt.date | None
    seed: int | None
    progressbar: bool
    engine: str | None


_DEFAULTS: Options = {"out": "out", "today": None, "seed": None, "progressbar": False,
                      "engine": None}


def _options(options: Options) -> tuple[dt.date | None, dict[str, Any]]:
    """The ``today`` of ``options`` and the keywords they give :func:`compute`, the
    defaults filled in; a name that is not an option is refused."""
    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {', '.join(unknown)}; the options "
                        f"are {', '.join(_DEFAULTS)}")
    how = {**_DEFAULTS, **options}
    return how.pop("today"), how


def _config(question: str | Path | QuestionConfig) -> QuestionConfig:
    return question if isinstance(question, QuestionConfig) else load_question(question)


def scratch_copy(config: QuestionConfig, directory: str | Path) -> QuestionConfig:
    """Copy a question (prior files and ledger) into ``directory`` to experiment safely.

    The copy has the same inputs, so stored fits of the original are reused; sampler
    overrides (:meth:`QuestionConfig.with_sampler`) carry over.
    """
    from forecast.config import LEDGER_FILE, OPTIONAL_FILES, QUESTION_FILES
    from forecast.files import atomic_dir, read_bytes

    names = [n for n in (*QUESTION_FILES, *OPTIONAL_FILES, LEDGER_FILE)
             if (config.directory / n).exists()]
    target = atomic_dir(Path(directory) / config.id,
                        {n: read_bytes(config.directory / n, limit=None) for n in names})
    copy = load_question(target).with_sampler(**config.model.sampler.model_dump())
    return copy.with_prior_source(config.prior_source)


def update(
    question: str | Path | QuestionConfig,
    item: NewsItem | dict[str, Any],
    *,
    where: str = "item",
    **options: Unpack[Options],
) -> UpdateResult:
    """Record a news item and return the forecast before and after it.

    Parameters
    ----------
    question
        A question directory (or its loaded config).
    item
        A :class:`~forecast.ledger.NewsItem` or a mapping of its fields.
    where
        How errors name the item (e.g. the file it was read from).
    **options
        ``out``, ``today``, ``seed``, ``progressbar``, ``engine`` (:class:`Options`).

    Raises
    ------
    forecast.ledger.LedgerError
        For an invalid item (unknown variable, duplicate id, future date,
        ratio <= 0, malformed code): nothing is written.
    """
    config = _config(question)
    if not isinstance(item, NewsItem):
        item = parse_item(item, where=where)

    def check(existing: list[NewsItem], today: dt.date) -> NewsItem:
        check_item(config, item, existing, today=today, where=where)
        return item

    _, before, after, ledger = _record(config, item, check, append_item, *_options(options))
    return UpdateResult(item=ledger[-1], before=before, after=after, ledger=ledger)


def _record(config: QuestionConfig, entry: NewsItem | Retraction, check, append,
            today: dt.date | None, how: dict[str, Any]
            ) -> tuple[NewsItem, Forecast, Forecast, list[NewsItem]]:
    """Check an entry, compute the forecast before it, append it, and compute the one after.

    Returns what ``check`` returns (the item the entry is or retracts), the two forecasts
    and the ledger after the entry. The forecast after reweights the fit just used
    whenever it can be trusted (the fast path).
    """
    today = today or dt.date.today()
    existing, raw = read_ledger(config, today=today)
    found = check(existing, today)
    before = compute(config, existing, as_of=today, **how)
    ledger = append(config, entry, today=today, known=(existing, raw))
    after = compute(config, ledger, as_of=today, reweight_from=[before.fit], **how)
    return found, before, after, ledger


def retract(
    question: str | Path | QuestionConfig,
    retraction: Retraction | dict[str, Any],
    *,
    where: str = "retraction",
    **options: Unpack[Options],
) -> RetractionResult:
    """Record a retraction of an earlier item and return the forecast before and after it.

    Both forecasts are as of today: a retraction dated in the past stops the item
    counting in the reconstruction from that date on, while forecasts already issued
    stay in the record as they were. The forecast after is computed by the same fast
    path as an update: the exact engine weights the draws it already has without the
    item's term, NUTS reweights the fit just used while its k-hat can be trusted.
    ``where`` and ``options`` are as for :func:`update`.

    Raises
    ------
    forecast.ledger.LedgerError
        For an invalid retraction (no such earlier item, a retraction retracted, an item
        retracted twice, a date after today or before the item's): nothing is written.
    """
    config = _config(question)
    if not isinstance(retraction, Retraction):
        retraction = parse_retraction(retraction, where=where)

    def check(existing: list[NewsItem], today: dt.date) -> NewsItem:
        return check_retraction(retraction, existing, today=today, where=where)

    target, before, after, ledger = _record(config, retraction, check, append_retraction,
                                            *_options(options))
    withdrawn = next(i for i in ledger if i.id == target.id)
    return RetractionResult(item=withdrawn, before=before, after=after, ledger=ledger,
                            retraction=withdrawn.retraction)


def history(
    question: str | Path | QuestionConfig, **options: Unpack[Options]
) -> pd.DataFrame:
    """The reconstruction: the forecast after each ledger date, from the items counting then.

    Today's priors and model on the items dated by each day (and not retracted by
    then): not what was issued on the day (that is the record, :mod:`forecast.record`).
    Every point comes from the draws of one forecast of the whole ledger (the
    exact engine's prior draws, or the NUTS fit of the whole ledger) weighted
    exactly to the items counting then, so the history is the same on every run
    with the same seed whatever else is in the cache; a date whose weights are
    not trusted is computed on its own items. A retraction's date is a step of its
    own: from it the retracted item no longer counts. ``options`` are as for
    :func:`update` (:class:`Options`); ``today`` None reads the whole ledger, as of the
    system date.

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
    today, how = _options(options)
    items = load_ledger(config, today=today)
    full = compute(config, items, as_of=today, allow_reweight=False, **how)
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
                fc = compute(config, known, as_of=as_of, allow_reweight=False, **how)
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


def __getattr__(name: str) -> Any:
    """``diff_attribution``, imported only when asked for: it needs pandas, which
    ``forecast update`` (a fast path) never loads."""
    if name == "diff_attribution":
        from forecast.diff_credit import diff_attribution

        return diff_attribution
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
