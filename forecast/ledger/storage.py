"""The ledger file: reading it, and appending to it safely under a lock.

One job: ``news.yaml`` on disk. :func:`read_ledger` reads it (through
:func:`forecast.files.read_yaml`), validates every entry against the question and
the entries before it, and puts each retraction on the item it retracts.
:func:`append_item` and :func:`append_retraction` add one entry: under the writers'
lock (:func:`locked`, waiting at most :func:`lock_timeout`), the old bytes followed
by the entry (:func:`forecast.ledger.layout.appended`), written atomically
(:func:`forecast.files.atomic_write`). :func:`locked_append` is that locked,
atomic append for any file (the record's too).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from pydantic import ValidationError

from forecast.config import LEDGER_FILE, format_validation_error
from forecast.errors import ConfigError, LedgerError, LockedError
from forecast.files import atomic_write, gc_paused, read_bytes, read_yaml
from forecast.ledger.checks import check_item, check_retraction
from forecast.ledger.layout import appended, empty_ledger_text
from forecast.ledger.schema import Ledger, NewsItem, Retraction, ledger_entries

if TYPE_CHECKING:
    from forecast.config import QuestionConfig


def ledger_path(config: QuestionConfig) -> Path:
    """The question's ledger file."""
    return config.directory / LEDGER_FILE


def load_ledger(config: QuestionConfig, *, today: dt.date | None = None) -> list[NewsItem]:
    """Read and validate the question's ledger (an absent ledger is empty)."""
    return read_ledger(config, today=today)[0]


def read_ledger(config: QuestionConfig, *, today: dt.date | None = None
                ) -> tuple[list[NewsItem], bytes]:
    """The validated items of the ledger and the bytes they were read from."""
    path = ledger_path(config)
    if not path.exists():
        return [], b""
    return _read(config, path, today=today)


def _read(config, path, *, today=None) -> tuple[list[NewsItem], bytes]:
    try:
        data, raw = read_yaml(path)
    except ConfigError as exc:
        raise LedgerError(str(exc)) from None
    if not isinstance(data, dict):
        raise LedgerError(f"{path}: (top level): expected a mapping with schema_version, "
                          "question and items")
    try:
        with gc_paused():
            ledger = Ledger.model_validate(data)
    except ValidationError as exc:
        raise LedgerError("\n".join(_untagged(format_validation_error(path, exc)))) from None
    if ledger.question != config.id:
        raise LedgerError(
            f"{path}: question: ledger is for {ledger.question!r}, not {config.id!r}"
        )
    items: list[NewsItem] = []
    seen: set[str] = set()  # one running set keeps reading linear in the number of items
    retractions: dict[str, Retraction] = {}
    position: dict[str, int] = {}
    for i, entry in enumerate(ledger.items or []):
        where = f"{path}: items[{i}]"
        if isinstance(entry, Retraction):
            target = check_retraction(entry, items, today=today, where=where, ids=seen,
                                      retractions=retractions)
            items[position[target.id]] = target.with_retraction(entry)
            retractions[entry.id] = entry
        else:
            check_item(config, entry, seen, today=today, where=where)
            position[entry.id] = len(items)
            items.append(entry)
        seen.add(entry.id)
    return items, raw


def _untagged(lines: list[str]) -> list[str]:
    """Error lines without the entry kind pydantic puts in a location (``items[3].item.lr``
    reads ``items[3].lr``)."""
    return [re.sub(r"\]\.(item|retraction)(?=[.:])", "]", line, count=1) for line in lines]


def append_item(
    config: QuestionConfig, item: NewsItem, *, today: dt.date | None = None,
    known: tuple[list[NewsItem], bytes] | None = None,
) -> list[NewsItem]:
    """Validate and append one item to the ledger, atomically and under a file lock.

    The new file is the old bytes followed by the item, written to a temporary
    file in the same folder, flushed to disk and renamed over the ledger: a
    crash leaves either the old ledger or the new one, never a mix. Two
    concurrent appends are serialised by the lock and both land.

    ``known`` may pass the items and bytes of an earlier :func:`read_ledger`: if
    the file still holds exactly those bytes once the lock is held, they are not
    parsed again (a large ledger then costs one read per update, not two).

    Returns
    -------
    list of NewsItem
        The ledger after the append.

    Raises
    ------
    LedgerError
        If the item or the existing ledger is invalid; nothing is written.
    """
    def check(existing, path):
        check_item(config, item, existing, today=today, where=f"{path}: new item")

    return _append(config, item, check, today=today, known=known)


def append_retraction(
    config: QuestionConfig, retraction: Retraction, *, today: dt.date | None = None,
    known: tuple[list[NewsItem], bytes] | None = None,
) -> list[NewsItem]:
    """Validate and append a retraction to the ledger, as :func:`append_item` appends an item.

    The item it retracts stays as it was, byte for byte; the ledger read back carries
    the retraction on it (:attr:`NewsItem.retraction`).

    Returns
    -------
    list of NewsItem
        The ledger's items after the append.

    Raises
    ------
    LedgerError
        If the retraction (:func:`check_retraction`) or the existing ledger is invalid;
        nothing is written.
    """
    def check(existing, path):
        check_retraction(retraction, existing, today=today, where=f"{path}: new retraction")

    return _append(config, retraction, check, today=today, known=known)


#: Seconds a writer waits for another writer's lock on the ledger or the record before it
#: gives up with :class:`LockedError`; the environment's ``FORECAST_LOCK_TIMEOUT`` overrides it.
LOCK_TIMEOUT = 30.0


def lock_timeout() -> float:
    """``FORECAST_LOCK_TIMEOUT`` (seconds, 0 or more) if set, else :data:`LOCK_TIMEOUT`."""
    text = os.environ.get("FORECAST_LOCK_TIMEOUT", "").strip()
    if not text:
        return LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise ConfigError([f"FORECAST_LOCK_TIMEOUT={text}: give the seconds a writer waits for "
                           "another's lock, a number 0 or more (default "
                           f"{LOCK_TIMEOUT:g})"])
    return value


@contextlib.contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the writers' lock of ``path`` (an OS lock on ``<path>.lock``, which the system
    releases when its holder dies, even by SIGKILL); wait at most ``timeout`` seconds
    (default :func:`lock_timeout`) for another writer to let go.

    Raises
    ------
    LockedError
        If another writer held it all that time; nothing was done under it.
    """
    timeout = lock_timeout() if timeout is None else timeout
    lock = FileLock(str(path) + ".lock", timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(path, timeout) from None
    try:
        yield
    finally:
        lock.release()


def locked_append[T](path: Path, extend: Callable[[bytes], tuple[bytes, T]]) -> T:
    """Append to ``path`` under its writers' lock, atomically; return what ``extend`` returns.

    ``extend`` is given the file's bytes (empty when there is no file yet), read once the
    lock is held, and returns the new bytes and a result. Whatever it raises stops the
    append and the file stays as it was; the new bytes replace the old ones atomically
    (:func:`forecast.files.atomic_write`).

    Raises
    ------
    LockedError
        If another writer held the lock longer than :func:`lock_timeout`.
    """
    with locked(path):
        raw = read_bytes(path, limit=None) if path.exists() else b""
        new, result = extend(raw)
        atomic_write(path, new)
    return result


def _append(config, entry, check, *, today, known) -> list[NewsItem]:
    """Append one entry (an item or a retraction) under the lock, atomically."""
    path = ledger_path(config)

    def extend(raw: bytes) -> tuple[bytes, list[NewsItem]]:
        if not path.exists():
            existing = []
        elif known is not None and raw == known[1]:
            existing = list(known[0])
        else:
            existing, raw = _read(config, path, today=today)
        if not existing:
            # Nothing to preserve: start from the canonical layout, whose items list comes last.
            raw = empty_ledger_text(config.id).encode()
        check(existing, path)
        # to the microsecond, like the record's issued times: an entry made in the same
        # second as an issued forecast is still placed before or after it (forecast diff)
        stamped = entry.model_copy(update={"recorded": entry.recorded or dt.datetime.now(dt.UTC)})
        if raw and not raw.endswith(b"\n"):
            raw += b"\n"
        new_raw = appended(raw, stamped, [e.id for e in ledger_entries(existing)], path)
        if isinstance(stamped, Retraction):
            return new_raw, [i.with_retraction(stamped) if i.id == stamped.retracts else i
                             for i in existing]
        return new_raw, [*existing, stamped]

    return locked_append(path, extend)
