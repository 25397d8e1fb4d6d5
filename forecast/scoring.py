"""Score the record of issued forecasts once a question resolves, as platforms do.

One job: score the record of issued forecasts (:mod:`forecast.record`) against the
question's resolution (:mod:`forecast.resolution`), time-averaged over the question's
open period: Brier on [0, 1], Good Judgment Open's two-category Brier on [0, 2], the
log score and Metaculus's baseline score, per base and for the joint outcomes, beside
the crowd, the reference class as known at the question's creation (read at its
horizon) and a 50% forecast, with a peer score (Metaculus) of the record against the
crowd. The reconstruction (:func:`forecast.news.history`) can be scored too, as
``hindsight``. The crowd's timeline (:mod:`forecast.crowd`) and the resolution's names
are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forecast.config import QuestionConfig, horizon_years

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
from forecast.record import read_record

# The resolution record lives in forecast.resolution; its names are imported from here too.
from forecast.resolution import (  # noqa: F401
    RESOLUTION_FILE,
    Resolution,
    ResolutionError,
    as_date,
    load_resolution,
    question_config,
    resolve,
)

if TYPE_CHECKING:
    import pandas as pd

#: Joint outcomes of ``forecast.news.history`` and how they follow from the bases.
JOINT = {"all": all, "any": any}


def comparison_forecast(config: QuestionConfig, p: float | None = None, *,
                        directory: str | Path | None = None) -> dict[str, float]:
    """The comparison forecaster: the reference class's rate at the question's horizon.

    Each base is kept with ``p``, by default the Kaplan-Meier rate
    (:func:`forecast.skill.kaplan_meier`) of the dated class (``directory``, default the
    shipped one) *as known at the question's creation*
    (:func:`forecast.reference_data.class_as_of`), read off the curve at the years from
    ``created`` to the horizon, and kept within [0.01, 0.99]. The joint outcomes follow
    from the question's ``outcome_dependence`` lambda, as the model joins the bases
    (:mod:`forecast.exact`): independent with probability ``1 - lambda``, one draw
    deciding all with probability ``lambda``, so that ``P(all) <= P(each) <= P(any)``.

    Returns
    -------
    dict
        ``{base: p, ..., "all": P(all kept), "any": P(at least one kept)}``.
    """
    if p is None:
        from forecast.reference_data import class_as_of, load_reference
        from forecast.skill import kaplan_meier

        known, _ = class_as_of(*load_reference(directory), config.question.created)
        p = min(max(kaplan_meier(known, horizon_years(config.question)), 0.01), 0.99)
    elif not 0.0 < p < 1.0:
        raise ValueError(f"the comparison probability must be in (0, 1) (got {p})")
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
    return start if _missing(value) else as_date(value, "history")


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
    dated = [None if _missing(d) else as_date(d, "history") for d in rows["date"]]
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
          record: list[dict] | None = None, crowd=_AUTO, reference: float | None = None
          ) -> pd.DataFrame:
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
    reference
        The comparison forecaster's P(kept) per base at the horizon (default: the
        Kaplan-Meier rate of the class as known at ``created``); the forecaster
        ``reference`` of :func:`comparison_forecast`.

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

    config = question_config(question_dir)
    res = load_resolution(config)
    if record is None:
        record = read_record(config)
    if crowd is _AUTO:
        crowd = load_crowd(config)
    if crowd is False:
        crowd = None
    comparison = comparison_forecast(config, reference)
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
