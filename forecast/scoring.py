"""Score our own forecasts once a question resolves: ``resolve`` and ``score``.

One job: record a question's resolution atomically in ``priors/<q>/resolution.yaml``
(once, validated) and score the forecast's whole history against it, time-averaged
over days as forecasting platforms do, beside the reference class's base rate and
a 50% forecast.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from forecast.config import (
    ConfigError,
    Identifier,
    QuestionConfig,
    format_validation_error,
    load_question,
    read_yaml,
)
from forecast.reference import OUTCOME, brier_score, default_path, load_cases, log_score

if TYPE_CHECKING:
    import pandas as pd

RESOLUTION_FILE = "resolution.yaml"
#: Joint outcomes of ``forecast.news.history`` and how they follow from the bases.
JOINT = {"all": all, "any": any}


class ResolutionError(ConfigError):
    """A resolution is invalid, a second one, or missing when scoring."""


class Resolution(BaseModel):
    """The content of ``resolution.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    question: Identifier
    date: dt.date
    outcomes: dict[Identifier, Literal[0, 1]]
    recorded: dt.date

    @model_validator(mode="after")
    def _some(self) -> Resolution:
        if not self.outcomes:
            raise ValueError("outcomes: give at least one base")
        return self


def _config(question_dir: str | Path | QuestionConfig) -> QuestionConfig:
    if isinstance(question_dir, QuestionConfig):
        return question_dir
    return load_question(question_dir)


def _as_date(value: dt.date | str, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ResolutionError([f"{where}: date: not an ISO date YYYY-MM-DD (got {value!r})"]
                              ) from None


def resolve(question_dir: str | Path | QuestionConfig, outcomes: dict[str, int],
            date: dt.date | str, *, today: dt.date | None = None) -> Path:
    """Record how a question resolved, once, in ``<question_dir>/resolution.yaml``.

    Parameters
    ----------
    question_dir
        The question directory (or its loaded config).
    outcomes
        ``{base: 0 or 1}`` for every base of the question.
    date
        The resolution date; not before the question's ``created`` date.
    today
        The recording date written to the file (default: the system date).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ResolutionError
        For an unknown or missing base, a value other than 0/1, a date before
        ``created``, or an existing resolution. Nothing is written on error.
    """
    config = _config(question_dir)
    path = config.directory / RESOLUTION_FILE
    where = str(path)
    date = _as_date(date, where)
    problems = []
    if path.exists():
        raise ResolutionError([f"{where}: the question is already resolved; a resolution is "
                               "recorded once (remove the file by hand to correct it)"])
    unknown = sorted(set(outcomes) - set(config.bases))
    missing = [b for b in config.bases if b not in outcomes]
    if unknown:
        problems.append(f"{where}: outcomes: unknown bases {unknown}; allowed: {config.bases}")
    if missing:
        problems.append(f"{where}: outcomes: missing bases {missing}; resolve every base at once")
    for base, value in outcomes.items():
        is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if not is_int or value not in (0, 1):
            problems.append(f"{where}: outcomes.{base}: must be 0 or 1 (got {value!r})")
    if date < config.question.created:
        problems.append(f"{where}: date: {date} is before the question was created "
                        f"({config.question.created})")
    if problems:
        raise ResolutionError(problems)
    try:
        record = Resolution(schema_version=1, question=config.id, date=date,
                            outcomes={b: int(outcomes[b]) for b in config.bases},
                            recorded=today or dt.date.today())
    except ValidationError as exc:
        raise ResolutionError(format_validation_error(path, exc)) from None
    text = ("# How the question resolved; recorded once by `forecast resolve`.\n"
            + yaml.safe_dump(record.model_dump(mode="json"), sort_keys=False))
    _write_once(path, text)
    return path


def _write_once(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, refusing to replace an existing file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails if another resolution got there first
        except FileExistsError:
            raise ResolutionError([f"{path}: the question is already resolved"]) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_resolution(question_dir: str | Path | QuestionConfig) -> Resolution:
    """Read and validate a question's ``resolution.yaml``.

    Raises
    ------
    ResolutionError
        If the question is unresolved or the file is invalid.
    """
    config = _config(question_dir)
    path = config.directory / RESOLUTION_FILE
    if not path.exists():
        raise ResolutionError([f"{path}: the question is not resolved yet (run forecast resolve)"])
    data, _ = read_yaml(path)
    try:
        res = Resolution.model_validate(data)
    except ValidationError as exc:
        raise ResolutionError(format_validation_error(path, exc)) from None
    if res.question != config.id or set(res.outcomes) != set(config.bases):
        raise ResolutionError([f"{path}: does not match question {config.id!r} and its bases "
                               f"{config.bases}"])
    return res


def reference_base_rate(cases_csv: str | Path | None = None) -> float:
    """The reference class's base rate of retention, ``(k + 1) / (n + 2)`` (Laplace's rule)."""
    cases = load_cases(cases_csv if cases_csv is not None else default_path("cases.csv"))
    y = cases[OUTCOME].to_numpy(dtype=float)
    return float((y.sum() + 1) / (y.size + 2))


def _missing(value) -> bool:
    """The prior row's date: None (or NaN/NaT once it has been through pandas or JSON)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return False


def _row_date(value, start: dt.date) -> dt.date:
    return start if _missing(value) else _as_date(value, "history")


def daily_forecasts(history_df: pd.DataFrame, outcome: str, start: dt.date, end: dt.date
                    ) -> np.ndarray:
    """The probability standing on each day in ``[start, end)`` for one outcome.

    A row's forecast stands from its date until the next row's; the prior row
    (date None) is dated ``start``. Of several rows on one day the last stands.
    Rows dated on or after ``end`` are ignored. With ``end == start`` the single
    day ``start`` is scored.
    """
    rows = history_df[history_df["outcome"] == outcome]
    if rows.empty:
        raise ValueError(f"the history has no rows for outcome {outcome!r}")
    dates = [_row_date(d, start) for d in rows["date"]]
    order = sorted(range(len(dates)), key=lambda i: (dates[i], i))  # stable within a day
    days = max((end - start).days, 1)
    out = np.full(days, np.nan)
    for i in order:
        first = (dates[i] - start).days
        if first >= days:
            continue
        out[max(first, 0):] = float(rows["p"].iloc[i])
    if np.isnan(out).any():
        raise ValueError(f"no forecast stands on {start} for {outcome!r}: the history must start "
                         "with the prior (date None) or a row on the first day")
    return out


def score(question_dir: str | Path | QuestionConfig, history_df: pd.DataFrame, *,
          base_rate: float | None = None, cases_csv: str | Path | None = None) -> pd.DataFrame:
    """Time-averaged Brier and log scores of the forecast's history, beside baselines.

    Every day from the start to the resolution date is scored with the forecast
    standing that day, and the daily scores are averaged (as Metaculus and Good
    Judgment Open do), so a forecast that was right early earns more than one
    that came round at the end. The start is the question's ``created`` date or
    the earliest ledger date in the history, whichever is earlier; the prior row
    (date None) stands from the start.

    Parameters
    ----------
    question_dir
        The resolved question.
    history_df
        From :func:`forecast.news.history`: columns ``date, outcome, p, ...``.
    base_rate
        The reference-class base rate; default :func:`reference_base_rate` of
        ``priors/reference_class/cases.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per (outcome, forecaster) with ``resolved``, ``brier``,
        ``log_score`` (mean natural log of the probability of what happened),
        ``n_days``, ``start``, ``end`` and ``n_forecasts``. Forecasters:
        ``forecast``, ``base_rate``, ``fifty``. Outcomes: each base, and ``all``
        and ``any`` when the history has them.
    """
    import pandas as pd

    config = _config(question_dir)
    res = load_resolution(config)
    if base_rate is None:
        base_rate = reference_base_rate(cases_csv)
    if not 0.0 < base_rate < 1.0:
        raise ValueError(f"base_rate must be in (0, 1) (got {base_rate})")
    dated = [_as_date(d, "history") for d in history_df["date"] if not _missing(d)]
    start = min([config.question.created, *dated])
    end = res.date
    resolved = {b: int(v) for b, v in res.outcomes.items()}
    kept = [bool(v) for v in resolved.values()]
    for name, fn in JOINT.items():
        resolved[name] = int(fn(kept))
    outcomes = [o for o in [*config.bases, *JOINT] if o in set(history_df["outcome"])]
    rows = []
    for outcome in outcomes:
        y = resolved[outcome]
        daily = daily_forecasts(history_df, outcome, start, end)
        n_forecasts = sum(1 for d in history_df.loc[history_df["outcome"] == outcome, "date"]
                          if _row_date(d, start) < max(end, start + dt.timedelta(days=1)))
        for name, p in (("forecast", daily), ("base_rate", np.full(daily.size, base_rate)),
                        ("fifty", np.full(daily.size, 0.5))):
            ys = np.full(daily.size, y)
            rows.append({"outcome": outcome, "resolved": y, "forecaster": name,
                         "brier": brier_score(p, ys), "log_score": log_score(p, ys),
                         "n_days": int(daily.size), "start": start, "end": end,
                         "n_forecasts": n_forecasts if name == "forecast" else 1})
    return pd.DataFrame(rows)
