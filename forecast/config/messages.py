"""Say what is wrong with a file: pydantic's errors as ``file: field: message`` lines.

One job: turn a :class:`pydantic.ValidationError` into lines that name the file, the
field as the analyst wrote it (``outcomes[tartus].baseline.elicited.upper``) and what
is wrong, with the offending value when it is short enough to show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forecast.config.base import PLAIN_ID


def _entry_name(entries: Any, index: int) -> str:
    """``[id]`` for ``entries[index]`` when it has an id that names it alone, else ``[index]``."""
    if isinstance(entries, list) and 0 <= index < len(entries):
        entry = entries[index]
        ident = entry.get("id") if isinstance(entry, dict) else None
        ids = [e.get("id") for e in entries if isinstance(e, dict)]
        if isinstance(ident, str) and PLAIN_ID.fullmatch(ident) and ids.count(ident) == 1:
            return f"[{ident}]"
    return f"[{index}]"


def _field_path(loc: tuple, data: Any = None) -> str:
    """A pydantic location as ``outcomes[tartus].baseline.elicited.upper``.

    An entry of a list is named by its ``id`` in ``data`` (the file as read) when it
    has a plain, unique one, else by its position: ``outcomes[1]``.
    """
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(_entry_name(data, p))
            data = data[p] if isinstance(data, list) and 0 <= p < len(data) else None
        else:
            parts.append(f".{p}")
            data = data.get(p) if isinstance(data, dict) else None
    return "".join(parts).removeprefix(".")


def format_validation_error(path: Path, exc: ValidationError, data: Any = None) -> list[str]:
    """Turn a pydantic error into ``file: field: message (got value)`` lines.

    With ``data`` (what was validated, as read from the file), entries of lists are
    named by their ids: ``outcomes[tartus].baseline`` rather than ``outcomes[1].baseline``.
    """
    lines = []
    for err in exc.errors():
        field = _field_path(err["loc"], data) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        got = ""
        if err["type"] not in {"missing", "value_error", "assertion_error"} and "input" in err:
            value = err["input"]
            if not isinstance(value, dict | list):
                got = f" (got {value!r})"
        lines.append(f"{path}: {field}: {msg}{got}")
    return lines
