"""A crowd's timeline of probabilities: read and check its CSV, keep a copy, read it back.

One job: read and validate a crowd's published probabilities (a CSV, e.g. downloaded
from a forecasting platform; every problem named by file, line and field), import it
atomically as ``priors/<q>/crowd.csv``, load the imported copy, and put the record of
issued forecasts in the same shape, so that :mod:`forecast.scoring` and the history
chart can set the two side by side.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from forecast.config import QuestionConfig, load_question
from forecast.errors import ConfigError, CrowdError
from forecast.files import atomic_write, read_text
from forecast.record import record_table

if TYPE_CHECKING:
    import pandas as pd


def _config(question_dir: str | Path | QuestionConfig) -> QuestionConfig:
    if isinstance(question_dir, QuestionConfig):
        return question_dir
    return load_question(question_dir)


CROWD_FILE = "crowd.csv"
#: The crowd CSV's columns: the first name present is used. The second names are those
#: of ``forecast record --csv`` (``issued``, ``p``), so the record exports as a crowd.
DATE_COLUMNS = ("date", "issued")
PROBABILITY_COLUMNS = ("probability", "p")
#: Names of the joint outcomes in a crowd CSV: the tables' and the record's.
JOINT_NAMES = {"all": "all", "both": "all", "any": "any", "either": "any"}
#: Problems listed per file before "... and N more".
MAX_PROBLEMS = 12
CROWD_COLUMNS = ["line", "when", "date", "outcome", "probability"]


def crowd_path(config: QuestionConfig) -> Path:
    """Where ``forecast crowd import`` keeps a question's crowd timeline."""
    return config.directory / CROWD_FILE


def _parse_when(text: str) -> tuple[dt.datetime, bool]:
    """A date (midnight UTC) or an ISO time (a time without a zone is UTC); timed?"""
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), False
    when = dt.datetime.fromisoformat(text)
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return when, True


def read_crowd(path: str | Path, question: str | Path | QuestionConfig, *,
               outcome: str | None = None) -> pd.DataFrame:
    """Read and check a crowd's timeline of probabilities from a CSV file.

    The file has a header line and one row per published probability: ``date`` (an ISO
    date ``YYYY-MM-DD``, or a time ``YYYY-MM-DDTHH:MM:SSZ``; without a zone, UTC),
    ``outcome`` (a base of the question, ``all``/``both`` or ``any``/``either``) and
    ``probability`` (a fraction in [0, 1]). Other columns are ignored, so the output of
    ``forecast record --csv`` (``issued``, ``outcome``, ``p``, ...) reads as a crowd.
    Without an ``outcome`` column every row is for ``outcome`` (a platform's download of
    one question: ``date,probability``).

    Returns
    -------
    pandas.DataFrame
        ``line`` (of the file), ``when`` (UTC), ``date`` (its UTC day), ``outcome`` (in
        the tables' names: a base, ``all``, ``any``) and ``probability``, in time order
        (rows of one time in file order).

    Raises
    ------
    CrowdError
        Naming the file, the line and the field of every problem (a bad date, a
        probability outside [0, 1], an unknown outcome, a missing column).
    """
    import pandas as pd

    config = _config(question)
    where = str(path)
    try:
        text, _ = read_text(path, encoding="utf-8-sig")
    except ConfigError as exc:  # missing, unreadable, too large or not UTF-8
        raise CrowdError(exc.problems) from None
    names = {b: b for b in config.bases} | JOINT_NAMES
    allowed = ", ".join([*config.bases, "all (or both)", "any (or either)"])
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise CrowdError([f"{where}: empty: give a header line date,outcome,probability and "
                          "one row per published probability"])
    header = [h.strip().lower() for h in header]
    problems = []

    def column(options: tuple[str, ...], what: str) -> int | None:
        found = next((header.index(c) for c in options if c in header), None)
        if found is None:
            problems.append(f"{where}: line 1: no {what} column: the header needs "
                            f"{' or '.join(options)} (it has {', '.join(header)})")
        return found

    i_date = column(DATE_COLUMNS, "date")
    i_p = column(PROBABILITY_COLUMNS, "probability")
    i_outcome = header.index("outcome") if "outcome" in header else None
    if i_outcome is None and outcome is None:
        problems.append(f"{where}: line 1: no outcome column: add one (a base, all or any) or "
                        "say which outcome the file is for (forecast crowd import --outcome)")
    if i_outcome is not None and outcome is not None:
        problems.append(f"{where}: line 1: the file has an outcome column; --outcome is only "
                        "for a file without one")
    if outcome is not None and outcome not in names:
        problems.append(f"{where}: --outcome: unknown outcome {outcome!r}; allowed: {allowed}")
    if problems:
        raise CrowdError(problems)
    rows = []
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue  # a blank line
        if len(fields) != len(header):
            problems.append(f"{where}: line {line}: has {len(fields)} fields, the header "
                            f"{len(header)}")
            continue
        bad = len(problems)
        raw = fields[i_date].strip()
        try:
            when, _ = _parse_when(raw)
        except ValueError:
            problems.append(f"{where}: line {line}: {header[i_date]}: not an ISO date or time "
                            f"(got {raw!r}); write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
        raw = fields[i_p].strip()
        try:
            p = float(raw)
        except ValueError:
            p = None
            percent = _number(raw[:-1]) if raw.endswith("%") else None
            hint = (f"; write a fraction: {percent / 100:g} for {raw}" if percent is not None
                    else "; write a fraction between 0 and 1")
            problems.append(f"{where}: line {line}: {header[i_p]}: not a number (got "
                            f"{raw!r}){hint}")
        if p is not None and not (math.isfinite(p) and 0.0 <= p <= 1.0):
            problems.append(f"{where}: line {line}: {header[i_p]}: {raw} is outside [0, 1]; "
                            "a probability is a fraction between 0 and 1")
        name = outcome if i_outcome is None else fields[i_outcome].strip()
        if name not in names:
            problems.append(f"{where}: line {line}: outcome: unknown outcome {name!r}; "
                            f"allowed: {allowed}")
        if len(problems) == bad:
            rows.append({"line": line, "when": when, "date": when.date(),
                         "outcome": names[name], "probability": p})
    if not problems and not rows:
        problems.append(f"{where}: no rows after the header: give one row per published "
                        "probability")
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"{where}: ... and {len(problems) - MAX_PROBLEMS} more problem(s)")
        raise CrowdError(shown)
    table = pd.DataFrame(rows, columns=CROWD_COLUMNS)
    table["when"] = pd.to_datetime(table["when"], utc=True)
    return table.sort_values(["when", "line"], kind="stable").reset_index(drop=True)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def crowd_csv(table: pd.DataFrame) -> bytes:
    """A timeline in the crowd CSV's own shape: ``date,outcome,probability``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "outcome", "probability"])
    for r in table.itertuples():
        when = r.when.to_pydatetime()
        text = (when.date().isoformat() if when.time() == dt.time() else
                when.isoformat().replace("+00:00", "Z"))
        writer.writerow([text, r.outcome, repr(float(r.probability))])
    return out.getvalue().encode("utf-8")


def import_crowd(question: str | Path | QuestionConfig, source: str | Path, *,
                 outcome: str | None = None) -> tuple[Path, pd.DataFrame]:
    """Check a crowd CSV and keep a copy as the question's ``crowd.csv`` (atomically).

    The copy is written in the crowd CSV's own shape (``date,outcome,probability``,
    time order) and replaces an earlier import: a crowd's timeline grows, and the file
    is a copy of the crowd's, not a record of ours.

    Raises
    ------
    CrowdError
        If the file is invalid (see :func:`read_crowd`); nothing is written.
    """
    config = _config(question)
    table = read_crowd(source, config, outcome=outcome)
    path = crowd_path(config)
    atomic_write(path, crowd_csv(table))
    return path, table


def load_crowd(question: str | Path | QuestionConfig) -> pd.DataFrame | None:
    """The question's imported crowd timeline (``crowd.csv``), or None if there is none."""
    config = _config(question)
    path = crowd_path(config)
    return read_crowd(path, config) if path.exists() else None


def record_timeline(entries: list[dict]) -> pd.DataFrame:
    """The record's issued forecasts in the crowd's shape (:func:`read_crowd`'s columns)."""
    import pandas as pd

    table = record_table(entries)
    out = pd.DataFrame({"line": table["entry"], "when": pd.to_datetime(table["issued"],
                                                                      utc=True),
                        "outcome": table["outcome"], "probability": table["p"].astype(float)})
    out["date"] = [w.date() for w in out["when"]]
    return out[CROWD_COLUMNS]
