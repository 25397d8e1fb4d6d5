"""Score the record of issued forecasts once a question resolves, as platforms do.

One job: record a question's resolution atomically in ``priors/<q>/resolution.yaml``
(once, validated) and score the record
(:mod:`forecast.record`) time-averaged over the question's open period: Brier on
[0, 1], Good Judgment Open's two-category Brier on [0, 2], the log score and
Metaculus's baseline score, per base and for the joint outcomes, beside the crowd,
the reference class converted to the question's horizon and a 50% forecast, with a
peer score (Metaculus) of the record against the crowd. The reconstruction
(:func:`forecast.news.history`) can be scored too, as ``hindsight``. The crowd's
timeline is read by :mod:`forecast.crowd`, whose names are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from forecast.config import (
    Identifier,
    QuestionConfig,
    format_validation_error,
    horizon_years,
    load_question,
    read_yaml,
)

# The crowd's timeline lives in forecast.crowd; its names are imported from here too.
from forecast.crowd import (  # noqa: F401
    CROWD_COLUMNS,
    CROWD_FILE,
    DATE_COLUMNS,
    JOINT_NAMES,
    MAX_PROBLEMS,
    PROBABILITY_COLUMNS,
    CrowdError,
    _number,
    _parse_when,
    crowd_csv,
    crowd_path,
    import_crowd,
    load_crowd,
    read_crowd,
    record_timeline,
)
from forecast.errors import ResolutionError
from forecast.files import atomic_write
from forecast.record import read_record
from forecast.reference_cases import OUTCOME, WINDOW_YEARS, load_cases

if TYPE_CHECKING:
    import pandas as pd

RESOLUTION_FILE = "resolution.yaml"
#: Joint outcomes of ``forecast.news.history`` and how they follow from the bases.
JOINT = {"all": all, "any": any}


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
    try:  # fails if another resolution got there first
        atomic_write(path, text, exclusive=True)
    except FileExistsError:
        raise ResolutionError([f"{path}: the question is already resolved"]) from None


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
    """The reference class's five-year rate of retention.

    For an old-format cases CSV (one ``retained_5y`` per case), Laplace's rule
    ``(k + 1) / (n + 2)``; without one, the shipped dated class's Kaplan-Meier rate at
    five years (:func:`forecast.reference_data.kaplan_meier`), which counts the cases
    still running for the years they were seen.
    """
    if cases_csv is None:
        from forecast.reference_data import kaplan_meier, load_reference

        return kaplan_meier(load_reference()[0], float(WINDOW_YEARS))
    cases = load_cases(cases_csv)
    y = cases[OUTCOME].to_numpy(dtype=float)
    return float((y.sum() + 1) / (y.size + 2))


def comparison_forecast(config: QuestionConfig, rate: float | None = None) -> dict[str, float]:
    """The comparison forecaster: the reference rate at the question's horizon, coherent.

    The one place where the reference class's rate over its window (five years) becomes
    a forecast for this question, so that a hazard model of the reference class can
    replace it: each base is kept with ``P_h = rate ** (h / 5)`` (a constant hazard, as
    ``forecast reference link`` converts it), ``h`` the years from the question's
    ``created`` date to its horizon. The joint outcomes follow from the question's
    ``outcome_dependence`` lambda, as the model joins the bases (:mod:`forecast.exact`):
    independent with probability ``1 - lambda``, one draw deciding all with probability
    ``lambda``, so that ``P(all) <= P(each base) <= P(any)``.

    Returns
    -------
    dict
        ``{base: P_h, ..., "all": P(all kept), "any": P(at least one kept)}``.
    """
    if rate is None:  # read the dated class's survival curve at the horizon itself
        from forecast.reference_data import kaplan_meier, load_reference

        p = min(max(kaplan_meier(load_reference()[0], horizon_years(config.question)),
                    0.01), 0.99)
    elif not 0.0 < rate < 1.0:
        raise ValueError(f"the reference rate must be in (0, 1) (got {rate})")
    else:
        p = rate ** (horizon_years(config.question) / WINDOW_YEARS)
    lam = float(config.model.outcome_dependence.value)
    n = len(config.bases)
    every = (1.0 - lam) * p ** n + lam * p
    none = (1.0 - lam) * (1.0 - p) ** n + lam * (1.0 - p)
    return {**dict.fromkeys(config.bases, p), "all": every, "any": 1.0 - none}


# ------------------------------------------------------------------ standing forecasts


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


def _days(start: dt.date, end: dt.date) -> int:
    """Days scored from ``start`` to ``end`` (exclusive); one when they are the same day."""
    return max((end - start).days, 1)


def standing(dates: list[dt.date], p: list[float], start: dt.date, end: dt.date) -> np.ndarray:
    """The probability standing on each day of ``[start, end)``; NaN before the first.

    Each forecast stands from its day until the next one's; of several on one day the
    last (in the given order) stands the whole day. A forecast dated before ``start``
    stands from ``start``; one dated on or after ``end`` is ignored.
    """
    days = _days(start, end)
    out = np.full(days, np.nan)
    for i in sorted(range(len(dates)), key=lambda i: (dates[i], i)):  # stable within a day
        first = (dates[i] - start).days
        if first < days:
            out[max(first, 0):] = float(p[i])
    return out


def daily_forecasts(history_df: pd.DataFrame, outcome: str, start: dt.date, end: dt.date
                    ) -> np.ndarray:
    """The reconstruction's probability on each day in ``[start, end)`` for one outcome.

    ``history_df`` is :func:`forecast.news.history`: a row's forecast stands from its
    date until the next row's; the prior row (date None) comes before every dated row
    and stands from ``start``. Of several rows on one day the last stands. With
    ``end == start`` the single day ``start`` is scored.
    """
    rows = history_df[history_df["outcome"] == outcome]
    if rows.empty:
        raise ValueError(f"the history has no rows for outcome {outcome!r}")
    dated = [None if _missing(d) else _as_date(d, "history") for d in rows["date"]]
    first = min([start, *(d for d in dated if d is not None)])
    out = standing([first if d is None else d for d in dated],
                   [float(v) for v in rows["p"]], start, end)
    if np.isnan(out).any():
        raise ValueError(f"no forecast stands on {start} for {outcome!r}: the history must start "
                         "with the prior (date None) or a row on the first day")
    return out


# ------------------------------------------------------------------ the rules

#: Log-based scores take the probability of what happened within Metaculus's bounds
#: (binary predictions are restricted to 0.1%-99.9% there), so that none is infinite.
CLIP = (0.001, 0.999)
#: The forecasters of :func:`score`, in table order.
FORECASTERS = ("record", "crowd", "reference", "fifty", "hindsight")
RULES = ("brier", "gjo_brier", "log_score", "baseline")


def daily_scores(p: np.ndarray, y: int) -> dict[str, np.ndarray]:
    """Each rule's score of each day's probability ``p`` of YES when the outcome is ``y``.

    ``brier``: ``(p - y)**2`` on [0, 1], lower is better. ``gjo_brier``: Good Judgment
    Open's Brier, summed over both categories (YES and NO), on [0, 2]; for a binary
    question twice the first. ``log_score``: ``ln P(what happened)``, higher is better.
    ``baseline``: Metaculus's binary baseline score ``100 (log2 P(what happened) + 1)``:
    0 for 50%, 100 for certainty. Log-based rules clip to :data:`CLIP`.
    """
    p = np.asarray(p, dtype=float)
    happened = np.clip(p if y == 1 else 1.0 - p, *CLIP)
    return {"brier": (p - y) ** 2,
            "gjo_brier": (p - y) ** 2 + ((1.0 - p) - (1 - y)) ** 2,
            "log_score": np.log(happened),
            "baseline": 100.0 * (np.log2(happened) + 1.0)}


def _log_happened(p: np.ndarray, y: int) -> np.ndarray:
    return np.log(np.clip(p if y == 1 else 1.0 - p, *CLIP))


def _scores(daily: np.ndarray, y: int) -> dict:
    """The time-averaged scores of one forecaster's daily probabilities (NaN: none stands).

    Brier, GJO Brier and log: the mean over the days a forecast stood. Baseline: the sum
    over those days over every day of the open period (0 before the first forecast, as
    Metaculus scores the days before a prediction).
    """
    stood = ~np.isnan(daily)
    n = int(stood.sum())
    s = daily_scores(daily[stood], y)
    mean = {k: float(v.mean()) if n else float("nan") for k, v in s.items()}
    mean["baseline"] = float(s["baseline"].sum() / daily.size)
    return {**mean, "days_scored": n, "coverage": n / daily.size}


def peer_score(ours: np.ndarray, crowd: np.ndarray, y: int) -> tuple[float, int]:
    """Metaculus's peer idea against one crowd: ``100 * mean(ln p - ln q)`` over the days
    both stand (``p`` ours, ``q`` the crowd's, each the probability of what happened).

    Returns the score (NaN without a common day) and the number of common days.
    """
    both = ~np.isnan(ours) & ~np.isnan(crowd)
    n = int(both.sum())
    if not n:
        return float("nan"), 0
    diff = _log_happened(ours[both], y) - _log_happened(crowd[both], y)
    return float(100.0 * diff.mean()), n


def _timeline_daily(table: pd.DataFrame, outcome: str, start: dt.date, end: dt.date
                    ) -> tuple[np.ndarray, int] | None:
    rows = table[table["outcome"] == outcome]
    if rows.empty:
        return None
    dates = list(rows["date"])
    daily = standing(dates, list(rows["probability"]), start, end)
    last = start + dt.timedelta(days=daily.size)
    return daily, sum(1 for d in dates if d < last)


_AUTO = object()


def score(question_dir: str | Path | QuestionConfig, history_df: pd.DataFrame | None = None, *,
          record: list[dict] | None = None, crowd=_AUTO, base_rate: float | None = None,
          cases_csv: str | Path | None = None) -> pd.DataFrame:
    """Score the record of issued forecasts as forecasting platforms do, beside others.

    The open period runs from the question's ``created`` date to its resolution date
    (each day of ``[created, resolved)``; the single day ``created`` if they are the
    same). Each issued forecast stands from the UTC day it was issued until the day
    the next was (of several issued on one day, the last stands that day); before the
    first issued forecast nothing stands: nothing had been said. The Brier, GJO Brier
    and log scores average the days a forecast stood; the baseline score averages every
    day of the open period with 0 before the first forecast (Metaculus); ``coverage``
    says what share of the period a forecast stood. See :func:`daily_scores`.

    Parameters
    ----------
    question_dir
        The resolved question.
    history_df
        Optionally :func:`forecast.news.history` (the reconstruction), scored as the
        forecaster ``hindsight``: today's model on the items dated by each day, whose
        score measures hindsight, not skill. Its prior row stands from ``created``.
    record
        The issued forecasts (default: :func:`forecast.record.read_record`).
    crowd
        A crowd timeline (:func:`read_crowd`); by default the question's imported
        ``crowd.csv`` if any; None or False for none. It is scored as the forecaster
        ``crowd``, and the record (and hindsight) get a ``peer`` score against it.
    base_rate
        The reference class's rate over its five-year window (default
        :func:`reference_base_rate`), made the forecaster ``reference`` by
        :func:`comparison_forecast`.

    Returns
    -------
    pandas.DataFrame
        One row per (outcome, forecaster): ``outcome`` (each base, ``all``, ``any``),
        ``resolved``, ``forecaster`` (``record``, ``crowd``, ``reference``, ``fifty``,
        ``hindsight``; a forecaster with no forecast for an outcome has no row),
        ``brier``, ``gjo_brier``, ``log_score``, ``baseline``, ``peer`` (100 x the mean
        difference of log scores against the crowd over ``peer_days``, the days both
        stand; NaN without a crowd), ``n_days`` (of the open period), ``days_scored``,
        ``coverage``, ``start``, ``end``, ``first`` (the first day scored) and
        ``n_forecasts`` (made before the end).
    """
    import pandas as pd

    config = _config(question_dir)
    res = load_resolution(config)
    if record is None:
        record = read_record(config)
    if crowd is _AUTO:
        crowd = load_crowd(config)
    if crowd is False:
        crowd = None
    if base_rate is None and cases_csv is not None:
        base_rate = reference_base_rate(cases_csv)
    comparison = comparison_forecast(config, base_rate)
    start, end = config.question.created, res.date
    n_days = _days(start, end)
    resolved = {b: int(v) for b, v in res.outcomes.items()}
    kept = [bool(v) for v in resolved.values()]
    resolved |= {name: int(rule(kept)) for name, rule in JOINT.items()}
    issued = record_timeline(record) if record else None
    rows = []
    for outcome in [*config.bases, "all", "any"]:
        y = resolved[outcome]
        series: dict[str, tuple[np.ndarray, int]] = {}
        for name, table in (("record", issued), ("crowd", crowd)):
            found = _timeline_daily(table, outcome, start, end) if table is not None else None
            if found is not None:
                series[name] = found
        series["reference"] = (np.full(n_days, comparison[outcome]), 1)
        series["fifty"] = (np.full(n_days, 0.5), 1)
        if history_df is not None and outcome in set(history_df["outcome"]):
            daily = daily_forecasts(history_df, outcome, start, end)
            n = sum(1 for d in history_df.loc[history_df["outcome"] == outcome, "date"]
                    if _row_date(d, start) < start + dt.timedelta(days=n_days))
            series["hindsight"] = (daily, n)
        for name in FORECASTERS:
            if name not in series:
                continue
            daily, n_forecasts = series[name]
            peer, peer_days = float("nan"), 0
            if name in ("record", "hindsight") and "crowd" in series:
                peer, peer_days = peer_score(daily, series["crowd"][0], y)
            stood = np.flatnonzero(~np.isnan(daily))
            rows.append({"outcome": outcome, "resolved": y, "forecaster": name,
                         **_scores(daily, y), "peer": peer, "peer_days": peer_days,
                         "n_days": n_days, "start": start, "end": end,
                         "first": start + dt.timedelta(days=int(stood[0])) if stood.size
                         else None, "n_forecasts": n_forecasts})
    columns = ["outcome", "resolved", "forecaster", *RULES, "peer", "n_days", "days_scored",
               "coverage", "peer_days", "start", "first", "end", "n_forecasts"]
    return pd.DataFrame(rows, columns=columns)
