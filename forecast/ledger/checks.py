"""An entry checked against its question and the entries before it.

One job: the rules a valid entry obeys beyond its own fields (:mod:`forecast.ledger.schema`):
an item bears on a variable or base of the question, has an id no entry has, is not
dated after today, and names a thread only where ``threads.yaml`` declares threads; a
retraction retracts an earlier item, once, no earlier than that item's date. Errors
are :class:`~forecast.errors.LedgerError` naming the entry and the field.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from forecast.errors import LedgerError
from forecast.ledger.schema import NewsItem, Retraction, entry_ids

if TYPE_CHECKING:
    from forecast.config import QuestionConfig


def check_item(
    config: QuestionConfig,
    item: NewsItem,
    existing: list[NewsItem] | set[str],
    *,
    today: dt.date | None = None,
    where: str = "item",
) -> None:
    """Check an item against the question and the items (or ids) already recorded.

    Raises
    ------
    LedgerError
        Naming the field: unknown ``bears_on``, duplicate ``id``, ``date`` after today.
    """
    today = today or dt.date.today()
    targets = config.variables + config.bases
    if item.bears_on not in targets:
        raise LedgerError(
            f"{where}: bears_on: unknown variable {item.bears_on!r}; "
            f"allowed: {', '.join(targets)}"
        )
    ids = existing if isinstance(existing, set) else entry_ids(existing)
    if item.id in ids:
        raise LedgerError(f"{where}: id: duplicate id {item.id!r}; it is already in the ledger")
    if item.date > today:
        raise LedgerError(f"{where}: date: {item.date} is after today ({today})")
    if item.thread is not None and config.threads is None:
        raise LedgerError(
            f"{where}: thread: {item.thread!r} needs {config.directory / 'threads.yaml'}, "
            "which declares the question's threads and the default_dependence of others")

def check_retraction(
    retraction: Retraction,
    existing: list[NewsItem],
    *,
    today: dt.date | None = None,
    where: str = "retraction",
    ids: set[str] | None = None,
    retractions: dict[str, Retraction] | None = None,
) -> NewsItem:
    """Check a retraction against the entries before it; return the item it retracts.

    ``existing`` are the items before it (carrying their retractions, as
    :func:`~forecast.ledger.load_ledger` returns them); ``ids`` and ``retractions`` (the
    earlier retractions by id) may be passed by a caller that keeps them as it reads.

    Raises
    ------
    LedgerError
        Naming the field: a duplicate ``id``; ``retracts`` naming no earlier item, naming
        a retraction, or an item already retracted; a ``date`` after today or before the
        date of the item it retracts.
    """
    today = today or dt.date.today()
    ids = entry_ids(existing) if ids is None else ids
    if retractions is None:
        retractions = {i.retraction.id: i.retraction for i in existing
                       if i.retraction is not None}
    if retraction.id in ids:
        raise LedgerError(f"{where}: id: duplicate id {retraction.id!r}; it is already in "
                          "the ledger")
    target = retraction.retracts
    if target in retractions:
        raise LedgerError(
            f"{where}: retracts: {target!r} is itself a retraction; a retraction cannot be "
            "retracted (if it was wrong, enter the report again as a new item, with its own "
            "id and date)")
    found = next((i for i in reversed(existing) if i.id == target), None)
    if found is None:
        import difflib

        close = difflib.get_close_matches(target, [i.id for i in existing], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise LedgerError(f"{where}: retracts: no earlier item has the id {target!r}{hint}; "
                          "a retraction names an item entered before it")
    if found.retraction is not None:
        r = found.retraction
        raise LedgerError(f"{where}: retracts: item {target!r} is already retracted, by "
                          f"{r.id!r} as of {r.date}; an item is retracted once")
    if retraction.date > today:
        raise LedgerError(f"{where}: date: {retraction.date} is after today ({today})")
    if retraction.date < found.date:
        raise LedgerError(f"{where}: date: {retraction.date} is before the date of the item "
                          f"it retracts ({target!r}, {found.date}); a report cannot be "
                          "withdrawn before it was made")
    return found
