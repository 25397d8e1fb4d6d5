"""The ledger file's text: a new ledger, and the bytes of a safe append.

One job: the text :mod:`forecast.ledger.storage` writes. An append is the old bytes
followed by the entry's own YAML, in whichever list indentation the file uses, and
only if the result reads back as the old entries plus the new one (checked on the
YAML event stream, which is several times faster than loading the ledger): nothing
already written is rewritten or reread differently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from forecast.errors import LedgerError
from forecast.files import gc_paused, yaml_events

if TYPE_CHECKING:
    from pathlib import Path

    from forecast.ledger.schema import NewsItem, Retraction


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


def appended(raw: bytes, item: NewsItem | Retraction, old_ids: list[str], path: Path
             ) -> bytes:
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
