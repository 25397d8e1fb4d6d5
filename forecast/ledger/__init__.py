"""The news ledger: dated news items, how much each one weighs, and safe appends.

A package of one job each, lower first (each imports only those before it):

- :mod:`~forecast.ledger.schema`: what an entry may say (news items, retractions, the
  file), validated with errors naming the field;
- :mod:`~forecast.ledger.weighing`: what one item weighs (credibility ``h * LR + 1 - h``,
  an interval's geometric midpoint and spread, a thread's Kish increments);
- :mod:`~forecast.ledger.checks`: an entry checked against its question and the entries
  before it;
- :mod:`~forecast.ledger.layout`: the file's text, and the bytes of a safe append;
- :mod:`~forecast.ledger.evidence`: the ledger reduced to :class:`Evidence` (clusters
  counted once, threads by Kish's design effect, retractions), and the items counting
  on a date;
- :mod:`~forecast.ledger.storage`: reading the file, and atomic appends under a lock.

Every name is re-exported here, so ``from forecast.ledger import load_ledger`` works
whichever module holds it.
"""

from forecast.errors import LedgerError, LockedError
from forecast.ledger.checks import check_item, check_retraction
from forecast.ledger.evidence import (
    Evidence,
    Terms,
    evidence_from,
    items_as_of,
    ledger_at,
    retracted_as_of,
)
from forecast.ledger.layout import empty_ledger_text
from forecast.ledger.schema import (
    LR_BOUNDS,
    Entry,
    Ledger,
    LRInterval,
    NewsItem,
    Retraction,
    entry_ids,
    ledger_entries,
    parse_item,
    parse_retraction,
)
from forecast.ledger.storage import (
    LOCK_TIMEOUT,
    append_item,
    append_retraction,
    ledger_path,
    load_ledger,
    lock_timeout,
    locked,
    locked_append,
    read_ledger,
)
from forecast.ledger.weighing import (
    item_credibility,
    item_loglr,
    kish_increment,
    lr_centre,
    thread_dependence,
)

__all__ = [
    "LOCK_TIMEOUT", "LR_BOUNDS", "Entry", "Evidence", "LRInterval", "Ledger", "LedgerError",
    "LockedError", "NewsItem", "Retraction", "Terms", "append_item", "append_retraction",
    "check_item", "check_retraction", "empty_ledger_text", "entry_ids", "evidence_from",
    "item_credibility", "item_loglr", "items_as_of", "kish_increment", "ledger_at",
    "ledger_entries", "ledger_path", "load_ledger", "lock_timeout", "locked",
    "locked_append", "lr_centre", "parse_item", "parse_retraction", "read_ledger",
    "retracted_as_of", "thread_dependence",
]
