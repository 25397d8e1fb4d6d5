"""A synthetic dated reference class with known hazards, written as cases.csv + events.csv."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from forecast.reference_data import CASE_COLUMNS, EVENT_COLUMNS, TIME_VARYING


def month(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def write_synthetic(directory: Path, *, n: int = 60, seed: int = 1, observed_to: str = "2026-11",
                    hazard_demand: float = 0.35, hazard_none: float = 0.06,
                    consequence: bool = False, front_loaded: bool = False) -> Path:
    """``n`` cases: each time-varying feature switches on at 15% a year; the yearly hazard of
    loss is ``hazard_demand`` once a host demand is on and ``hazard_none`` otherwise.

    ``consequence``: violence comes only as a consequence of the loss, one month before it
    (coded over the episode it predicts the outcome perfectly; known at an origin, never).
    ``front_loaded``: the hazard is ``hazard_demand`` in the first year and 0 after it.
    """
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    end = int(observed_to[:4]) * 12 + int(observed_to[5:]) - 1
    cases, events = [], []
    for i in range(n):
        start = (1950 + int(rng.integers(0, 70))) * 12 + int(rng.integers(0, 12))
        patron = ["A", "B", "C", "Moscow"][i % 4]
        shock = f"shock_{i // 2}"  # pairs of cases share a shock
        cid = f"case_{i:03d}"
        cases.append({"case_id": cid, "patron": patron, "host": f"H{i}", "bases": "Base",
                      "shock": shock, "start_date": month(start), "start_precision": "month",
                      "regime_change": int(rng.random() < 0.5), "treaty": int(rng.random() < 0.7),
                      "notes": "synthetic", "source": "synthetic", "entered": "2026-12-01"})
        onset = {f: None for f in TIME_VARYING}
        if rng.random() < 0.4:
            onset["host_demand"] = start
        t, lost = start, None
        while t + 12 <= end and t < start + 12 * 12:
            demand = onset["host_demand"] is not None and onset["host_demand"] <= t
            h = hazard_demand if demand else hazard_none
            if front_loaded:
                h = hazard_demand if t == start else 0.0
            if rng.random() < h:
                lost = t + int(rng.integers(0, 12))
                break
            for f in TIME_VARYING:
                if consequence and f == "violence":
                    continue
                if onset[f] is None and rng.random() < 0.15:
                    onset[f] = t + int(rng.integers(0, 12))
            t += 12
        if consequence and lost is not None:
            onset["violence"] = lost - 1
        for f, m in onset.items():
            if m is not None and (lost is None or m < lost):
                events.append({"case_id": cid, "event": f, "date": month(m),
                               "precision": "month", "note": "synthetic", "source": "synthetic"})
        if lost is not None:
            events.append({"case_id": cid, "event": "exit", "date": month(lost),
                           "precision": "month", "note": "synthetic", "source": "synthetic"})
        else:
            events.append({"case_id": cid, "event": "censored", "date": month(min(t, end)),
                           "precision": "month", "note": "synthetic", "source": "synthetic"})
    for name, cols, rows in (("cases.csv", CASE_COLUMNS, cases),
                             ("events.csv", EVENT_COLUMNS, events)):
        with open(directory / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(cols))
            w.writeheader()
            w.writerows(rows)
    return directory


#: The shipped question's creation date (``priors/russia_syria_bases/question.yaml``).
CREATED = dt.date(2024, 12, 9)


def synthetic_hazard_fit(directory: Path, *, beta=(0.0, 0.0, 1.5, 0.8, 0.7, -0.6, -0.4),
                         n_draws: int = 4000, seed: int = 7, known_at: dt.date | None = CREATED,
                         write: bool = True):
    """A :class:`forecast.hazard.HazardFit` whose posterior draws are known (no MCMC):
    coefficients ``beta`` (in :data:`forecast.hazard.FEATURES` order) with sd 0.3, on the
    synthetic class in ``directory`` (written there unless ``write`` is False) as known at
    ``known_at`` (None: everything; for its onset rates and blank probabilities)."""
    import xarray as xr

    from forecast import hazard
    from forecast.reference_data import case_years, class_as_of, load_reference

    if write:
        write_synthetic(directory)
    cases, events = load_reference(directory)
    if known_at is not None:
        cases, events = class_as_of(cases, events, known_at)
    settings = hazard.load_settings()
    data = case_years(cases, outcome=settings.outcome, max_years=settings.max_years)
    rng = np.random.default_rng(seed)
    shape = (2, n_draws // 2)
    patrons = list(dict.fromkeys(settings.group(p) for p in data["patron"]))
    shocks = list(dict.fromkeys(data["shock"]))
    bands = len(settings.duration_breaks) + 1
    post = xr.Dataset(
        {"baseline": (("chain", "draw", "band"),
                      rng.normal([-1.2, -1.8, -2.2, -2.6], 0.2, size=(*shape, bands))),
         "sigma_patron": (("chain", "draw"), np.abs(rng.normal(0.4, 0.1, shape))),
         "sigma_shock": (("chain", "draw"), np.abs(rng.normal(0.3, 0.1, shape))),
         "z_patron": (("chain", "draw", "patron"), rng.normal(0, 1, (*shape, len(patrons)))),
         "z_shock": (("chain", "draw", "shock"), rng.normal(0, 1, (*shape, len(shocks)))),
         "beta": (("chain", "draw", "feature"),
                  rng.normal(beta, 0.3, size=(*shape, len(hazard.FEATURES))))},
        coords={"chain": [0, 1], "draw": np.arange(shape[1]), "band": np.arange(bands),
                "patron": patrons, "shock": shocks, "feature": list(hazard.FEATURES)})
    tree = xr.DataTree.from_dict({"posterior": post})
    return hazard.HazardFit(tree, {"passed": True, "failures": []}, cases, data, settings)
