"""The dated reference class: episodes as known at their start, and dated events.

One job: read and validate ``priors/reference_class/cases.csv`` (one row per
episode, only the facts known when it began) and ``events.csv`` (each
time-varying feature on the date it first held, the exit, the loss of the main
facility, a return, or the date a still-running case was last checked), and
turn them into what the models need:

* :func:`case_years` - one row per case and episode year, with each feature
  as it was known at the *start* of that year (lagged), and whether the
  patron left during it (the discrete-time hazard data);
* :func:`known_at` - each case's features as known at an origin, a number of
  years into its episode, and whether it was still at risk then;
* :func:`class_as_of` - the whole class as it was known on a date (cases begun
  and events dated before it; episodes still running then censored there), so
  that a fit, a prior or a score as of that date uses nothing learnt later.

The old episode-level coding is :func:`forecast.reference_cases.episode_coded`
and the Kaplan-Meier rate :func:`forecast.skill.kaplan_meier`.

Dates are months (``YYYY-MM``). Nothing is ever back-filled from the outcome:
an event without a date is kept in the file, reported by :func:`undated`, and
never switches a feature on.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from forecast.config import ConfigError, format_validation_error, repo_path
from forecast.files import read_csv

if TYPE_CHECKING:
    import pandas as pd

REFERENCE_DIR = Path("priors") / "reference_class"
#: Features known at an episode's start, which never change.
STATIC: tuple[str, ...] = ("regime_change", "treaty")
#: Features that switch on at a date during an episode (first onset only).
TIME_VARYING: tuple[str, ...] = (
    "host_demand", "red_line_refused", "violence", "separatist_backing", "inducements",
)
#: Events about the outcome, not features.
OUTCOME_EVENTS: tuple[str, ...] = ("exit", "facility_exit", "return", "censored")
EVENTS: tuple[str, ...] = (*TIME_VARYING, *OUTCOME_EVENTS)
CASE_COLUMNS: tuple[str, ...] = (
    "case_id", "patron", "host", "bases", "shock", "start_date", "start_precision",
    *STATIC, "notes", "source", "entered",
)
EVENT_COLUMNS: tuple[str, ...] = ("case_id", "event", "date", "precision", "note", "source")
#: Which loss the model counts: the patron's last forces leaving the host, or the
#: loss of the main facility (the first of ``bases``), whichever came first.
OutcomeKind = Literal["presence", "facility"]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def default_path(name: str) -> Path:
    """``priors/reference_class/<name>`` of the working tree or the repository."""
    return repo_path(REFERENCE_DIR / name)


def month_index(text: str) -> int:
    """Months since year 0 of a ``YYYY-MM`` date (``1969-09`` -> 23628)."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"must be a month YYYY-MM (got {text!r})")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_of(date: dt.date) -> int:
    """:func:`month_index` of a date."""
    return date.year * 12 + date.month - 1


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CaseFacts(_Row):
    """One episode of ``cases.csv``: what was known when it began."""

    case_id: str
    patron: str
    host: str
    bases: str
    shock: str
    start_date: str
    start_precision: Literal["month", "year"]
    regime_change: Literal[0, 1]
    treaty: Literal[0, 1]
    notes: str
    source: str
    entered: dt.date

    @field_validator("case_id", "patron", "host", "bases", "shock", "notes", "source")
    @classmethod
    def _filled(cls, v: str) -> str:
        if not v:
            raise ValueError("is empty")
        return v

    @field_validator("start_date")
    @classmethod
    def _month(cls, v: str) -> str:
        month_index(v)
        if not 1945 <= int(v[:4]) <= 2026:
            raise ValueError(f"must lie in 1945..2026 (got {v!r})")
        return v

    @field_validator("regime_change", "treaty", mode="before")
    @classmethod
    def _binary(cls, v: Any) -> Any:
        return int(v) if isinstance(v, str) and v.strip() in ("0", "1") else v


class Event(_Row):
    """One dated event of ``events.csv``; ``date`` may be empty when no source dates it."""

    case_id: str
    event: Literal[EVENTS]  # type: ignore[valid-type]
    date: str
    precision: Literal["month", "year", ""]
    note: str
    source: str

    @field_validator("date")
    @classmethod
    def _month(cls, v: str) -> str:
        if v:
            month_index(v)
        return v


def read_header(path: Path, required: tuple[str, ...], allowed: tuple[str, ...]
                ) -> tuple[csv.DictReader, str]:
    """A CSV's reader with its header stripped and checked: every ``required`` column
    there, none outside ``allowed``; else a :class:`ConfigError` naming the file."""
    reader, text = read_csv(path)
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ConfigError([f"{path}: (header): the file is empty; expected the columns "
                           f"{', '.join(required)}"])
    missing = [c for c in required if c not in header]
    extra = [c for c in header if c not in allowed]
    if missing or extra:
        raise ConfigError([f"{path}: (header): missing columns {missing}, unexpected "
                           f"columns {extra}; allowed: {', '.join(allowed)}"])
    reader.fieldnames = header
    return reader, text


def _read_rows(path: Path, columns: tuple[str, ...], schema: type[_Row]
               ) -> tuple[list[tuple[int, _Row]], str]:
    reader, text = read_header(path, columns, columns)
    rows, problems = [], []
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ConfigError([f"{path}: line {reader.line_num}: malformed CSV ({exc})"]) from None
    for n, record in enumerate(records, start=2):
        where = f"{path}: line {n} (case_id {(record.get('case_id') or '?').strip()!r})"
        if None in record or any(v is None for v in record.values()):
            problems.append(f"{where}: (row): the row does not have {len(columns)} cells")
            continue
        try:
            rows.append((n, schema.model_validate(record)))
        except ValidationError as exc:
            problems.extend(format_validation_error(where, exc))  # type: ignore[arg-type]
    if problems:
        raise ConfigError(problems)
    return rows, hashlib.sha256(text.encode()).hexdigest()


def load_reference(directory: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate ``cases.csv`` and ``events.csv`` of a reference-class directory.

    Returns
    -------
    (cases, events) : pandas.DataFrame
        ``cases`` has the columns of :data:`CASE_COLUMNS` plus ``start`` (month
        index), ``exit``, ``facility_exit`` and ``censored`` (month indices or
        NaN) and, per time-varying feature, its onset month (NaN: never, or not
        dated). ``events`` is the file's rows with ``month``. Both carry
        ``attrs["sha256"]`` (of the two files together) and ``attrs["path"]``.

    Raises
    ------
    ConfigError
        Naming the file, line and field: a bad cell, an event for an unknown case,
        an event dated before 1940 or after its case's end, a case with both an
        exit and a censoring date or with neither, two onsets of one feature.
    """
    import pandas as pd

    directory = Path(directory) if directory is not None else default_path("")
    cases_path, events_path = directory / "cases.csv", directory / "events.csv"
    case_rows, case_hash = _read_rows(cases_path, CASE_COLUMNS, CaseFacts)
    event_rows, event_hash = _read_rows(events_path, EVENT_COLUMNS, Event)
    problems = []
    facts: dict[str, dict[str, Any]] = {}
    for line, row in case_rows:
        if row.case_id in facts:
            problems.append(f"{cases_path}: line {line} (case_id {row.case_id!r}): case_id: "
                            "duplicate")
            continue
        facts[row.case_id] = {**row.model_dump(), "start": month_index(row.start_date),
                              "exit": np.nan, "facility_exit": np.nan, "censored": np.nan,
                              **{f: np.nan for f in TIME_VARYING}}
    seen: dict[tuple[str, str], int] = {}
    for line, ev in event_rows:
        where = f"{events_path}: line {line} (case_id {ev.case_id!r})"
        if ev.case_id not in facts:
            problems.append(f"{where}: case_id: not a case of {cases_path.name}")
            continue
        key = (ev.case_id, ev.event)
        if key in seen and ev.event != "return":
            problems.append(f"{where}: event: a second {ev.event!r} (first on line "
                            f"{seen[key]}); only the first onset is coded")
            continue
        seen[key] = line
        if not ev.date:
            if ev.event in ("exit", "censored"):
                problems.append(f"{where}: date: an {ev.event} needs a date")
            continue  # an undated feature never switches on (see undated())
        month = month_index(ev.date)
        case = facts[ev.case_id]
        if month < case["start"] - 36 and ev.event in TIME_VARYING:
            problems.append(f"{where}: date: {ev.date} is more than 3 years before the "
                            f"episode's start {case['start_date']}")
        if ev.event in OUTCOME_EVENTS[:2] and month < case["start"]:
            problems.append(f"{where}: date: {ev.event} {ev.date} is before the start "
                            f"{case['start_date']}")
        if ev.event != "return":
            case[ev.event] = month
    for case_id, case in facts.items():
        has_exit, has_censor = not np.isnan(case["exit"]), not np.isnan(case["censored"])
        if has_exit == has_censor:
            problems.append(f"{events_path}: case_id {case_id!r}: event: give exactly one of "
                            f"'exit' or 'censored' (got {'both' if has_exit else 'neither'})")
        end = case["exit"] if has_exit else case["censored"]
        if not np.isnan(case["facility_exit"]) and case["facility_exit"] > end:
            problems.append(f"{events_path}: case_id {case_id!r}: facility_exit: after the "
                            "case's exit or censoring date")
    if problems:
        raise ConfigError(problems)
    cases = pd.DataFrame(list(facts.values()))
    events = pd.DataFrame([{**ev.model_dump(), "line": line} for line, ev in event_rows])
    events["month"] = [month_index(d) if d else np.nan for d in events["date"]]
    digest = hashlib.sha256((case_hash + event_hash).encode()).hexdigest()
    for frame in (cases, events):
        frame.attrs["sha256"] = digest
        frame.attrs["path"] = str(directory)
    return cases, events


def undated(events: pd.DataFrame) -> pd.DataFrame:
    """The events no source dates (they are never used to switch a feature on)."""
    return events[events["date"] == ""][["case_id", "event", "note"]].reset_index(drop=True)


def loss_month(cases: pd.DataFrame, outcome: OutcomeKind) -> np.ndarray:
    """Month of the loss the model counts (NaN: not lost by the censoring date)."""
    exit_ = cases["exit"].to_numpy(dtype=float)
    if outcome == "presence":
        return exit_
    facility = cases["facility_exit"].to_numpy(dtype=float)
    return np.fmin(exit_, facility)  # fmin ignores NaN: the earlier known loss


def end_month(cases: pd.DataFrame, outcome: OutcomeKind) -> np.ndarray:
    """Month each case leaves the data: its loss, else its censoring month."""
    loss = loss_month(cases, outcome)
    return np.where(np.isnan(loss), cases["censored"].to_numpy(dtype=float), loss)


def case_years(cases: pd.DataFrame, *, outcome: OutcomeKind = "facility",
               max_years: int = 10) -> pd.DataFrame:
    """The discrete-time hazard data: one row per case and episode year at risk.

    Episode year ``k`` (1, 2, ...) runs from ``start + 12 (k - 1)`` months to
    ``start + 12 k``. In it a feature is 1 if its onset month is at or before the
    year's first month, so a fact enters the hazard only from the year after it
    became known (a demand made at the start counts from year 1). ``lost`` is 1
    in the year the loss falls in, and the case leaves the data then. A
    still-running case contributes the years it was observed in full
    (right-censored); years beyond ``max_years`` are not used.

    Returns
    -------
    pandas.DataFrame
        ``case_id, patron, shock, year, lost`` and every feature.
    """
    import pandas as pd

    loss = loss_month(cases, outcome)
    end = end_month(cases, outcome)
    rows = []
    for i, case in enumerate(cases.itertuples(index=False)):
        months = end[i] - case.start
        if np.isnan(loss[i]):
            last, lost_in = int(months // 12), None
        else:
            last = lost_in = int(months // 12) + 1
        for k in range(1, min(last, max_years) + 1):
            begin = case.start + 12 * (k - 1)
            row = {"case_id": case.case_id, "patron": case.patron, "shock": case.shock,
                   "year": k, "lost": int(k == lost_in)}
            row.update({f: int(getattr(case, f)) for f in STATIC})
            for f in TIME_VARYING:
                onset = getattr(case, f)
                row[f] = int(not np.isnan(onset) and onset <= begin)
            rows.append(row)
    return pd.DataFrame(rows)


def known_at(cases: pd.DataFrame, origin_years: int, *, outcome: OutcomeKind = "facility",
             window_years: int = 5) -> pd.DataFrame:
    """Each case as known ``origin_years`` into its episode, and how it turned out.

    Returns
    -------
    pandas.DataFrame
        ``case_id, patron, shock, at_risk`` (not lost before the origin, and
        observed to it), the features known at the origin (onset at or before
        it), and ``kept`` - 1 if not lost by ``start + window_years``, 0 if lost
        before, NaN if censored before the window closed.
    """
    import pandas as pd

    loss = loss_month(cases, outcome)
    end = end_month(cases, outcome)
    origin = cases["start"].to_numpy(dtype=float) + 12 * origin_years
    close = cases["start"].to_numpy(dtype=float) + 12 * window_years
    at_risk = (np.isnan(loss) | (loss >= origin)) & (end >= origin)
    kept = np.where(~np.isnan(loss) & (loss < close), 0.0,
                    np.where(end >= close, 1.0, np.nan))
    frame = {"case_id": cases["case_id"], "patron": cases["patron"], "shock": cases["shock"],
             "at_risk": at_risk, **_features_by(cases, origin), "kept": kept}
    return pd.DataFrame(frame)


def _features_by(cases: pd.DataFrame, month: np.ndarray) -> dict[str, Any]:
    """Each feature of each case, 0/1: the start features, and each time-varying one
    whose onset is at or before that case's ``month``."""
    out: dict[str, Any] = {f: cases[f].astype(int) for f in STATIC}
    for f in TIME_VARYING:
        onset = cases[f].to_numpy(dtype=float)
        out[f] = (~np.isnan(onset) & (onset <= month)).astype(int)
    return out


def class_as_of(cases: pd.DataFrame, events: pd.DataFrame, date: dt.date
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference class as it was known on ``date`` (no hindsight).

    Dates are months, so only what is dated in a month before ``date``'s month counts
    as known (an event in that month may have come after the date). Cases starting in
    or after that month are dropped; events dated in it or after are dropped (a
    time-varying onset, an exit or a loss of the facility then is not yet known); an
    episode still running then, or censored later, is censored at the month before.
    :func:`case_years`, :func:`known_at` and :func:`forecast.skill.kaplan_meier` of the
    result end there. ``attrs`` keep the files' hash and add ``known_at`` (ISO date).
    """
    cut = month_of(date)
    kept = cases[cases["start"] < cut].copy()
    for column in (*TIME_VARYING, "exit", "facility_exit", "censored"):
        values = kept[column].to_numpy(dtype=float)
        kept[column] = np.where(values < cut, values, np.nan)  # NaN < cut is False too
    running = np.isnan(kept["exit"].to_numpy(dtype=float))
    censored = kept["censored"].to_numpy(dtype=float)
    kept["censored"] = np.where(running & np.isnan(censored), cut - 1.0, censored)
    ids = set(kept["case_id"])
    dated = events["month"].to_numpy(dtype=float)
    known = events[events["case_id"].isin(ids) & ~(dated >= cut)].copy()  # undated stay
    kept, known = kept.reset_index(drop=True), known.reset_index(drop=True)
    for frame in (kept, known):
        frame.attrs = {**cases.attrs, "known_at": date.isoformat()}
    return kept, known
