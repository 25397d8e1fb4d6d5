"""What history says for a question: survival curves from the event-history model.

One job: the tidy table behind the survival chart and notebook 02. For the
question coded as a case (``reference_case.yaml``) it gives P(kept) by years
since the episode began:

* **history, as of the start** - only the start features known; every other
  feature free to switch on at its historical rate (no analyst input at all);
* **history, as of today** - conditional on the bases still being held at the
  last whole year, with every dated event since (the attack, the red line) on;
* **the analysts' model** and, when linked, **the pooled model** - their
  P(keep) at the question's horizon, one point each (those models forecast one
  date, not a curve).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from forecast.config import QuestionConfig, horizon_years
from forecast.hazard import TIME_VARYING, HazardFit, Profile, survival
from forecast.reference_data import month_index, month_of
from forecast.reference_priors import as_of_creation, case_coding

if TYPE_CHECKING:
    import pandas as pd


def _interval(x: np.ndarray, mass: float) -> tuple[float, float, float]:
    tail = (1 - mass) / 2
    lo, hi = np.quantile(x, [tail, 1 - tail])
    return float(np.mean(x)), float(lo), float(hi)


def as_of_origin(config: QuestionConfig, today: dt.date) -> tuple[float, dict[str, int]]:
    """Years since the case's start (in months) at the end of the last month checked, and
    each time-varying feature as known then (an event dated at or before that month).

    The origin is the earlier of ``today`` and ``checked_through``: the bases are known
    to have been held through the end of that month, and nothing later is known."""
    coding = case_coding(config)
    start = month_index(coding.start_date)
    now = min(month_of(today), month_index(coding.checked_through))
    known = {f: 0 for f in TIME_VARYING}
    for e in coding.events:
        if month_index(e.date) <= now:
            known[e.feature] = 1
    return max(0.0, (now + 1 - start) / 12), known


def survival_table(config: QuestionConfig, fit: HazardFit, *, today: dt.date | None = None,
                   points: dict[str, tuple[float, float, float]] | None = None,
                   step: float = 0.25) -> pd.DataFrame:
    """P(kept) by years since the start, per source, with intervals.

    No hindsight: the curve "as of the start" comes from the fit of the reference class
    as known at the question's creation (:func:`forecast.reference_priors.as_of_creation`,
    the fit the linked priors use), the curve as of today from ``fit`` (the class as
    entered), which may know what happened since.

    Parameters
    ----------
    points
        Label -> (p, lower, upper) at the question's horizon, e.g. the analysts' and
        the pooled forecasts (from :func:`forecast.engine.compute`).

    Returns
    -------
    pandas.DataFrame
        ``source, kind (curve | point), origin, year, date, p, lower, upper``; ``year``
        counts years since the case's start, ``date`` is that day.
    """
    import pandas as pd

    coding = case_coding(config)
    today = today or dt.date.today()
    mass = fit.settings.credible_mass
    start_m = month_index(coding.start_date)
    start = dt.date(start_m // 12, start_m % 12 + 1, 1)
    h = (config.question.horizon - start).days / 365.25
    top = max(5.0, np.ceil(h))
    static = {f: c.value for f, c in coding.start.items()}
    rows = []

    def add(source: str, origin: float, known: dict[str, int], fit: HazardFit) -> None:
        grid = np.unique(np.r_[np.arange(origin, top + 1e-9, step), h])
        s = survival(fit, Profile(coding.patron, static, known), origin=origin, horizons=grid)
        for j, year in enumerate(grid):
            p, lo, hi = _interval(s[:, j], mass)
            rows.append({"source": source, "kind": "curve", "origin": origin, "year": year,
                         "date": start + dt.timedelta(days=365.25 * year), "p": p,
                         "lower": lo, "upper": hi})

    start_fit = as_of_creation(config, fit)  # nothing learnt after the creation
    add(f"history, as of the start (the class as known at {start_fit.known_at})", 0,
        {f: 0 for f in TIME_VARYING}, start_fit)
    origin, known = as_of_origin(config, today)
    if origin > 0:
        on = ", ".join(f.replace("_", " ") for f, v in known.items() if v) or "no feature"
        add(f"history, as of {coding.checked_through} (kept so far; {on})", origin, known, fit)
    for label, (p, lo, hi) in (points or {}).items():
        rows.append({"source": label, "kind": "point", "origin": 0, "year": h,
                     "date": config.question.horizon, "p": p, "lower": lo, "upper": hi})
    table = pd.DataFrame(rows)
    table.attrs["horizon_years"] = h
    table.attrs["created_to_horizon"] = horizon_years(config.question)
    return table
