"""The news ledger: dated news items, how much each one weighs, and safe appends.

One job: read, validate and append news items, and reduce them to the
evidence the model uses (:class:`Evidence`). Weighing an item (documented, with
sources, in ``README.md``, "How an item is weighed"):

1. **The ratio if accurate.** ``lr`` is P(report | state true, report accurate)
   / P(report | state false, report accurate): the report's diagnosticity were
   its source right. An interval ``{lower, upper}`` is centred on its geometric
   midpoint ``sqrt(lower * upper)``; its width is the analyst's uncertainty about
   the ratio, split evenly between P(report | true) and P(report | false) (each
   log-normal, ``lr_interval_mass`` of the ratio's belief in the interval).
   Integrated over, the ratio is exactly the midpoint; per posterior draw it
   varies (:meth:`Evidence.per_draw`), which widens the forecast's interval and
   leaves its centre where the midpoint puts it.
2. **Credibility, counted once.** The Admiralty code gives ``h``, the
   probability that the report is accurate (``reliability.yaml``). An
   inaccurate report is uninformative, so the report's ratio is Schum's
   mixture ``h * LR + (1 - h)``: 1 at ``h = 0``, ``LR`` at ``h = 1``, always
   between them.
3. **Clusters.** Items sharing a ``cluster`` (one origin repeated by several
   outlets) and a ``bears_on`` count once: the item whose log ratio is largest
   in magnitude stands for the cluster (ties go to the smallest id).
4. **Threads.** The counted items of one ``thread`` (one process or storyline,
   declared in ``threads.yaml`` with a ``dependence`` rho) bearing on one target
   are equicorrelated evidence, worth Kish's effective number of independent
   reports ``n / (1 + (n - 1) rho)``: the strongest report counts in full and
   the ``j``-th strongest adds the ``j``-th increment of that number
   (:func:`kish_increment`). rho = 0 is the independent sum; rho = 1 keeps the
   strongest report alone; ``n`` identical items add up to at most ``1 / rho``
   reports however many arrive; a report that agrees with its thread never
   lowers its total. The analysts' uncertainty about the thread's ratios is
   correlated in the same way (rho), so a report split into identical items of a
   rho = 1 thread is exactly the one report.

5. **Retractions.** A later entry of the ledger may retract an earlier item (a
   report later shown false, or a duplicate of another) with a ``reason`` and a
   ``source`` (:class:`Retraction`). Nothing is edited: the item stays in the file,
   and from the retraction's ``date`` on it stops counting (:func:`items_as_of`);
   a forecast as of an earlier date still counts it. Its cluster and thread are
   weighed again without it (the next strongest repeat stands for the cluster; the
   thread's effective number of reports falls by its increment), exactly as if it
   had never been entered.

The result does not depend on the order of the items, and an item with ratio 1
or credibility 0 adds exactly nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from filelock import FileLock, Timeout
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    Strict,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from forecast.config import (
    LEDGER_FILE,
    ConfigError,
    QuestionConfig,
    format_validation_error,
    gc_paused,
    read_yaml,
)
from forecast.errors import LedgerError, LockedError
from forecast.files import atomic_write, yaml_events


def _item_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value):
        raise ValueError(f"{value!r} is not a valid id: letters, digits, '_', '.', '-', "
                         "starting with a letter or digit, at most 64 characters")
    return value


def _admiralty(value: str) -> str:
    """An Admiralty code such as ``B2``, read case-insensitively and stored upper-case."""
    code = value.strip().upper()
    if not re.fullmatch(r"[A-F][1-6]", code):
        raise ValueError(f"{value!r} is not an Admiralty code: a source letter A-F (how "
                         "reliable the source is) and an information digit 1-6 (how credible "
                         "the report is), e.g. B2; case does not matter")
    return code


def _url(value: str) -> str:
    if not re.fullmatch(r"https?://\S{1,2000}", value):
        raise ValueError(f"{value!r} is not a web address (http:// or https://, no spaces)")
    return value


def _not_a_number(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise ValueError(f"got {value!r}: write a date as YYYY-MM-DD")
    return value


ItemId = Annotated[str, Strict(), AfterValidator(_item_id)]
Text = Annotated[str, Strict(),
                 StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
Date = Annotated[dt.date, BeforeValidator(_not_a_number)]
Moment = Annotated[dt.datetime, BeforeValidator(_not_a_number)]
#: Likelihood ratios beyond this are not news reports but proofs; refuse them.
LR_BOUNDS = (1e-4, 1e4)


class LRInterval(BaseModel):
    """A likelihood ratio known only to lie in an interval (a log-normal belief)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    lower: float = Field(ge=LR_BOUNDS[0], le=LR_BOUNDS[1])
    upper: float = Field(ge=LR_BOUNDS[0], le=LR_BOUNDS[1])

    @model_validator(mode="after")
    def _ordered(self) -> LRInterval:
        if not self.lower < self.upper:
            raise ValueError(
                f"lower must be below upper (got lower={self.lower}, upper={self.upper})"
            )
        return self


def _likelihood_ratio(value: Any) -> float | LRInterval:
    """A ratio ``> 0`` or an interval ``{lower, upper}``, with one clear message either way."""
    lo, hi = LR_BOUNDS
    rule = (f"a likelihood ratio must be a number between {lo:g} and {hi:g} (1 = no update), "
            "or an interval {lower: a, upper: b} of such numbers with a < b")
    if isinstance(value, LRInterval):
        return value
    if isinstance(value, dict):
        try:
            return LRInterval.model_validate(value)
        except ValidationError as exc:
            detail = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'interval'}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise ValueError(f"{detail} ({rule})") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"got {value!r}: {rule}")
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"got {value!r}: {rule}")
    return value


class NewsItem(BaseModel):
    """One dated news item bearing on one evidence state or one base's outcome."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: ItemId
    date: Date
    headline: Text
    source: Text
    url: Annotated[str, AfterValidator(_url)] | None = None
    reliability: Annotated[str, AfterValidator(_admiralty)]
    bears_on: Annotated[str, StringConstraints(min_length=1, max_length=48)]
    lr: Annotated[float | LRInterval, PlainValidator(_likelihood_ratio),
                  PlainSerializer(lambda v: v.model_dump() if isinstance(v, LRInterval) else v,
                                  return_type=Any)]
    cluster: ItemId | None = None
    thread: ItemId | None = None
    notes: Text | None = None
    recorded: Moment | None = None
    # The later ledger entry that retracts this item, set when the ledger is read (never
    # written with the item: the retraction is an entry of its own).
    _retraction: Retraction | None = PrivateAttr(default=None)

    @property
    def retraction(self) -> Retraction | None:
        """The entry retracting this item, if the ledger holds one (see :class:`Retraction`)."""
        return self._retraction

    def with_retraction(self, retraction: Retraction | None) -> NewsItem:
        """A copy of the item carrying ``retraction`` (None: the item as it stood before)."""
        copy = self.model_copy()
        copy._retraction = retraction
        return copy

    def to_yaml_dict(self) -> dict[str, Any]:
        """The item as it is written to the ledger (dates as ISO text, no empty fields)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return data


class Retraction(BaseModel):
    """A later ledger entry withdrawing an earlier item: a report shown false, or a duplicate.

    The ledger stays append-only: the item stays where it is, and from the retraction's
    ``date`` on it stops counting (a forecast as of an earlier date still counts it).
    ``retracts`` must name an item earlier in the ledger that no other entry has
    retracted; a retraction cannot itself be retracted (a retraction found wrong is
    answered by entering the report again as a new item, with its own id and date).
    ``reason`` says why and ``source`` who showed it (the outlet's correction, the
    debunking report), as a news item names its source.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: ItemId
    date: Date
    retracts: ItemId
    reason: Text
    source: Text
    url: Annotated[str, AfterValidator(_url)] | None = None
    notes: Text | None = None
    recorded: Moment | None = None

    def to_yaml_dict(self) -> dict[str, Any]:
        """The entry as it is written to the ledger (dates as ISO text, no empty fields)."""
        return self.model_dump(mode="json", exclude_none=True)


def _entry_kind(value: Any) -> str:
    """Which kind of ledger entry a mapping is: ``retraction`` (it names what it retracts,
    or gives a reason and no headline) or ``item``."""
    if isinstance(value, Retraction):
        return "retraction"
    if isinstance(value, dict) and ("retracts" in value
                                    or ("reason" in value and "headline" not in value)):
        return "retraction"
    return "item"


#: One entry of the ledger's ``items`` list: a news item or a retraction of one.
Entry = Annotated[Annotated[NewsItem, Tag("item")] | Annotated[Retraction, Tag("retraction")],
                  Discriminator(_entry_kind)]


class Ledger(BaseModel):
    """``news.yaml``: the question id and its entries (items, retractions), in the order
    recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: Literal[1]
    question: str
    items: list[Entry] | None = None


@dataclass(frozen=True)
class Terms:
    """The counted items' terms, for drawing their uncertain ratios (arrays of length I).

    ``target`` indexes the K evidence states then the B outcomes; ``mu`` and
    ``sigma`` are the log ratio's centre and spread (0 for a point ratio); ``h``
    the credibility; ``weight`` its credit within its thread (:func:`kish_increment`);
    ``group`` the thread group, whose
    dependence ``rho`` are arrays over groups.
    """

    target: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    h: np.ndarray
    group: np.ndarray
    weight: np.ndarray
    rho: np.ndarray
    ids: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()

    @property
    def uncertain(self) -> bool:
        """Whether any counted item's ratio is an interval (so per-draw ratios vary)."""
        return bool(np.any(self.sigma > 0))


@dataclass(frozen=True)
class Evidence:
    """What the news says: the centre log ratio per state and per outcome, and the terms."""

    state_loglr: np.ndarray  # (K,) at the centre of every ratio
    outcome_loglr: np.ndarray  # (B,)
    item_ids: tuple[str, ...]  # items included (sorted)
    item_loglr: dict[str, float]  # each item's own log ratio (credibility-mixed), alone
    counted: tuple[str, ...]  # items that stand for themselves or their cluster
    entered: dict[str, float]  # what each item adds after clusters and threads (0: none)
    terms: Terms | None = None
    _draws: dict = field(default_factory=dict, compare=False, repr=False)

    def key(self) -> str:
        """A hash of the evidence: its centre, its items and their terms."""
        t = self.terms
        blob = json.dumps(
            {
                "u": [round(x, 12) for x in self.state_loglr.tolist()],
                "v": [round(x, 12) for x in self.outcome_loglr.tolist()],
                "items": list(self.item_ids),
                "terms": None if t is None else [
                    np.round(a, 12).tolist() for a in (t.target, t.mu, t.sigma, t.h, t.group,
                                                       t.weight, t.rho)],
            }
        ).encode()
        return hashlib.sha256(blob).hexdigest()

    def per_draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The log ratios per state and per outcome for ``n`` draws, ``(n, K)`` and ``(n, B)``.

        Each uncertain item's log ratio, were the report accurate, is drawn as
        ``mu - sigma**2 / 2 + sigma * z`` (the half of its uncertainty that lies in
        P(report | false) shifts it, so that ``E[e^d]`` is exactly the midpoint),
        with ``z`` correlated rho within a thread; credibility and the thread's
        power then apply per draw. Deterministic: the same evidence and ``n``
        give the same draws. Without uncertain items every row is the centre.
        """
        if n not in self._draws:  # analyses ask for the same draws many times
            self._draws[n] = self._per_draw(n)
        return self._draws[n]

    def _per_draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        k, b = self.state_loglr.size, self.outcome_loglr.size
        t = self.terms
        if t is None or not t.uncertain:
            return (np.broadcast_to(self.state_loglr, (n, k)),
                    np.broadcast_to(self.outcome_loglr, (n, b)))
        # Common random numbers: each item's and each thread's normal draws are keyed by
        # its own name, so adding or changing one item leaves every other item's draws
        # as they were (Shapley credit and sensitivity rows compare like with like).
        shared = np.column_stack([_normal(name, n) for name in t.group_names])
        own = np.column_stack([_normal(f"item:{i}", n) for i in t.ids])
        rho = t.rho[t.group]
        z = np.sqrt(rho) * shared[:, t.group] + np.sqrt(1 - rho) * own
        d = t.mu - t.sigma**2 / 2 + t.sigma * z
        ell = np.log1p(t.h * np.expm1(d)) * t.weight
        out = np.zeros((n, k + b))
        np.add.at(out, (slice(None), t.target), ell)  # one column per target
        out.setflags(write=False)
        return out[:, :k], out[:, k:]


def _normal(name: str, n: int) -> np.ndarray:
    """``n`` standard normal draws keyed by ``name`` (the same name, the same draws)."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, n]).standard_normal(n)


def ledger_path(config: QuestionConfig) -> Path:
    """The question's ledger file."""
    return config.directory / LEDGER_FILE


def item_credibility(config: QuestionConfig, code: str) -> float:
    """The credibility ``h`` of an Admiralty code such as ``"B2"``: P(the report is accurate)."""
    rel = config.reliability
    return rel.source[code[0]] * rel.information[int(code[1])]


def lr_centre(config: QuestionConfig, item: NewsItem) -> tuple[float, float]:
    """The log ratio's centre (log of the geometric midpoint) and spread ``sigma``."""
    if isinstance(item.lr, LRInterval):
        lo, hi = math.log(item.lr.lower), math.log(item.lr.upper)
        z = NormalDist().inv_cdf(0.5 + config.reliability.lr_interval_mass / 2)
        return (lo + hi) / 2, (hi - lo) / (2 * z)
    return math.log(item.lr), 0.0


def item_loglr(config: QuestionConfig, item: NewsItem) -> float:
    """The log ratio an item contributes alone: ``log(h * LR + 1 - h)`` at its midpoint."""
    h = item_credibility(config, item.reliability)
    mu, _ = lr_centre(config, item)
    return float(math.log1p(h * math.expm1(mu)))


def kish_increment(j: int, rho: float) -> float:
    """What the ``j``-th strongest report of a thread adds to its effective number of reports.

    Kish's effective number of ``n`` equicorrelated reports is ``n / (1 + (n - 1) rho)``;
    the ``j``-th report adds its increment ``n_eff(j) - n_eff(j - 1)``:
    1 for the strongest, ``(1 - rho) / ((1 + (j - 1) rho) (1 + (j - 2) rho))`` after,
    falling with ``j`` and with ``rho``. ``n`` identical reports so add up to exactly
    ``n_eff`` reports (at most ``1 / rho``); ``rho = 0`` is the independent sum and
    ``rho = 1`` keeps the strongest report alone. Credited strongest first, a report
    that agrees with its thread never lowers the thread's total (scaling the mean by
    ``n_eff / n`` would: a weak report diluted the strong ones).

    Examples
    --------
    >>> [round(kish_increment(j, 0.5), 3) for j in (1, 2, 3)]
    [1.0, 0.333, 0.167]
    """
    if j <= 1:
        return 1.0
    return (1.0 - rho) / ((1.0 + (j - 1) * rho) * (1.0 + (j - 2) * rho))


def thread_dependence(config: QuestionConfig, thread: str) -> float:
    """The elicited dependence of a thread (``threads.yaml``; default for an undeclared one)."""
    if config.threads is None:
        raise LedgerError(f"thread: {thread!r} needs {config.directory / 'threads.yaml'}, "
                          "which declares threads and the default_dependence of others")
    return config.threads.dependence(thread)


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


def entry_ids(items: list[NewsItem]) -> set[str]:
    """The ids of a ledger's entries: its items and the retractions they carry."""
    return {e.id for e in items} | {e.retraction.id for e in items if e.retraction is not None}


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
    :func:`load_ledger` returns them); ``ids`` and ``retractions`` (the earlier
    retractions by id) may be passed by a caller that keeps them as it reads.

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


def parse_retraction(data: Any, *, where: str = "retraction") -> Retraction:
    """Validate raw data as a retraction, with errors naming the field."""
    if not isinstance(data, dict):
        raise LedgerError(f"{where}: (top level): expected a mapping of fields")
    try:
        return Retraction.model_validate(data)
    except ValidationError as exc:
        raise LedgerError("\n".join(format_validation_error(Path(where), exc))) from None


def parse_item(data: Any, *, where: str = "item") -> NewsItem:
    """Validate raw data as a news item, with errors naming the field."""
    if not isinstance(data, dict):
        raise LedgerError(f"{where}: (top level): expected a mapping of fields")
    try:
        return NewsItem.model_validate(data)
    except ValidationError as exc:
        raise LedgerError("\n".join(format_validation_error(Path(where), exc))) from None


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


def ledger_entries(items: list[NewsItem]) -> list[NewsItem | Retraction]:
    """Every entry of a ledger read by :func:`load_ledger`: its items, each retraction
    right after the item it retracts."""
    out: list[NewsItem | Retraction] = []
    for item in items:
        out.append(item)
        if item.retraction is not None:
            out.append(item.retraction)
    return out


def items_as_of(items: list[NewsItem], as_of: dt.date | None) -> list[NewsItem]:
    """The items counting on ``as_of``: dated by then and not retracted by then.

    An item retracted on or before ``as_of`` is left out; one retracted later counts,
    and is returned as it stood then (without its retraction). ``as_of`` None: every
    item not retracted.
    """
    out = []
    for item in items:
        if as_of is not None and item.date > as_of:
            continue
        r = item.retraction
        if r is not None:
            if as_of is None or r.date <= as_of:
                continue
            item = item.with_retraction(None)
        out.append(item)
    return out


def ledger_at(items: list[NewsItem], when: dt.datetime) -> list[NewsItem]:
    """The ledger as it stood at ``when`` (UTC), by the entries' ``recorded`` stamps.

    Items entered after ``when`` are left out, and a retraction entered after it is
    taken off its item. Entries without a stamp count as entered before every stamped
    one (the seeded ledger's items, entered by hand before stamps were kept).
    """
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when

    def by_then(stamp: dt.datetime | None) -> bool:
        if stamp is None:
            return True
        return (stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp) <= when

    out = []
    for item in items:
        if not by_then(item.recorded):
            continue
        if item.retraction is not None and not by_then(item.retraction.recorded):
            item = item.with_retraction(None)
        out.append(item)
    return out


def retracted_as_of(items: list[NewsItem], as_of: dt.date | None) -> list[NewsItem]:
    """The items retracted on or before ``as_of`` (every retracted item when None)."""
    return [i for i in items if i.retraction is not None
            and (as_of is None or i.retraction.date <= as_of)]


def evidence_from(config: QuestionConfig, items: list[NewsItem]) -> Evidence:
    """Reduce items to the evidence: clusters counted once, threads by Kish's design effect.

    An item carrying a retraction (a whole ledger as :func:`load_ledger` reads it) is
    left out: it no longer counts. For the evidence as of a date before a retraction,
    pass :func:`items_as_of`, which returns such an item as it stood then.
    """
    items = [i for i in items if i.retraction is None]
    variables, bases = config.variables, config.bases
    targets = variables + bases
    own = {item.id: item_loglr(config, item) for item in items}
    chosen: dict[tuple[str, str], NewsItem] = {}
    counted: list[NewsItem] = []
    for item in sorted(items, key=lambda i: i.id):
        if item.cluster is None:
            counted.append(item)
            continue
        key = (item.cluster, item.bears_on)
        best = chosen.get(key)
        if best is None or abs(own[item.id]) > abs(own[best.id]):
            chosen[key] = item
    counted.extend(chosen.values())
    counted.sort(key=lambda i: i.id)
    groups: dict[tuple[str, str], list[NewsItem]] = {}
    for item in counted:
        name = f"thread:{item.thread}" if item.thread else f"item:{item.id}"
        groups.setdefault((name, item.bears_on), []).append(item)
    names = sorted(groups)
    rho = np.array([thread_dependence(config, g[0].removeprefix("thread:"))
                    if g[0].startswith("thread:") else 0.0 for g in names])
    index = {g: j for j, g in enumerate(names)}
    # Within a group, the j-th strongest report (by the magnitude of its own log ratio,
    # ties by id) is credited with the j-th increment of Kish's effective number.
    weight: dict[str, float] = {}
    for g, members in groups.items():
        ranked = sorted(members, key=lambda i: (-abs(own[i.id]), i.id))
        for j, item in enumerate(ranked, start=1):
            weight[item.id] = kish_increment(j, float(rho[index[g]]))
    rows = [(item, index[(f"thread:{item.thread}" if item.thread else f"item:{item.id}",
                          item.bears_on)]) for item in counted]
    centre = np.zeros(len(targets))
    entered = dict.fromkeys(own, 0.0)
    for item, _ in rows:
        entered[item.id] = own[item.id] * weight[item.id]
        centre[targets.index(item.bears_on)] += entered[item.id]
    spreads = [lr_centre(config, item) for item, _ in rows]
    terms = Terms(
        target=np.array([targets.index(i.bears_on) for i, _ in rows], dtype=int),
        mu=np.array([m for m, _ in spreads], dtype=float),
        sigma=np.array([sd for _, sd in spreads], dtype=float),
        h=np.array([item_credibility(config, i.reliability) for i, _ in rows], dtype=float),
        group=np.array([g for _, g in rows], dtype=int),
        weight=np.array([weight[i.id] for i, _ in rows], dtype=float),
        rho=rho,
        ids=tuple(i.id for i, _ in rows),
        group_names=tuple(f"{g[0]}|{g[1]}" for g in names),
    )
    return Evidence(
        state_loglr=centre[: len(variables)],
        outcome_loglr=centre[len(variables):],
        item_ids=tuple(sorted(own)),
        item_loglr=own,
        counted=tuple(i.id for i in counted),
        entered=entered,
        terms=terms,
    )


def empty_ledger_text(question_id: str) -> str:
    """The text of a new, empty ledger for a question."""
    return (
        "# News ledger: append-only. Add items with `forecast update`, never by editing.\n"
        "# Fields are documented in README.md (section 'Recording news').\n"
        f"schema_version: 1\nquestion: {question_id}\nitems:\n"
    )


def _item_text(item: NewsItem | Retraction, indent: str) -> str:
    body = yaml.safe_dump([item.to_yaml_dict()], sort_keys=False, allow_unicode=True, width=88)
    return "".join(indent + line if line.strip() else line for line in body.splitlines(True))


def _event_key(event: yaml.Event) -> tuple:
    """What an event says, without where it sits in the file."""
    return (type(event).__name__, getattr(event, "value", None), getattr(event, "tag", None),
            getattr(event, "style", None), getattr(event, "implicit", None))


_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_FRAME = (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentStartEvent,
          yaml.DocumentEndEvent)


def _items_tail(text: str) -> tuple[int, list[list[tuple]]] | None:
    """How many entries the top-level ``items`` list has, and the events of the last two.

    ``None`` unless the document is one mapping whose last key is ``items``, a list.
    Reads the event stream only (libyaml's parser, no object construction), which
    is several times faster than loading the ledger.
    """
    with gc_paused():
        return _walk_items(yaml_events(text))


def _walk_items(events) -> tuple[int, list[list[tuple]]] | None:
    """:func:`_items_tail` on an event stream."""
    depth, key_next, in_items, items_done, value_is_items = 0, True, False, False, False
    count, current, last = 0, [], [[], []]
    for event in events:
        kind = type(event)
        if kind in _FRAME:
            continue
        step = 1 if kind in _OPEN else -1 if kind in _CLOSE else 0
        if in_items:
            if depth == 2 and step < 0:  # the end of the items list
                in_items, items_done, depth = False, True, 1
                continue
            if depth == 2:  # an entry starts
                count, current = count + 1, []
            current.append(_event_key(event))
            depth += step
            if depth == 2:
                last = [last[1], current]
        elif depth == 0:
            if kind is not yaml.MappingStartEvent:
                return None
            depth = 1
        elif depth == 1:
            if step < 0:
                depth = 0
            elif items_done or (key_next and step):  # a key after the list, or a complex key
                return None
            elif key_next:
                key_next = False
                value_is_items = kind is yaml.ScalarEvent and event.value == "items"
            else:
                key_next = True
                if value_is_items and kind is yaml.SequenceStartEvent:
                    in_items, depth = True, 2
                elif (value_is_items and kind is yaml.ScalarEvent and not event.style
                      and event.value in ("", "~", "null")):
                    items_done = True  # "items:" with nothing yet: an empty list
                else:
                    depth += step
        else:
            depth += step  # inside another key's value
    return (count, last) if items_done else None


def _appended(raw: bytes, item: NewsItem | Retraction, old_ids: list[str], path: Path) -> bytes:
    """The old bytes followed by the item, in whichever list indentation the file uses.

    Refuses to return anything that would not read back as the old items plus the
    new one: the new file's ``items`` list must be its last key, hold one entry more
    than before, and end with exactly the item's own YAML, the old last entry
    unchanged (compared event by event). Bytes before the end cannot be reread
    differently: a YAML parser decides them before it sees what follows.
    """
    standalone = [_event_key(e) for e in yaml_events(_item_text(item, ""))]
    # the item alone is "- {...}": drop stream, document and sequence start/end events
    expected = standalone[3:-3]
    text = raw.decode("utf-8")
    before = _items_tail(text)
    n = len(old_ids)
    if before is not None and before[0] == n:
        for indent in _indents(text):
            new_text = text + _item_text(item, indent)
            try:
                after = _items_tail(new_text)
            except yaml.YAMLError:
                continue
            # one entry more, the new one exactly the item, the old last one untouched
            if (after is not None and after[0] == n + 1 and after[1][1] == expected
                    and (n == 0 or after[1][0] == before[1][1])):
                return new_text.encode("utf-8")
    raise LedgerError(f"{path}: the ledger's layout does not allow a safe append; "
                      "it must end with its 'items:' list")


def _indents(text: str) -> list[str]:
    """The list indentations to try, the one the file's last entry uses first."""
    for line in reversed(text.splitlines()):
        stripped = line.lstrip(" ")
        if stripped.startswith("- "):
            first = line[: len(line) - len(stripped)]
            return [first, *(i for i in ("  ", "") if i != first)]
    return ["  ", ""]


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
def locked(path: Path, timeout: float | None = None):
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


def _append(config, entry, check, *, today, known) -> list[NewsItem]:
    """Append one entry (an item or a retraction) under the lock, atomically."""
    path = ledger_path(config)
    with locked(path):
        if not path.exists():
            existing, raw = [], b""
        elif known is not None and path.read_bytes() == known[1]:
            existing, raw = list(known[0]), known[1]
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
        old_ids = [e.id for e in ledger_entries(existing)]
        new_raw = _appended(raw, stamped, old_ids, path)
        atomic_write(path, new_raw)
        if isinstance(stamped, Retraction):
            return [i.with_retraction(stamped) if i.id == stamped.retracts else i
                    for i in existing]
        return [*existing, stamped]

