"""The news ledger's schema: a news item, a retraction, the ledger file, and their fields.

One job: what an entry of ``news.yaml`` may say, validated by pydantic with errors
naming the field (documented in ``README.md``, "Recording news"). An item's ratio is
a number or an interval ``{lower, upper}`` (:class:`LRInterval`) within
:data:`LR_BOUNDS`; its ``reliability`` is an Admiralty code such as ``B2``, read
case-insensitively. A later entry may retract an earlier item (:class:`Retraction`):
nothing is edited, and the ledger read back carries the retraction on its item.
Checks against the question and the entries before (:mod:`forecast.ledger.checks`)
and what the entries weigh (:mod:`forecast.ledger.weighing`) are not here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

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
)

from forecast.config import format_validation_error
from forecast.config.base import PLAIN_ID, Bounds
from forecast.errors import LedgerError


def _item_id(value: str) -> str:
    if not PLAIN_ID.fullmatch(value):
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
#: A news item's text: stricter than a prior file's ``Text`` (a headline is typed in by hand
#: at the command line, so it is capped).
ItemText = Annotated[str, Strict(),
                     StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
Date = Annotated[dt.date, BeforeValidator(_not_a_number)]
Moment = Annotated[dt.datetime, BeforeValidator(_not_a_number)]
#: Likelihood ratios beyond this are not news reports but proofs; refuse them.
LR_BOUNDS = (1e-4, 1e4)


class LRInterval(Bounds):
    """A likelihood ratio known only to lie in an interval (a log-normal belief)."""

    # not strict: a ledger typed by hand may give a ratio as a whole number
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False)
    lower: float = Field(ge=LR_BOUNDS[0], le=LR_BOUNDS[1])
    upper: float = Field(ge=LR_BOUNDS[0], le=LR_BOUNDS[1])


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
    headline: ItemText
    source: ItemText
    url: Annotated[str, AfterValidator(_url)] | None = None
    reliability: Annotated[str, AfterValidator(_admiralty)]
    bears_on: Annotated[str, StringConstraints(min_length=1, max_length=48)]
    lr: Annotated[float | LRInterval, PlainValidator(_likelihood_ratio),
                  PlainSerializer(lambda v: v.model_dump() if isinstance(v, LRInterval) else v,
                                  return_type=Any)]
    cluster: ItemId | None = None
    thread: ItemId | None = None
    notes: ItemText | None = None
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
    reason: ItemText
    source: ItemText
    url: Annotated[str, AfterValidator(_url)] | None = None
    notes: ItemText | None = None
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


def parse_item(data: Any, *, where: str = "item") -> NewsItem:
    """Validate raw data as a news item, with errors naming the field."""
    return _parse(NewsItem, data, where)


def parse_retraction(data: Any, *, where: str = "retraction") -> Retraction:
    """Validate raw data as a retraction, with errors naming the field."""
    return _parse(Retraction, data, where)


def _parse[M: BaseModel](model: type[M], data: Any, where: str) -> M:
    """``data`` validated as ``model``; a :class:`LedgerError` naming ``where`` and the field."""
    if not isinstance(data, dict):
        raise LedgerError(f"{where}: (top level): expected a mapping of fields")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise LedgerError("\n".join(format_validation_error(Path(where), exc))) from None


def entry_ids(items: list[NewsItem]) -> set[str]:
    """The ids of a ledger's entries: its items and the retractions they carry."""
    return {e.id for e in items} | {e.retraction.id for e in items if e.retraction is not None}


def ledger_entries(items: list[NewsItem]) -> list[NewsItem | Retraction]:
    """Every entry of a ledger read by :func:`~forecast.ledger.load_ledger`: its items, each
    retraction right after the item it retracts."""
    out: list[NewsItem | Retraction] = []
    for item in items:
        out.append(item)
        if item.retraction is not None:
            out.append(item.retraction)
    return out
