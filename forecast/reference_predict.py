"""``forecast reference predict``: the outside view for cases described in a CSV.

One job: read cases to predict (today's columns: ``case_id`` and the seven
features; optionally ``patron``, ``start_year`` and ``origin_year``), validate
them, and give P(kept to start + 5 years | kept to the origin) from the
event-history model, with the horizon curve when asked.

A blank time-varying feature means *not yet known at the origin*: it is
integrated over, with its probability among the training cases at risk at that
origin with the same start features (:func:`forecast.hazard.blank_probability`).
The start features (``regime_change``, ``treaty``) must be given. Without
``origin_year`` the description holds at the start (origin 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forecast.config import ConfigError
from forecast.hazard import FEATURES, STATIC, TIME_VARYING, HazardFit, Profile, survival
from forecast.reference_data import read_header

if TYPE_CHECKING:
    import pandas as pd

#: Columns a case to predict may have; ``case_id`` and the start features are required.
COLUMNS = ("case_id", "patron", "host", "bases", "start_year", "origin_year", *FEATURES,
           "retained_5y", "notes", "source")
REQUIRED = ("case_id", *STATIC)


def read_cases(path: str | Path) -> list[dict]:
    """Validated cases: ``case_id, patron, origin`` (years into the episode), ``static``
    and ``known`` (a time-varying feature's 0/1, or None when blank).

    Raises
    ------
    ConfigError
        ``file: line N (case_id X): column: problem`` for every bad cell.
    """
    path = Path(path)
    reader, _ = read_header(path, REQUIRED, COLUMNS)
    header = reader.fieldnames
    out, problems, seen = [], [], set()
    for n, rec in enumerate(reader, start=2):
        if None in rec or any(v is None for v in rec.values()):
            problems.append(f"{path}: line {n}: (row): not {len(header)} cells")
            continue
        rec = {k: (v or "").strip() for k, v in rec.items()}
        where = f"{path}: line {n} (case_id {rec['case_id'] or '?'!r})"
        if not rec["case_id"]:
            problems.append(f"{where}: case_id: is empty")
        elif rec["case_id"] in seen:
            problems.append(f"{where}: case_id: duplicate")
        seen.add(rec["case_id"])
        values: dict[str, int | None] = {}
        for f in FEATURES:
            v = rec.get(f, "")
            if v == "" and f in TIME_VARYING:
                values[f] = None
            elif v in ("0", "1"):
                values[f] = int(v)
            else:
                need = "0 or 1" if f in STATIC else "0, 1, or blank (not yet known)"
                problems.append(f"{where}: {f}: must be {need} (got {v!r})")
        years = {}
        for c in ("start_year", "origin_year"):
            v = rec.get(c, "")
            if v and not (v.isdigit() and 1945 <= int(v) <= 2100):
                problems.append(f"{where}: {c}: must be a year 1945..2100 (got {v!r})")
            years[c] = int(v) if v.isdigit() else None
        origin = 0
        if years["origin_year"] is not None:
            if years["start_year"] is None:
                problems.append(f"{where}: origin_year: needs start_year (the origin is counted "
                                "in years from the start)")
            elif not 0 <= years["origin_year"] - years["start_year"] <= 4:
                problems.append(f"{where}: origin_year: must lie 0 to 4 years after start_year "
                                f"{years['start_year']} (got {years['origin_year']}), so that "
                                "start + 5 is still ahead")
            else:
                origin = years["origin_year"] - years["start_year"]
        out.append({"case_id": rec["case_id"], "patron": rec.get("patron") or "(unknown patron)",
                    "origin": origin, "start_year": years["start_year"],
                    "static": {f: values.get(f) for f in STATIC},
                    "known": {f: values.get(f) for f in TIME_VARYING}})
    if not out and not problems:
        problems.append(f"{path}: (rows): no cases")
    if problems:
        raise ConfigError(problems)
    return out


def predict(fit: HazardFit, cases: list[dict], *, window_years: int = 5, curve: bool = False
            ) -> pd.DataFrame:
    """P(kept to ``window_years`` | kept to the origin) for each case; with ``curve``, one
    row per whole year from the origin to the window (``year`` column)."""
    import pandas as pd

    tail = (1 - fit.settings.credible_mass) / 2
    rows = []
    for case in cases:
        years = (np.arange(case["origin"], window_years + 1, dtype=float) if curve
                 else np.array([float(window_years)]))
        profile = Profile(case["patron"], case["static"], case["known"])
        s = survival(fit, profile, origin=case["origin"], horizons=years)
        blanks = [f for f, v in case["known"].items() if v is None]
        for j, year in enumerate(years):
            lo, hi = np.quantile(s[:, j], [tail, 1 - tail])
            rows.append({"case_id": case["case_id"], "origin": case["origin"],
                         "year": float(year), "p_kept": float(s[:, j].mean()),
                         "lower": float(lo), "upper": float(hi),
                         "known_group": fit.settings.group(case["patron"]) in fit.patrons,
                         "integrated": ",".join(blanks)})
    return pd.DataFrame(rows)
