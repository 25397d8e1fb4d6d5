"""The old-format reference class's cases: read and validate a cases CSV, summarise it.

One job: the schema of ``cases.csv`` as the old episode-coded model
(:mod:`forecast.reference`) reads it (one row per episode, seven 0/1 features coded
over the episode, ``retained_5y``), its validating reader (every problem named by
file, line, case and column), the per-patron summary tables, and
:func:`episode_coded`, the same coding derived from the dated class
(:mod:`forecast.reference_data`).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from forecast.config import REFERENCE_FEATURES, ConfigError, format_validation_error
from forecast.files import read_csv

if TYPE_CHECKING:
    import pandas as pd

    from forecast.reference_data import OutcomeKind

#: The seven binary features of a case, in model order.
FEATURES: tuple[str, ...] = REFERENCE_FEATURES
OUTCOME = "retained_5y"
#: Every column of ``cases.csv``, exactly.
COLUMNS: tuple[str, ...] = (
    "case_id", "patron", "host", "bases", "start_year", *FEATURES, OUTCOME, "notes", "source",
)
#: Columns a case to be *predicted* must have (the rest are optional there).
PREDICT_COLUMNS: tuple[str, ...] = ("case_id", *FEATURES)
FIRST_YEAR, LAST_YEAR = 1945, 2025

#: ``retained_5y``: the outcome window, in years from ``start_year``.
WINDOW_YEARS = 5


Binary = int
Cell = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CaseRow(BaseModel):
    """One row of ``cases.csv``; 0/1 features, a year in 1945..2025 and a source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: Cell
    patron: Cell
    host: Cell
    bases: Cell
    start_year: int
    regime_change: Binary
    host_demand: Binary
    red_line_refused: Binary
    violence: Binary
    separatist_backing: Binary
    treaty: Binary
    inducements: Binary
    retained_5y: Binary
    notes: Cell
    source: Cell

    @field_validator("start_year", *FEATURES, OUTCOME, mode="before")
    @classmethod
    def _whole_number(cls, v: Any) -> Any:
        # "1" and "1972" are fine; "1.0", "yes" and "" are not (pydantic would accept "1.0").
        if isinstance(v, str):
            text = v.strip()
            if not text:
                raise ValueError("is empty")
            if not text.lstrip("-").isdigit():
                raise ValueError(f"must be a whole number (got {v!r})")
            return int(text)
        return v

    @field_validator(*FEATURES, OUTCOME, mode="after")
    @classmethod
    def _binary(cls, v: int | None) -> int | None:
        if v is not None and v not in (0, 1):
            raise ValueError(f"must be 0 or 1 (got {v})")
        return v

    @field_validator("start_year", mode="after")
    @classmethod
    def _year(cls, v: int | None) -> int | None:
        if v is not None and not FIRST_YEAR <= v <= LAST_YEAR:
            raise ValueError(f"must be a year in {FIRST_YEAR}..{LAST_YEAR} (got {v})")
        return v

    @field_validator("source", "notes", mode="before")
    @classmethod
    def _documented(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, str) and not v.strip():
            need = {"source": "every case needs a source",
                    "notes": "every case says how it was coded"}[info.field_name]
            raise ValueError(f"is empty: {need}")
        return v


class NewCaseRow(CaseRow):
    """A case to predict: only ``case_id`` and the features are required."""

    patron: Cell | None = None
    host: Cell | None = None
    bases: Cell | None = None
    start_year: int | None = None
    retained_5y: Binary | None = None
    notes: Cell | None = None
    source: Cell | None = None


def load_cases(path: str | Path, *, for_prediction: bool = False) -> pd.DataFrame:
    """Read and validate a cases CSV.

    Parameters
    ----------
    path
        A CSV with exactly the columns :data:`COLUMNS` (any order).
    for_prediction
        Validate cases to be predicted: only ``case_id`` and the seven features are
        required, the other columns of :data:`COLUMNS` are optional.

    Returns
    -------
    pandas.DataFrame
        One row per case, features and outcome as ``int``; ``attrs`` hold the
        file's ``path`` and ``sha256``, and ``line`` holds each case's line number.

    Raises
    ------
    ConfigError
        Listing every problem as ``file: line N (case_id X): column: what is wrong``:
        missing or unexpected columns, empty file, non-0/1 values, years outside
        1945..2025, missing or empty sources, duplicate ``case_id``.
    """
    import pandas as pd

    path = Path(path)
    reader, text = read_csv(path)  # a spreadsheet's BOM dropped
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ConfigError([f"{path}: (header): the file is empty; expected the columns "
                           f"{', '.join(COLUMNS)}"])
    problems: list[str] = []
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(f"{path}: (header): duplicate columns {dupes}")
    required = PREDICT_COLUMNS if for_prediction else COLUMNS
    missing = [c for c in required if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing:
        problems.append(f"{path}: (header): missing columns {missing}")
    if extra:
        problems.append(f"{path}: (header): unexpected columns {extra}; allowed: "
                        f"{', '.join(COLUMNS)}")
    if problems:
        raise ConfigError(problems)
    reader.fieldnames = header
    schema = NewCaseRow if for_prediction else CaseRow
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    try:
        records = list(_records(reader))
    except csv.Error as exc:
        raise ConfigError([f"{path}: line {reader.line_num}: malformed CSV ({exc})"]) from None
    for line, record in records:
        case = (record.get("case_id") or "").strip() or "?"
        where = f"{path}: line {line} (case_id {case!r})"
        if None in record:  # more cells than columns
            problems.append(f"{where}: (row): {len(record[None])} cells more than the header")
            continue
        if any(v is None for v in record.values()):
            problems.append(f"{where}: (row): fewer cells than the header")
            continue
        if for_prediction:  # an optional column may be left blank
            record = {k: v for k, v in record.items()
                      if k in PREDICT_COLUMNS or (v or "").strip() != ""}
        try:
            row = schema.model_validate(record)
        except ValidationError as exc:
            problems.extend(format_validation_error(where, exc))  # type: ignore[arg-type]
            continue
        if row.case_id in seen:
            problems.append(f"{where}: case_id: duplicate of line {seen[row.case_id]}")
            continue
        seen[row.case_id] = line
        rows.append({**row.model_dump(), "line": line})
    if not rows and not problems:
        problems.append(f"{path}: (rows): no cases")
    if problems:
        raise ConfigError(problems)
    df = pd.DataFrame(rows)
    columns = [c for c in COLUMNS if c in header or not for_prediction]
    df = df[[*columns, "line"]]
    df.attrs["path"] = str(path)
    df.attrs["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return df


def patron_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Per patron: the number of cases, and the share kept and with each feature present.

    Sorted by the number of cases, most first (ties by patron name).
    """
    columns = [OUTCOME, *FEATURES]
    table = cases.groupby("patron")[columns].mean()
    table.insert(0, "n_cases", cases.groupby("patron").size())
    table = table.reset_index().sort_values(["n_cases", "patron"], ascending=[False, True])
    return table.reset_index(drop=True)


def case_summary(cases: pd.DataFrame) -> str:
    """One line: how many cases and patrons, which years, and the share kept five years."""
    return (f"{len(cases)} cases, {cases['patron'].nunique()} patrons, "
            f"{cases['start_year'].min()}-{cases['start_year'].max()}; "
            f"kept {WINDOW_YEARS} years: {cases[OUTCOME].mean():.0%}")


def _records(reader: csv.DictReader):
    """(line number of the row's first line, row) for each non-blank row."""
    start = reader.line_num + 1
    for record in reader:
        if all((v or "").strip() == "" for k, v in record.items() if k is not None) and (
            None not in record
        ):
            start = reader.line_num + 1
            continue
        yield start, record
        start = reader.line_num + 1


def episode_coded(cases: pd.DataFrame, *, outcome: OutcomeKind = "presence",
                  window_years: int = 5) -> pd.DataFrame:
    """The old episode-level coding, derived from the dates: a feature is 1 if it held
    at any time before the loss or the end of the window (hindsight), and
    ``retained_5y`` is 1 if not lost by ``start + window_years``.

    Cases censored before the window closes have no outcome and are left out. The
    frame has the columns of the old ``cases.csv`` so the old logistic model can be
    fitted on it for comparison.
    """
    from forecast.reference_data import _features_by, known_at, loss_month

    loss = loss_month(cases, outcome)
    close = cases["start"].to_numpy(dtype=float) + 12 * window_years
    stop = np.where(np.isnan(loss), close, np.fmin(loss, close))
    kept = known_at(cases, 0, outcome=outcome, window_years=window_years)["kept"]
    frame = cases[["case_id", "patron", "host", "bases"]].copy()
    frame["start_year"] = cases["start"] // 12
    for f, column in _features_by(cases, stop).items():
        frame[f] = column
    frame["retained_5y"] = kept
    frame["notes"], frame["source"] = cases["notes"], cases["source"]
    frame = frame[frame["retained_5y"].notna()].copy()
    frame["retained_5y"] = frame["retained_5y"].astype(int)
    frame["start_year"] = frame["start_year"].astype(int)
    frame = frame[list(COLUMNS)].reset_index(drop=True)
    frame.attrs = dict(cases.attrs)
    return frame
